"""The firmware model: scans, protection timing, release, defects, determinism."""

from __future__ import annotations

import pytest

from simlab.firmware import CATALOGUE, parse_defect
from tests.simlab.simworld import make_rig


def first_time(rig, predicate, step=0.05, limit=20.0):
    """Advance in `step`s until predicate(state) holds; the virtual time it first held."""
    end = rig.world.t + limit
    while rig.world.t < end:
        rig.world.advance(step)
        if predicate(rig.state):
            return rig.world.t
    raise AssertionError("never happened")


def settled():
    rig = make_rig()
    rig.world.advance(1.0)  # scans at 0.0 .. 1.0 see 3.3 V everywhere
    return rig


def test_ov_trips_exactly_at_first_scan_after_delay():
    rig = settled()
    rig.set_cell(5, 3.7)  # first seen by the scan at 1.1
    t = first_time(rig, lambda s: not s["charge_fet"], step=0.01)
    assert t == pytest.approx(3.1)
    assert rig.state["protections"] == ["cell_ov"] and rig.state["protection_bits"] == 1
    assert rig.state["discharge_fet"] is True
    assert (
        rig.world.events()[0]
        == (
            [{"t": 3.1, "kind": "trip", "protection": "cell_ov", "cell": 5, "value": 3.7}],
            1,
        )[0]
    )


def test_a_scan_without_the_condition_resets_the_timer():
    rig = settled()
    rig.set_cell(1, 3.7)
    rig.world.advance(1.5)  # seen at 1.1 .. 2.5
    rig.set_cell(1, 3.3)
    rig.world.advance(0.1)  # scan at 2.6 clears it
    rig.set_cell(1, 3.7)  # seen again at 2.7
    t = first_time(rig, lambda s: not s["charge_fet"], step=0.01)
    assert t == pytest.approx(4.7)


def test_ov_threshold_is_inclusive_and_release_needs_below_release_v():
    rig = settled()
    rig.set_cell(3, 3.649)
    rig.world.advance(5)
    assert rig.state["charge_fet"]
    rig.set_cell(3, 3.65)
    rig.world.advance(2.1)
    assert not rig.state["charge_fet"]
    rig.set_cell(3, 3.40)  # not below release_v
    rig.world.advance(5)
    assert not rig.state["charge_fet"]
    rig.set_cell(3, 3.399)
    t0 = rig.world.t
    t = first_time(rig, lambda s: s["charge_fet"], step=0.01)
    assert t == pytest.approx(t0 + 0.1)  # next scan (release_delay_s 0)
    kinds = [(e["kind"], e["protection"]) for e in rig.world.events()[0]]
    assert kinds == [("trip", "cell_ov"), ("release", "cell_ov")]


def test_release_delay_and_latching():
    rig = settled()
    rig.world.set("firmware.cell_ov.release_delay_s", 1.0)
    rig.set_cell(2, 3.7)
    rig.world.advance(3)
    rig.set_cell(2, 3.3)
    t0 = rig.world.t
    assert first_time(rig, lambda s: s["charge_fet"], step=0.01) == pytest.approx(t0 + 1.1)
    rig.world.set("firmware.cell_ov.latching", True)
    rig.set_cell(2, 3.7)
    rig.world.advance(3)
    rig.set_cell(2, 3.3)
    rig.world.advance(10)
    assert rig.state["protections"] == ["cell_ov"]


def test_uv_trips_discharge_fet_and_releases_above_release_v():
    rig = settled()
    rig.set_cell(16, 2.45)
    t = first_time(rig, lambda s: not s["discharge_fet"], step=0.01)
    assert t == pytest.approx(3.1)
    assert rig.state["charge_fet"] and rig.state["protection_bits"] == 2
    ev = rig.world.events()[0][0]
    assert (ev["protection"], ev["cell"], ev["value"]) == ("cell_uv", 16, 2.45)
    rig.set_cell(16, 2.9)
    rig.world.advance(3)
    assert not rig.state["discharge_fet"]
    rig.set_cell(16, 2.901)
    rig.world.advance(0.1)
    assert rig.state["discharge_fet"]


