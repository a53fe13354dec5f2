"""Cell over-voltage: threshold, release point and trip delay of every cell position.

Method: a small charge current flows through the BMS's charge path while one cell's
emulator channel is raised; the trip is the charger's current stopping. The threshold is
bracketed by a coarse ramp and narrowed by bisection (dwell: twice the slowest
acceptable delay plus the settle time), the release by ramping back down; the delay is
bracketed by polling the charger current after a step clearly beyond the band. The BMS's
own flag and FET report are judged separately.
"""

import pytest

from test_plans._voltage import CELL_OV, threshold_and_release, trip_delay

pytestmark = [
    pytest.mark.needs("cells"),  # cell emulators set the cells (a module: not applicable)
    pytest.mark.protection("cell_ov"),
    pytest.mark.clause("IEC 62619 8.2.2", "UL 1973 15"),
    pytest.mark.quick,
]


def test_cell_ov_threshold_and_release(cell, station, dut, clock, spec, record, ready):
    threshold_and_release(CELL_OV, cell, station, dut, clock, spec, record, ready)


def test_cell_ov_trip_delay(cell, station, dut, clock, spec, record, ready):
    trip_delay(CELL_OV, cell, station, dut, clock, spec, record, ready)
