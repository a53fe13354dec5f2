"""NTC inputs read through the divider and ADC, and the temperature protections."""

from __future__ import annotations

import math

import pytest

from simlab.firmware.model import NtcParams
from tests.simlab.simworld import Rig, make_rig


def settled() -> Rig:
    rig = make_rig()
    rig.world.advance(1.0)
    return rig


def after(rig: Rig, ntc: int, celsius: float, dt: float = 3.0) -> dict:
    rig.set_ntc(ntc, celsius)
    rig.world.advance(dt)
    return rig.state


def test_the_board_reads_its_ntc_curve_through_a_12_bit_divider():
    ntc = NtcParams()
    assert ntc.ohms_at(25.0) == pytest.approx(10_000)
    for celsius in (-30.0, -20.0, 0.0, 25.0, 45.0, 60.0, 80.0):
        assert ntc.read(ntc.ohms_at(celsius)) == pytest.approx(celsius, abs=0.25)
    assert ntc.read(math.inf) == -40.0 and ntc.read(0.0) == 120.0  # open / shorted line
    rig = settled()
    assert rig.state["temperatures_c"] == [25.0, 25.0]
    rig.faults["ntc_2_open"].closed = True
    rig.faults["ntc_1_short"].closed = True
    rig.world.advance(0.2)
    assert rig.state["temperatures_c"] == [120.0, -40.0]


def test_charge_over_temperature_trips_after_2_s_and_releases_at_its_hysteresis():
    rig = settled()
    assert after(rig, 1, 49.5)["protections"] == []
    state = after(rig, 1, 50.5)
    assert state["protections"] == ["charge_ot"] and state["protection_bits"] == 1 << 4
    assert not state["charge_fet"] and state["discharge_fet"]
    assert after(rig, 1, 46.0)["protections"] == ["charge_ot"]  # between 45 and 50 °C
    assert after(rig, 1, 44.0)["protections"] == []
    events = [e for e in rig.world.events()[0] if e.get("protection") == "charge_ot"]
    assert [(e["kind"], e["cell"]) for e in events] == [("trip", 1), ("release", 1)]
    assert events[0]["value"] == pytest.approx(50.5, abs=0.2)


def test_lfp_refuses_charge_below_0_c_but_keeps_discharging():
    rig = settled()
    state = after(rig, 2, -5.0)
    assert state["protections"] == ["charge_ut"] and state["protection_bits"] == 1 << 5
    assert not state["charge_fet"] and state["discharge_fet"]
    state = after(rig, 2, -25.0)
    assert set(state["protections"]) == {"charge_ut", "discharge_ut"}
    assert not state["discharge_fet"] and state["protection_bits"] == (1 << 5) | (1 << 7)
    state = after(rig, 2, 2.0)  # discharge UT released at -15, charge UT not yet (5 °C)
    assert state["protections"] == ["charge_ut"] and state["discharge_fet"]


def test_discharge_over_temperature_on_the_hottest_ntc():
    rig = settled()
    rig.set_ntc(1, 40.0)
    state = after(rig, 2, 61.0)
    assert set(state["protections"]) == {"charge_ot", "discharge_ot"}
    assert not state["charge_fet"] and not state["discharge_fet"]
    assert state["protection_bits"] == (1 << 4) | (1 << 6)
    assert after(rig, 2, 54.0)["protections"] == ["charge_ot"]
