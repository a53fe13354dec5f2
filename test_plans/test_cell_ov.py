"""Cell over-voltage: threshold, release point and trip delay against the DUT spec."""

import pytest

from test_plans._cell_voltage import OV, threshold_and_release, trip_delay

pytestmark = [
    pytest.mark.protection("cell_ov"),
    pytest.mark.clause("IEC 62619 8.2.2", "UL 1973 15"),
    pytest.mark.quick,
]


def test_cell_ov_threshold_and_release(cell, station, dut, clock, spec, record):
    threshold_and_release(OV, cell, station, dut, clock, spec, record)


def test_cell_ov_trip_delay(cell, station, dut, clock, spec, record):
    trip_delay(OV, cell, station, dut, clock, spec, record)
