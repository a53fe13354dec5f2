"""Cell voltage reporting: what the BMS says each cell is, against what the station applied.

Method: every cell emulator channel is set to each level of the spec's `reporting.levels_v`
in turn; after the settle time the BMS's cell voltages are read over its own protocol and
compared position by position with the emulator's read-back. The error is judged against
`reporting.cell_voltage_error_v`; its uncertainty is the read-back's accuracy. A BMS that
protects on a wrong reading protects at the wrong voltage, so this is judged on its own.
"""

import pytest

from rig.measure import Stimulus, rectangular

pytestmark = [
    pytest.mark.protection("reporting"),
    pytest.mark.needs("cell_voltages", "cells"),
    pytest.mark.quick,
]


def test_cell_voltage_reporting(station, dut, clock, spec, record, ready):
    tc, limit = spec.test_conditions, spec.reporting.cell_voltage_error_v
    cells = station.cells
    for level in spec.reporting.levels_v or [tc.nominal_cell_voltage]:
        cells.set_all(level)
        clock.sleep(tc.settle_s)
        reported = dut.read_cell_voltages()
        for position in cells.positions:
            readback = cells.measure_voltage(position)
            band = cells.accuracy(position, "voltage_meas", readback)
            ch = cells.channel_of(position)
            record(
                f"cell{position}_reading_error_at_{level:.2f}V",
                reported[position - 1] - readback,
                "V",
                low=limit.low,
                high=limit.high,
                nominal=limit.nominal,
                clause=spec.reporting.clause,
                budget=[
                    rectangular("emulator read-back accuracy", band.limit(readback), band.source)
                ],
                evidence="dut",
                instrument="dut",
                stimulus=Stimulus(
                    "cell_voltage", "V", level, readback, f"{ch.instrument}:{ch.channel}"
                ),
                context={"cell": position, "level_v": level, "reported_v": reported[position - 1]},
            )
