"""Discharge under-temperature: trip and release temperatures and delay, on every NTC
input.

Method: the thermistor emulator programs the resistance the NTC has at each temperature
(its curve from the station file), the other NTCs at 25 °C; the load's current stops as
the NTC cools past the threshold. Threshold and release by ramp and bisection on the
emulated temperature (read back as resistance through the curve), the delay by polling
after a step clearly beyond the band. The BMS's own flag and FET report are judged
separately.
"""

import pytest

from test_plans._temperature import DISCHARGE_UT, threshold_and_release, trip_delay

pytestmark = [
    pytest.mark.protection("discharge_ut"),
    pytest.mark.clause("UL 1973 20", "UL 2271 temperature"),
    pytest.mark.needs("thermistors"),
    pytest.mark.quick,
]


def test_discharge_ut_threshold_and_release(ntc, station, dut, clock, spec, record, ready):
    threshold_and_release(DISCHARGE_UT, ntc, station, dut, clock, spec, record, ready)


def test_discharge_ut_trip_delay(ntc, station, dut, clock, spec, record, ready):
    trip_delay(DISCHARGE_UT, ntc, station, dut, clock, spec, record, ready)
