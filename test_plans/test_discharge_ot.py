"""Discharge over-temperature: trip and release temperatures and delay, on every NTC input.

Method: the thermistor emulator programs the resistance the NTC has at each temperature
(its curve from the station file), the other NTCs at 25 °C; the load's current stops as
the NTC warms past the threshold. Threshold and release by ramp and bisection on the
emulated temperature (read back as resistance through the curve), the delay by polling
after a step clearly beyond the band. The BMS's own flag and FET report are judged
separately.
"""

import pytest

from test_plans._temperature import DISCHARGE_OT, threshold_and_release, trip_delay

pytestmark = [
    pytest.mark.protection("discharge_ot"),
    pytest.mark.clause("IEC 62619 8.2.4", "UL 2271 temperature"),
    pytest.mark.needs("thermistors"),
    pytest.mark.quick,
]


def test_discharge_ot_threshold_and_release(ntc, station, dut, clock, spec, record, ready):
    threshold_and_release(DISCHARGE_OT, ntc, station, dut, clock, spec, record, ready)


def test_discharge_ot_trip_delay(ntc, station, dut, clock, spec, record, ready):
    trip_delay(DISCHARGE_OT, ntc, station, dut, clock, spec, record, ready)
