"""Each defect of the current, short-circuit and temperature protections, on the bench.

Every test runs the same stimulus with and without the defect, so it shows the defect's
effect and that the healthy board does not show it.
"""

from __future__ import annotations

import math

import pytest

from simlab.firmware import CATALOGUE, parse_defect
from tests.simlab.simworld import Rig, make_rig


def bench(*defects: str) -> Rig:
    rig = make_rig()
    for spec in defects:
        rig.world.add_defect(spec)
    rig.world.advance(1.0)
    return rig


def trip_time(rig: Rig, protection: str) -> float | None:
    for e in rig.world.events()[0]:
        if e.get("protection") == protection and e["kind"] == "trip":
            return float(e["t"])
    return None


def discharge(rig: Rig, amps: float) -> float:
    rig.load.current_set, rig.load.input_on = amps, True
    rig.world.solve()
    return rig.world.t


def test_catalogue_lists_every_protection_defect_with_its_parameters():
    for name in (
        "delay_too_long",
        "threshold_off",
        "release_blocked",
        "latches",
        "no_hysteresis",
        "slow_short_circuit",
        "ignored_ntc",
        "wrong_ocd_level",
        "utc_cuts_discharge",
    ):
        assert name in CATALOGUE, name
    assert parse_defect("delay_too_long:protection=charge_oc,factor=4").params == {
        "protection": "charge_oc",
        "factor": 4.0,
    }
    rig = make_rig()
    with pytest.raises(ValueError, match=r"protection must be one of .*discharge_oc2"):
        rig.world.add_defect("latches:protection=discharge_oc")
    with pytest.raises(ValueError, match=r"ntc must be within 1..2"):
        rig.world.add_defect("ignored_ntc:ntc=3")


def test_delay_too_long():
    healthy, slow = bench(), bench("delay_too_long:protection=discharge_oc1,factor=3")
    for rig in (healthy, slow):
        discharge(rig, 25.0)
        rig.world.advance(5.0)
    assert trip_time(healthy, "discharge_oc1") == pytest.approx(2.1)  # first seen 1.1, 1 s
    assert trip_time(slow, "discharge_oc1") == pytest.approx(4.1)  # 3 s


def test_threshold_off():
    healthy, off = bench(), bench("threshold_off:protection=charge_oc,offset=2.5")
    for rig in (healthy, off):
        rig.charger.voltage_set, rig.charger.current_limit = 58.0, 10.0
        rig.charger.output_on = True
        rig.world.advance(4.0)
    assert trip_time(healthy, "charge_oc") == pytest.approx(3.1)
    assert trip_time(off, "charge_oc") is None  # 10 A is below 8 + 2.5 A


def test_wrong_ocd_level_makes_level_2_as_slow_as_level_1():
    healthy, wrong = bench(), bench("wrong_ocd_level")
    for rig in (healthy, wrong):
        rig.world.advance(0.05)
        t_step = discharge(rig, 35.0)
        rig.world.advance(2.0)
    assert trip_time(healthy, "discharge_oc2") == pytest.approx(t_step + 0.2, abs=1e-9)
    assert trip_time(wrong, "discharge_oc2") == pytest.approx(t_step + 1.0, abs=1e-9)


def test_slow_short_circuit():
    healthy, slow = bench(), bench("slow_short_circuit")
    for rig in (healthy, slow):
        t_close = rig.close_short()
        rig.world.advance(0.01)
    crossing = -1e-4 * math.log(1 - 150 / 5280)
    assert trip_time(healthy, "short_circuit") == pytest.approx(t_close + crossing + 200e-6)
    assert trip_time(slow, "short_circuit") == pytest.approx(t_close + crossing + 600e-6)
    peaks = [
        -rig.world.bench.traces["pack_current"].value(trip_time(rig, "short_circuit"))
        for rig in (healthy, slow)
    ]
    assert peaks[1] > 1.1 * peaks[0]  # the slower trip lets the current rise further


def test_ignored_ntc():
    healthy, blind = bench(), bench("ignored_ntc:ntc=2")
    for rig in (healthy, blind):
        rig.set_ntc(2, 55.0)
        rig.world.advance(3.0)
    assert healthy.state["protections"] == ["charge_ot"]
    assert blind.state["protections"] == [] and blind.state["temperatures_c"][1] == 55.0
    blind.set_ntc(1, 55.0)  # the other input still works
    blind.world.advance(3.0)
    assert blind.state["protections"] == ["charge_ot"]


def test_utc_cuts_discharge():
    healthy, cut = bench(), bench("utc_cuts_discharge")
    for rig in (healthy, cut):
        rig.set_ntc(1, -5.0)
        rig.world.advance(3.0)
        assert rig.state["protections"] == ["charge_ut"] and not rig.state["charge_fet"]
    assert healthy.state["discharge_fet"] and not cut.state["discharge_fet"]


def test_no_hysteresis():
    healthy, none = bench(), bench("no_hysteresis:protection=charge_ot")
    for rig in (healthy, none):
        rig.set_ntc(1, 52.0)
        rig.world.advance(3.0)
        rig.set_ntc(1, 48.0)  # below the trip, above the 45 °C release
        rig.world.advance(3.0)
    assert healthy.state["protections"] == ["charge_ot"]
    assert none.state["protections"] == []


def test_latches_where_it_should_recover():
    healthy, latched = bench(), bench("latches:protection=discharge_oc1")
    for rig in (healthy, latched):
        discharge(rig, 25.0)
        rig.world.advance(3.0)
        rig.load.input_on = False
        rig.world.solve()
        rig.world.advance(40.0)
    assert healthy.state["protections"] == [] and healthy.state["discharge_fet"]
    assert latched.state["protections"] == ["discharge_oc1"]
    assert not latched.state["discharge_fet"]


def test_release_blocked():
    healthy, stuck = bench(), bench("release_blocked:protection=charge_ot")
    for rig in (healthy, stuck):
        rig.set_ntc(2, 52.0)
        rig.world.advance(3.0)
        rig.set_ntc(2, 25.0)
        rig.world.advance(10.0)
    assert healthy.state["protections"] == []
    assert stuck.state["protections"] == ["charge_ot"]


def test_python_m_simlab_defects_lists_the_catalogue(capsys):
    from simlab.__main__ import main

    assert main(["defects"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in CATALOGUE)
    assert "delay_too_long:protection=discharge_oc1,factor=3.0" in out
    assert "wrong_ocd_level\n" in out
