"""Cell under-voltage: threshold, release point and trip delay of every cell position.

Method: the electronic load draws a small current through the BMS's discharge path while
one cell's emulator channel is lowered; the trip is the load's current stopping.
Threshold by ramp and bisection, release by ramping back up, delay by polling the load
current after a step clearly beyond the band. The BMS's own flag and FET report are
judged separately.
"""

import pytest

from test_plans._voltage import CELL_UV, threshold_and_release, trip_delay

pytestmark = [
    pytest.mark.needs("cells"),  # cell emulators set the cells (a module: not applicable)
    pytest.mark.protection("cell_uv"),
    pytest.mark.clause("UL 1973 19"),
    pytest.mark.quick,
]


def test_cell_uv_threshold_and_release(cell, station, dut, clock, spec, record, ready):
    threshold_and_release(CELL_UV, cell, station, dut, clock, spec, record, ready)


def test_cell_uv_trip_delay(cell, station, dut, clock, spec, record, ready):
    trip_delay(CELL_UV, cell, station, dut, clock, spec, record, ready)