def test_pack_protections():
    rig = settled()
    rig.set_cells(3.66)
    rig.world.advance(2.2)
    assert set(rig.state["protections"]) == {"cell_ov", "pack_ov"}
    assert rig.state["protection_bits"] == 0b101
    rig.set_cells(2.4)
    rig.world.advance(2.2)
    assert set(rig.state["protections"]) == {"cell_uv", "pack_uv"}
    assert rig.state["protection_bits"] == 0b1010
    ev = next(e for e in rig.world.events()[0] if e["protection"] == "pack_uv")
    assert ev["cell"] is None and ev["value"] == pytest.approx(16 * 2.4)


def test_adc_quantisation_and_unpowered_cells():
    rig = make_rig(noise=0.0)
    rig.set_cell(1, 3.3004)
    rig.cells[2].output_on = False
    rig.world.advance(0)
    readings = rig.state["readings_v"]
    assert readings[0] == 3.3 and readings[2] == 0.0 and readings[1] == 3.3


def test_noise_is_seeded():
    def readings(seed):
        rig = make_rig(seed=seed, noise=None)
        rig.world.advance(0.5)
        return rig.state["readings_v"]

    a, b, c = readings(7), readings(7), readings(8)
    assert a == b and a != c
    assert all(abs(r - 3.3) <= 0.004 for r in a)
    assert len(set(a)) > 1


def test_coulomb_counting_and_cycles():
    rig = settled()
    rig.charger.voltage_set, rig.charger.output_on = 53.5, True
    soc0 = rig.state["soc"]
    rig.world.advance(360)  # 5 A for 0.1 h
    assert rig.state["remaining_ah"] == pytest.approx(50.5, abs=0.01)
    assert rig.state["soc"] > soc0
    rig.charger.output_on = False
    rig.world.set("firmware.full_capacity_ah", 1.0)
    for level in ("discharge_oc1", "discharge_oc2"):  # 40 A is an over-current by default
        rig.world.set(f"firmware.{level}.threshold_a", 45.0)
    rig.load.current_set, rig.load.input_on = 40.0, True
    rig.world.advance(100)  # 1.1 Ah out
    assert rig.state["remaining_ah"] == 0.0 and rig.world.truth()["state"]["cycles"] == 1


def test_fet_control_acts_at_once():
    rig = settled()
    rig.world.fet_control(disable_charge=True, disable_discharge=False)
    assert not rig.state["charge_fet"] and rig.state["discharge_fet"]
    assert rig.state["protection_bits"] == 0
    rig.world.fet_control(False, False)
    assert rig.state["charge_fet"]


def test_scan_period_parameter():
    rig = settled()
    rig.world.set("firmware.scan_period_s", 0.5)
    rig.set_cell(1, 3.7)  # next scan at 1.5
    t = first_time(rig, lambda s: not s["charge_fet"], step=0.1)
    assert t == pytest.approx(3.5)


# -- parameters -----------------------------------------------------------------------


def test_parameter_paths_and_errors():
    rig = make_rig()
    w = rig.world
    params = w.parameters()
    for path in (
        "firmware.scan_period_s",
        "firmware.adc_noise_v",
        "firmware.adc_resolution_v",
        "firmware.cell_ov.threshold_v",
        "firmware.cell_ov.delay_s",
        "firmware.cell_ov.release_v",
        "firmware.cell_ov.release_delay_s",
        "firmware.cell_uv.latching",
        "firmware.pack_ov.threshold_v",
        "physics.r_path_ohm",
    ):
        assert path in params
    assert w.get("firmware.cell_ov.threshold_v") == 3.65
    assert w.set("firmware.cell_ov.delay_s", 3) == 2.0
    assert w.get("firmware.cell_ov.delay_s") == 3.0
    with pytest.raises(KeyError, match=r"firmware\.cell_ov\.delay_s"):
        w.set("firmware.cell_ov.dealy_s", 1.0)
    with pytest.raises(KeyError, match="valid paths"):
        w.get("nothing")
    with pytest.raises(ValueError, match="number"):
        w.set("firmware.cell_ov.delay_s", "fast")
    with pytest.raises(ValueError, match="number"):
        w.set("firmware.cell_ov.delay_s", True)
    with pytest.raises(ValueError, match="true/false"):
        w.set("firmware.cell_ov.latching", 1)
    with pytest.raises(ValueError, match=">= 0"):
        w.set("firmware.cell_ov.delay_s", -1.0)
    assert w.get("firmware.cell_ov.delay_s") == 3.0


