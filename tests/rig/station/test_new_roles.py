"""Thermistors, digitizer, short relay and fault switch roles: limits, units, safe state."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from instruments.accuracy import Accuracy
from instruments.digitizers.capture import Capture, CaptureSettings
from rig.config import load_station
from rig.safety import LimitError
from rig.station.ntc import NtcCurve
from rig.station.roles import (
    DigitizerRole,
    Fault,
    FaultSwitch,
    NtcChannel,
    RoleNotFitted,
    ShortRelay,
    Thermistors,
)

REPO = Path(__file__).resolve().parents[3]
LIMITS = load_station(REPO / "stations" / "sim-16s.yaml").limits
B3435 = NtcCurve(r25_ohm=10_000, beta_k=3435)


class Recorder:
    """Stands in for any driver: records every call, sends nothing."""

    RESISTANCE_RANGE = (0.0, 1e7)

    def __init__(self, replies: dict | None = None):
        self.calls: list[tuple] = []
        self.replies = replies or {}

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, *args))
            return self.replies.get(name)

        return call


def test_b_value_curve_and_table_agree():
    assert B3435.ohms(25.0) == pytest.approx(10_000)
    r0 = 10_000 * math.exp(3435 * (1 / 273.15 - 1 / 298.15))
    assert B3435.ohms(0.0) == pytest.approx(r0)
    assert B3435.celsius(B3435.ohms(-20.0)) == pytest.approx(-20.0)
    table = NtcCurve(table=tuple((t, B3435.ohms(t)) for t in (-40.0, 0.0, 40.0, 100.0)))
    assert table.ohms(12.3) == pytest.approx(B3435.ohms(12.3), rel=1e-9)  # exact for B curves
    assert table.celsius(B3435.ohms(71.0)) == pytest.approx(71.0)
    with pytest.raises(ValueError, match="outside"):
        table.ohms(120.0)
    assert B3435.slope_ohm_per_c(25.0) < 0


def thermistors(driver=None) -> tuple[Thermistors, Recorder]:
    driver = driver or Recorder()
    channels = {n: NtcChannel("ntc", driver, 1, B3435) for n in (1, 2)}
    return Thermistors(channels, LIMITS), driver


def test_temperature_beyond_limit_sends_nothing():
    role, driver = thermistors()
    with pytest.raises(LimitError, match=r"NTC 2 .*85 °C"):
        role.set_temperature(2, 85.0)
    with pytest.raises(LimitError, match="temperature"):
        role.set_resistance(1, 500.0)  # ≈ 107 °C on the B3435 curve
    with pytest.raises(LimitError):
        role.set_all(-35.0)
    assert driver.calls == []
    ohms = role.set_temperature(1, 45.0)
    assert driver.calls == [("set_resistance", 1, ohms)] and ohms == pytest.approx(B3435.ohms(45))
    assert role.temperature(1) == 45.0 and role.temperature(2) is None


def test_resistance_beyond_the_instrument_range_sends_nothing():
    driver = Recorder()
    driver.RESISTANCE_RANGE = (0.0, 100_000.0)
    role, _ = thermistors(driver)
    with pytest.raises(LimitError, match="resistance"):
        role.set_temperature(1, -25.0)  # ≈ 105 kΩ
    assert driver.calls == []


def test_unwired_ntc_and_safe_state():
    role, driver = thermistors()
    with pytest.raises(RoleNotFitted, match="NTC 3"):
        role.set_temperature(3, 25.0)
    role.make_safe()
    assert [c[0] for c in driver.calls] == ["set_resistance", "set_output"] * 2
    assert driver.calls[0][2] == pytest.approx(10_000)


def test_temperature_band_from_resistance_accuracy():
    driver = Recorder({"accuracy": Accuracy(0.01, 0.1, 1e5, "x")})
    role, _ = thermistors(driver)
    band = role.temperature_band(1, 25.0)
    assert band == pytest.approx((1e-4 * 10_000 + 0.1) / abs(B3435.slope_ohm_per_c(25.0)))


def test_digitizer_converts_levels_and_samples_with_the_wired_scale():
    settings = CaptureSettings(1e-6, 5, 2, 0.4)
    capture = Capture(np.array([0.0, 0.0, 0.15, 0.3, 0.0]), 1e-6, 2, "scope")
    driver = Recorder(
        {"configure_capture": settings, "fetch": capture, "acquisition_state": "complete"}
    )
    role = DigitizerRole("scope", driver, 1, "discharge_current", 0.001)
    assert role.arm(150.0, True, 1e-6, 5, 2, full_scale=400.0) is settings
    assert driver.calls[:3] == [
        ("configure_capture", 1, 0.4, 1e-6, 5, 2),
        ("set_trigger", 1, 0.15, True),
        ("arm",),
    ]
    trace = role.fetch()
    driver.replies["acquisition_state"] = "triggered"
    with pytest.raises(RuntimeError, match="not complete"):
        role.fetch()
    assert list(trace.values) == pytest.approx([0, 0, 150, 300, 0]) and trace.unit == "A"
    assert list(trace.times_s) == pytest.approx([-2e-6, -1e-6, 0, 1e-6, 2e-6])
    with pytest.raises(ValueError, match="beyond full scale"):
        role.arm(500.0, full_scale=400.0)


def test_short_relay_and_faults():
    driver = Recorder({"closed": [True]})
    short = ShortRelay("daq", driver, 101)
    short.close()
    assert short.is_closed()
    short.make_safe()
    assert driver.calls == [("close", [101]), ("closed", [101]), ("open", [101])]
    faults = FaultSwitch(
        {
            "ntc_1_open": Fault("ntc_1_open", "daq", driver, 104, "open_ntc", 1),
            "cell_5_sense_open": Fault(
                "cell_5_sense_open", "daq", driver, 102, "open_cell_sense", 5
            ),
        }
    )
    assert faults.find("open_cell_sense", 5).channel == 102
    faults.insert("ntc_1_open")
    with pytest.raises(RoleNotFitted, match="no fault 'nope'"):
        faults.insert("nope")
    driver.calls.clear()
    faults.make_safe()
    assert driver.calls == [("open", [104, 102])]  # one message per switch


def test_a_relay_that_will_not_open_is_named_and_keeps_no_other_closed():
    class Stuck:
        def __init__(self):
            self.opened = []

        def open(self, channels):
            if 102 in channels:
                raise RuntimeError("relay 102 welded")
            self.opened += channels

    driver = Stuck()
    faults = FaultSwitch(
        {
            name: Fault(name, "daq", driver, channel, "open_cell_sense", target)
            for name, channel, target in (("a", 101, 1), ("b", 102, 2), ("c", 103, 3))
        }
    )
    with pytest.raises(RuntimeError, match=r"^b: relay 102 welded$"):
        faults.make_safe()
    assert driver.opened == [101, 103]
