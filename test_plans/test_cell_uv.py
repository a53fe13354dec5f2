"""Cell under-voltage: threshold, release point and trip delay against the DUT spec."""

import pytest

from test_plans._cell_voltage import UV, threshold_and_release, trip_delay

pytestmark = [
    pytest.mark.protection("cell_uv"),
    pytest.mark.clause("UL 1973 19"),
    pytest.mark.quick,
]


def test_cell_uv_threshold_and_release(cell, station, dut, clock, spec, record):
    threshold_and_release(UV, cell, station, dut, clock, spec, record)


def test_cell_uv_trip_delay(cell, station, dut, clock, spec, record):
    trip_delay(UV, cell, station, dut, clock, spec, record)