# -- defects --------------------------------------------------------------------------


def trip_time(defects=(), cell=1, volts=3.7, fet="charge_fet"):
    rig = settled()
    for d in defects:
        rig.world.add_defect(d)
    rig.set_cell(cell, volts)
    try:
        return first_time(rig, lambda s: not s[fet], step=0.1, limit=10)
    except AssertionError:
        return None


def test_defect_catalogue_and_parsing():
    assert {
        "slow_ov_delay",
        "slow_uv_delay",
        "ov_threshold_high",
        "ignored_cell",
        "no_ov_release",
        "no_uv_release",
        "adc_offset",
        "stuck_charge_fet",
        "stuck_discharge_fet",
    } <= set(CATALOGUE)
    d = parse_defect("adc_offset:offset_v=-0.02,cell=5")
    assert d.params == {"offset_v": -0.02, "cell": 5}
    assert parse_defect("slow_ov_delay").params == {"factor": 2.0}
    with pytest.raises(ValueError, match=r"available: .*slow_ov_delay"):
        parse_defect("slow_delay")
    with pytest.raises(ValueError, match="parameters: factor"):
        parse_defect("slow_ov_delay:fctor=3")
    with pytest.raises(ValueError, match="number"):
        parse_defect("slow_ov_delay:factor=abc")
    with pytest.raises(ValueError, match="cell must be within"):
        make_rig().world.add_defect("ignored_cell:cell=17")


def test_slow_delays():
    assert trip_time() == pytest.approx(3.1)
    assert trip_time(["slow_ov_delay"]) == pytest.approx(5.1)
    assert trip_time(["slow_ov_delay:factor=1.5"]) == pytest.approx(4.1)
    assert trip_time(["slow_uv_delay:factor=3"], volts=2.4, fet="discharge_fet") == pytest.approx(
        7.1
    )


def test_threshold_defects():
    assert trip_time(["ov_threshold_high"], volts=3.69) is None
    assert trip_time(["ov_threshold_high"], volts=3.70) == pytest.approx(3.1)
    assert trip_time(["uv_threshold_low"], volts=2.46, fet="discharge_fet") is None


def test_ignored_cell():
    assert trip_time(["ignored_cell"], cell=16) is None
    assert trip_time(["ignored_cell"], cell=15) == pytest.approx(3.1)
    assert trip_time(["ignored_cell:cell=3"], cell=3, volts=2.0, fet="discharge_fet") is None


def test_missing_release_defects():
    for defect, volts, fet in (
        ("no_ov_release", 3.7, "charge_fet"),
        ("no_uv_release", 2.4, "discharge_fet"),
    ):
        rig = settled()
        rig.world.add_defect(defect)
        rig.set_cell(4, volts)
        rig.world.advance(3)
        assert not rig.state[fet]
        rig.set_cell(4, 3.3)
        rig.world.advance(10)
        assert not rig.state[fet]
        rig.world.clear_defects()
        rig.world.advance(0.1)
        assert rig.state[fet]


def test_adc_offset():
    rig = settled()
    rig.world.add_defect("adc_offset")
    rig.world.advance(0.1)
    assert rig.state["readings_v"] == [3.33] * 16
    assert rig.state["cells_v"] == [3.3] * 16  # the truth is untouched
    rig.world.clear_defects()
    rig.world.add_defect("adc_offset:offset_v=-0.1,cell=2")
    rig.world.advance(0.1)
    assert rig.state["readings_v"][:3] == [3.3, 3.2, 3.3]
    assert trip_time(["adc_offset"], volts=3.625) == pytest.approx(3.1)


def test_stuck_fets():
    rig = settled()
    rig.world.add_defect("stuck_charge_fet")
    rig.charger.voltage_set, rig.charger.output_on = 60.0, True
    rig.set_cell(1, 3.7)
    rig.world.advance(3)
    assert rig.state["protections"] == ["cell_ov"] and rig.state["charge_fet"]
    assert rig.state["charger_a"] == pytest.approx(5.0)  # still charging
    assert trip_time(["stuck_discharge_fet"], volts=2.0, fet="discharge_fet") is None


