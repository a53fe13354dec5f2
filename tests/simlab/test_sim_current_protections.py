"""Current protections in the firmware and the front end, and the short-circuit loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.simlab.simworld import Rig, make_rig

TAU = 1e-6 / 0.010  # default short loop: 1 µH, 10 mΩ
EMF = 16 * 3.3


def settled() -> Rig:
    rig = make_rig()
    rig.world.advance(1.0)  # scans at 0.0 .. 1.0, nothing flowing
    return rig


def charge(rig: Rig, amps: float) -> None:
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 58.0, amps, True
    rig.world.solve()


def discharge(rig: Rig, amps: float) -> None:
    rig.load.current_set, rig.load.input_on = amps, True
    rig.world.solve()


def trips(rig: Rig) -> list[tuple[float, str, str]]:
    return [
        (e["t"], e["kind"], e["protection"]) for e in rig.world.events()[0] if "protection" in e
    ]


def test_charge_over_current_trips_after_its_delay_and_recovers_after_32_s():
    rig = settled()
    charge(rig, 10.0)  # first seen by the scan at 1.1
    rig.world.advance(40.0)
    assert trips(rig)[:3] == [
        (pytest.approx(3.1), "trip", "charge_oc"),
        (pytest.approx(35.1), "release", "charge_oc"),
        (pytest.approx(37.2), "trip", "charge_oc"),  # the charger is still there
    ]
    assert rig.state["protection_bits"] == 1 << 8 and not rig.state["charge_fet"]
    assert rig.state["discharge_fet"] and rig.state["charger_a"] == 0.0


def test_charge_over_current_below_threshold_and_recovery_on_charger_removal():
    rig = settled()
    charge(rig, 7.9)
    rig.world.advance(10.0)
    assert trips(rig) == []
    rig.world.set("firmware.charge_oc.recovery", "charger_removed")
    rig.world.set("firmware.charge_oc.release_delay_s", 1.0)
    charge(rig, 10.0)
    rig.world.advance(60.0)
    assert [k for _, k, _ in trips(rig)] == ["trip"]  # the charger stays: no recovery
    rig.charger.output_on = False
    t_off = rig.world.t
    rig.world.advance(5.0)
    release = trips(rig)[-1]
    assert release[1:] == ("release", "charge_oc") and t_off + 1.0 <= release[0] <= t_off + 1.2
    with pytest.raises(ValueError, match="recovery must be one of"):
        rig.world.set("firmware.charge_oc.recovery", "never")


def test_discharge_level_1_is_a_firmware_scan_and_level_2_the_front_end_to_the_instant():
    rig = settled()
    discharge(rig, 25.0)  # above OCD1 (20 A), below OCD2 (30 A)
    rig.world.advance(3.0)
    assert trips(rig) == [(pytest.approx(2.1), "trip", "discharge_oc1")]
    assert rig.state["protection_bits"] == 1 << 9 and not rig.state["discharge_fet"]

    rig = settled()
    rig.world.advance(0.0123)  # between scans: the front end does not wait for one
    t_step = rig.world.t
    discharge(rig, 35.0)
    rig.world.advance(3.0)
    assert trips(rig) == [(pytest.approx(t_step + 0.2, abs=1e-9), "trip", "discharge_oc2")]
    assert rig.state["protection_bits"] == 1 << 9  # both levels report discharge_oc
    assert rig.state["load_a"] == 0.0


def test_a_current_that_drops_before_the_delay_does_not_trip_the_front_end():
    rig = settled()
    discharge(rig, 35.0)
    rig.world.advance(0.15)
    rig.load.input_on = False
    rig.world.solve()
    rig.world.advance(1.0)
    discharge(rig, 35.0)  # the comparator starts again from zero
    t_step = rig.world.t
    rig.world.advance(1.0)
    assert trips(rig) == [(pytest.approx(t_step + 0.2, abs=1e-9), "trip", "discharge_oc2")]


def test_short_circuit_rises_with_the_loop_time_constant_and_trips_in_hardware():
    rig = settled()
    rig.world.advance(0.0417)
    t_close = rig.close_short()
    rig.world.advance(0.001)
    t_cross = t_close - TAU * math.log(1 - 150.0 / (EMF / 0.010))  # 150 A on the RL rise
    [(t_trip, kind, name)] = trips(rig)
    assert (kind, name) == ("trip", "short_circuit")
    # (the shunt warms in a kA short: a reading some 1e-4 high moves the trip by ps)
    assert t_trip == pytest.approx(t_cross + 200e-6, abs=1e-11)
    trace = rig.world.bench.traces["pack_current"]
    peak = EMF / 0.010 * (1 - math.exp(-(t_trip - t_close) / TAU))
    assert -trace.value(t_trip) == pytest.approx(peak, rel=1e-9)
    assert trace.value(t_trip + 1e-6) == pytest.approx(-peak / 2, rel=1e-6)  # 2 µs fall
    assert trace.value(t_trip + 2e-6) == 0.0
    samples = -trace.values(t_close + np.arange(0, 300e-6, 1e-6))
    assert np.all(np.diff(samples[: int((t_trip - t_close) / 1e-6)]) > 0)
    assert rig.state["protection_bits"] == 1 << 10 and not rig.state["discharge_fet"]


def test_short_circuit_recovers_after_5_s_and_trips_again_on_a_short_still_there():
    rig = settled()
    t_close = rig.close_short()
    rig.world.advance(10.0)
    kinds = [(k, round(t - t_close, 6)) for t, k, _ in trips(rig)]
    first = kinds[0][1]
    assert kinds[0][0] == "trip" and kinds[1][0] == "release"
    assert 5.0 <= kinds[1][1] <= 5.0 + first + 0.1  # at the first scan 5 s after the trip
    assert kinds[2][0] == "trip" and kinds[2][1] - kinds[1][1] == pytest.approx(first, abs=1e-9)
    rig.short.closed = False
    rig.world.solve()
    rig.world.advance(6.0)
    assert rig.state["protections"] == [] and rig.state["discharge_fet"]


def test_latching_short_circuit_needs_a_power_cycle():
    rig = settled()
    rig.world.set("firmware.short_circuit.latching", True)
    rig.close_short()
    rig.world.advance(0.001)
    rig.short.closed = False
    rig.world.solve()
    rig.world.advance(30.0)
    assert rig.state["protections"] == ["short_circuit"]
    rig.set_cells(0.0)  # the pack goes away: the board browns out
    rig.world.advance(1.0)
    rig.set_cells(3.3)
    rig.world.advance(1.0)
    assert rig.state["protections"] == [] and rig.state["discharge_fet"]


def test_short_with_a_closing_delay_and_no_current_while_the_discharge_fet_is_off():
    rig = settled()
    rig.world.set("physics.short.close_delay_s", 0.005)
    rig.world.fet_control(disable_charge=False, disable_discharge=True)
    rig.close_short()
    rig.world.advance(0.5)
    assert trips(rig) == [] and rig.state["short_a"] == 0.0
    rig.world.fet_control(disable_charge=False, disable_discharge=False)
    t_on = rig.world.t
    rig.world.advance(0.01)
    [(t_trip, _, name)] = trips(rig)
    assert name == "short_circuit" and t_trip > t_on  # contacts long closed: trips at once
    rig = settled()
    rig.world.set("physics.short.close_delay_s", 0.005)
    t_cmd = rig.close_short()
    rig.world.advance(0.01)
    [(t_trip, _, _)] = trips(rig)
    assert t_trip == pytest.approx(t_cmd + 0.005 + 2.88e-6 + 200e-6, abs=1e-7)
