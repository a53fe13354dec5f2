"""Cell imbalance: the spread between the highest and the lowest cell.

A BMS that sees its cells drift apart stops charging (the high cells would reach their
limit first) until the spread falls back. The stimulus is one cell lowered below the
others, which sit at nominal: the spread is the others' highest read-back minus the
cell's, so the level is read back from every channel, and its accuracy is two
channels' (the cell's and the highest other's). The trip is the charger's test current
stopping, found by the shared procedure (`_trip.py`): threshold and release by ramp and
bisection, the delay by polling after a step clearly beyond the band. Lowering a cell
moves no other protection on the charge path towards its limit (cell under-voltage cuts
the discharge path), so nothing else can have acted.

The BMS's own flag is judged where its protocol can name an imbalance (Daly, JK); a JBD
board acts on it without a bit to say so.
"""

from __future__ import annotations

from dut_drivers.base import BmsLink
from instruments.accuracy import Accuracy, AccuracyUnknown
from rig.clock import Clock
from rig.config import DutSpec
from rig.plugin.fixtures import Ready, Recorder
from rig.safety import check_limit
from rig.station import Station
from test_plans import _trip
from test_plans._isolation import Competitor
from test_plans._power_path import PowerPath
from test_plans._trip import Side

CELL_IMBALANCE = Side("cell_imbalance", +1.0, "charge", "charge_fet")


class ImbalanceStimulus:
    """One cell `level` volts below the others (at nominal); the level read back as the
    highest other channel's read-back minus the cell's."""

    unit = "V"
    quantity = "cell_spread"
    rest = 0.0

    def __init__(self, station: Station, spec: DutSpec, cell: int):
        tc = spec.test_conditions
        self.station, self.cell = station, cell
        self.cells = station.cells
        self.nominal = tc.nominal_cell_voltage
        self.margin, self.coarse, self.fine = (
            tc.search_margin_v,
            tc.coarse_step_v,
            tc.threshold_step_v,
        )
        self.label = f"cell_imbalance_cell{cell}"
        self.others = [p for p in self.cells.positions if p != cell]

    @property
    def instrument(self) -> str:
        ch = self.cells.channel_of(self.cell)
        return f"{ch.instrument}:{ch.channel} against the other cells"

    def refuse_beyond_limits(self, *levels: float) -> None:
        lim = self.station.config.limits.cell_voltage
        for level in levels:
            check_limit(f"cell {self.cell}", "voltage", self.nominal - level, lim.min, lim.max, "V")

    def apply(self, level: float) -> float:
        self.cells.set_voltage(self.cell, self.nominal - level)
        top = max(self.cells.measure_voltage(p) for p in self.others)
        return top - self.cells.measure_voltage(self.cell)

    def band(self, value: float) -> Accuracy:
        low = self.cells.accuracy(self.cell, "voltage_meas", self.nominal - value)
        high = self.cells.accuracy(self.others[0], "voltage_meas", self.nominal)
        offset = low.limit(self.nominal - value) + high.limit(self.nominal)
        return Accuracy(0.0, offset, source=f"two channels' read-back: {low.source}")

    def pack_at(self, level: float) -> float:
        """The highest the pack reaches: every cell at nominal (lowering one lowers it),
        so the charger's CV stays above the pack whatever the level."""
        return self.cells.count * self.nominal

    def competitors(self, spec: DutSpec) -> list[Competitor]:
        """None on the charge path: a lowered cell moves only towards under-voltage,
        which cuts the discharge path."""
        return []

    def response(self, level: float) -> Accuracy | None:
        try:
            return self.cells.accuracy(self.cell, "voltage_response", abs(level))
        except AccuracyUnknown:
            return None

    def confirms(self, readback: float | None, level: float) -> bool:
        """The emulators measure their own outputs: the read-back is evidence."""
        return readback is not None and abs(readback - level) <= self.band(level).limit(level)


def _setup(station: Station, spec: DutSpec) -> tuple[ImbalanceStimulus, dict[str, object]]:
    p = CELL_IMBALANCE.spec(spec)
    cell = spec.cells_under_test[0]
    stim = ImbalanceStimulus(station, spec, cell)
    far = max(p.threshold.high, p.release.high) + stim.margin
    stim.refuse_beyond_limits(far)
    return stim, {"cell": cell, "path": "charge", "others_v": stim.nominal}


def threshold_and_release(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder, ready: Ready
) -> None:
    stim, context = _setup(station, spec)
    path = PowerPath(station, spec, "charge")
    _trip.threshold_and_release(
        CELL_IMBALANCE, stim, path, dut, clock, spec, record, ready, context
    )


def trip_delay(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder, ready: Ready
) -> None:
    stim, context = _setup(station, spec)
    path = PowerPath(station, spec, "charge")
    result = _trip.trip_delay(CELL_IMBALANCE, stim, path, clock, spec, record, context)
    if result is not None and result[0].tripped:
        p = CELL_IMBALANCE.spec(spec)
        _trip.dut_report(CELL_IMBALANCE, dut, clock, spec, p, record, context, [])