def test_defects_listing():
    w = make_rig().world
    w.add_defect("slow_ov_delay:factor=3")
    info = w.defects()
    assert info["active"] == ["slow_ov_delay:factor=3.0"]
    assert set(info["available"]) == set(CATALOGUE)
    assert all(isinstance(v, str) for v in info["available"].values())


def test_event_log_since():
    rig = settled()
    rig.set_cell(1, 3.7)
    rig.world.advance(3)
    rig.set_cell(1, 3.3)
    rig.world.advance(1)
    events, nxt = rig.world.events(0)
    assert nxt == 2 and [e["kind"] for e in events] == ["trip", "release"]
    assert rig.world.events(1)[0] == events[1:]
    assert rig.world.events(2) == ([], 2)
    with pytest.raises(ValueError):
        rig.world.events(-1)


def test_welded_fets_conduct_while_reported_open():
    rig = settled()
    rig.world.add_defect("welded_charge_fet")
    rig.charger.voltage_set, rig.charger.output_on = 60.0, True
    rig.set_cell(1, 3.7)
    rig.world.advance(3)
    state = rig.state
    assert state["protections"] == ["cell_ov"]
    assert state["charge_fet"] is False  # what the firmware drives and reports
    assert state["charge_fet_conducts"] is True
    assert state["charger_a"] == pytest.approx(5.0)  # the power path still charges

    rig = settled()
    rig.world.add_defect("welded_discharge_fet")
    rig.load.mode, rig.load.current_set, rig.load.input_on = "CC", 2.0, True
    rig.set_cell(2, 2.4)
    rig.world.advance(3)
    assert rig.state["discharge_fet"] is False and rig.state["load_a"] == pytest.approx(2.0)


def test_unreported_flag_still_opens_the_fet():
    rig = settled()
    rig.world.add_defect("unreported_flag:protection=cell_ov")
    rig.set_cell(1, 3.7)
    rig.world.advance(3)
    assert rig.state["protections"] == ["cell_ov"]  # the truth
    assert rig.state["protection_bits"] == 0  # what the BMS says
    assert rig.state["charge_fet"] is False
    assert rig.world.bms_status().protection_bits == 0
    with pytest.raises(ValueError, match="protection must be one of"):
        rig.world.add_defect("unreported_flag:protection=nope")


def test_swapped_wiring_moves_the_reading_to_the_other_position():
    rig = settled()
    rig.world.add_defect("swapped_wiring:a=1,b=5")
    rig.set_cell(1, 3.25)
    rig.world.advance(0.2)
    readings = rig.state["readings_v"]
    assert readings[4] == pytest.approx(3.25) and readings[0] == pytest.approx(3.3)
    assert rig.state["cells_v"][0] == pytest.approx(3.25)  # the bench itself is unchanged
    with pytest.raises(ValueError, match="b must be within"):
        rig.world.add_defect("swapped_wiring:a=1,b=17")


def test_power_loss_resets_the_firmware():
    rig = settled()
    rig.world.add_defect("no_ov_release")
    rig.set_cell(1, 3.7)
    rig.world.advance(3)
    assert rig.state["protections"] == ["cell_ov"]
    for ch in rig.cells:
        ch.output_on = False
    rig.world.advance(0.2)
    assert rig.state["bms_running"] is False
    assert rig.state["charge_fet"] is False and rig.state["discharge_fet"] is False
    assert rig.state["protections"] == []
    assert rig.world.bms_powered() is False
    rig.set_cells(3.3)  # outputs back on at nominal
    rig.world.advance(0.3)
    assert rig.state["bms_running"] is False  # still booting (boot_s = 0.5)
    rig.world.advance(0.4)
    assert rig.state["bms_running"] is True
    rig.world.advance(0.2)
    assert rig.state["charge_fet"] and rig.state["discharge_fet"]
    kinds = [e["kind"] for e in rig.world.events()[0]]
    assert kinds[-3:] == ["power_off", "power_on", "boot"]
