"""Passive balancing: the bleed current of every cell position, where it flows, when it
stops, and the start voltage and window that decide it.

Method: the other cells sit low (below the start voltage, beyond the window); each cell
position under test in turn is raised to the spec's `bleed_at_v` (with the charge test
current flowing if the BMS balances only while charging). The bleed is that cell
channel's current beyond the string's (the median of the other channels); every other
channel must stay within `idle_current_a`, and back below the start voltage the bleed
must stop. The start voltage and the window are threshold searches on one cell, the
"trip" being the bleed current starting. The BMS's own balance mask is judged
separately.
"""

import pytest

from test_plans._balancing import balance_cells, balance_thresholds

pytestmark = [pytest.mark.protection("balancing"), pytest.mark.needs("cells"), pytest.mark.quick]


def test_balance_current(station, dut, clock, spec, record, ready):
    balance_cells(station, dut, clock, spec, record)


def test_balance_start_and_window(station, clock, spec, record, ready):
    balance_thresholds(spec.cells_under_test[0], station, clock, spec, record)
