"""What the BMS reports it measures: cell voltages, pack current, NTC temperatures, each
against the station's instruments.

Method: the cell emulators are set to each of `reporting.levels_v` in turn and every
cell's reading is compared with its emulator's read-back; the charger and the load drive
each of `reporting.current_levels_a` and the BMS's current is compared with the
instrument's read-back (taken before and after the BMS's reading); each NTC input is
emulated at each of `reporting.temperature_levels_c` and the BMS's temperature is
compared with the emulated one. Every error is the BMS's reading minus the station's,
judged against the spec's `reporting` limits, with the reference instrument's
uncertainty. A BMS protects on its own readings, so each is judged on its own.
"""

import pytest

from test_plans import _reporting

pytestmark = [pytest.mark.protection("reporting"), pytest.mark.quick]


@pytest.mark.needs("cell_voltages", "cells")
def test_cell_voltage_reporting(station, dut, clock, spec, record, ready):
    _reporting.cell_voltages(station, dut, clock, spec, record)


@pytest.mark.spec_states("reporting.current_levels_a")
@pytest.mark.carries("current_reporting")
def test_current_reporting(station, dut, clock, spec, record, ready):
    _reporting.pack_current(station, dut, clock, spec, record)


@pytest.mark.needs("ntc_temperatures", "thermistors")
@pytest.mark.spec_states("reporting.temperature_levels_c")
def test_temperature_reporting(station, dut, clock, spec, record, ready):
    _reporting.temperatures(station, dut, clock, spec, record)
