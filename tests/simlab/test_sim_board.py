"""The board's own draw, its sleep and wake-up, and its FETs' heating."""

from __future__ import annotations

import pytest

from tests.simlab.simworld import Rig, make_rig


def idle(seed: int = 0) -> Rig:
    rig = make_rig(seed)
    rig.world.advance(1.0)
    return rig


def test_every_cell_sources_the_boards_draw_and_it_falls_asleep_after_its_idle_timer():
    rig = idle()
    w = rig.world
    assert [ch.current_meas for ch in rig.cells] == [pytest.approx(0.015)] * 16
    w.advance(3600 - 1.0 - 0.2)
    assert not rig.state["asleep"]
    w.advance(0.4)
    state = rig.state
    assert state["asleep"] and not state["charge_fet"] and not state["discharge_fet"]
    assert rig.cells[0].current_meas == pytest.approx(0.0001)
    (sleep,) = [e for e in w.events()[0] if e["kind"] == "sleep"]
    assert sleep["t"] == pytest.approx(3600.0, abs=0.11)


def test_a_host_request_wakes_it_and_goes_unanswered_a_charger_wakes_it_too():
    rig = idle()
    w = rig.world
    w.advance(4000)
    assert rig.state["asleep"]
    assert w.bms_powered() is False  # the request that wakes it gets no answer
    assert w.bms_powered() is True and not rig.state["asleep"]
    assert rig.cells[0].current_meas == pytest.approx(0.015)
    w.advance(3700)
    assert rig.state["asleep"]
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 54.0, 0.5, True
    w.solve()
    w.advance(0.3)
    assert not rig.state["asleep"] and rig.state["charger_a"] == pytest.approx(0.5)


def test_current_or_traffic_starts_the_idle_timer_again():
    rig = idle()
    w = rig.world
    w.advance(3000)
    w.bms_powered()
    w.advance(3000)
    assert not rig.state["asleep"]
    rig.load.mode, rig.load.current_set, rig.load.input_on = "CC", 1.0, True
    w.solve()
    w.advance(7200)
    assert not rig.state["asleep"]


def test_skipping_quiet_scans_changes_nothing_the_board_does():
    a, b = idle(3), idle(3)
    b.world.set("firmware.scan_period_s", 0.1)
    # a: one long advance (quiet spans skipped); b: in small steps (every scan)
    a.world.advance(3700)
    for _ in range(37):
        b.world.advance(100)
    sa = [e for e in a.world.events()[0] if e["kind"] == "sleep"]
    sb = [e for e in b.world.events()[0] if e["kind"] == "sleep"]
    assert sa == sb and len(sa) == 1


def test_hot_fets_reach_the_over_temperature_protection_which_cuts_both_paths():
    rig = idle()
    w = rig.world
    # a board whose FETs dissipate 1.8 W at 2.5 A (27 K over 15 K/W), their parts 3 x that
    w.set("physics.fet.r_on_ohm", 0.288)
    w.set("physics.fet.rth_k_w", 15.0)
    w.set("physics.fet.tau_s", 300.0)
    w.add_defect("hot_fets:factor=3")
    rig.load.mode, rig.load.current_set, rig.load.input_on = "CC", 2.5, True
    w.solve()
    trip = None
    while trip is None and w.t < 3600:
        w.advance(1.0)
        trips = [e for e in w.events()[0] if e.get("protection") == "fet_ot"]
        trip = trips[0] if trips else None
    assert trip is not None and trip["value"] == pytest.approx(90.0, abs=0.2)
    state = rig.state
    assert "fet_ot" in state["protections"]
    assert not state["charge_fet"] and not state["discharge_fet"]
    assert rig.load.current_meas == 0.0


def test_defects_a_high_draw_and_a_board_that_never_sleeps():
    rig = idle()
    rig.world.add_defect("standby_current_high:factor=10")
    rig.world.solve()
    assert rig.cells[0].current_meas == pytest.approx(0.15)
    rig.world.add_defect("never_sleeps")
    rig.world.advance(8000)
    assert not rig.state["asleep"]
