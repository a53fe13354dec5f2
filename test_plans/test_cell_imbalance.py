"""Cell imbalance: the spread between cells at which charging stops, where it resumes, and
how long the BMS takes.

Method: every cell at nominal, one lowered below them (the first cell under test); the
charger's test current stops as the spread passes the threshold (the charge FET opens).
Threshold and release by ramp and bisection on the spread read back from the emulators
(the others' highest minus the cell's), the delay by polling after a step clearly beyond
the band. The BMS's own flag is judged where its protocol names an imbalance.
"""

import pytest

from test_plans import _imbalance

pytestmark = [
    pytest.mark.protection("cell_imbalance"),
    pytest.mark.clause("UL 1973 imbalanced charging", "IEC 62619 8.2.2"),
    pytest.mark.needs("cells"),  # cell emulators set the spread (a module: not applicable)
    pytest.mark.quick,
]


def test_cell_imbalance_threshold_and_release(station, dut, clock, spec, record, ready):
    _imbalance.threshold_and_release(station, dut, clock, spec, record, ready)


def test_cell_imbalance_trip_delay(station, dut, clock, spec, record, ready):
    _imbalance.trip_delay(station, dut, clock, spec, record, ready)
