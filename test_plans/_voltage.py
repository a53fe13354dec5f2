"""Over- and under-voltage procedures, for one cell or the whole pack.

The four protections are mirror images: over-voltage trips going up and cuts the charge
path, under-voltage trips going down and cuts the discharge path; a cell protection is
driven through one cell position, a pack protection through all cells together. A
`VoltageSide` holds what differs, so each plan module is a few lines, and every one is
measured by the shared procedure in `_trip.py` (trip seen on the power path, threshold
and release by bisection, delay by polling, the BMS's own report judged apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dut_drivers.base import BmsLink
from instruments.accuracy import Accuracy, AccuracyUnknown
from rig.clock import Clock
from rig.config import DutSpec
from rig.plugin.fixtures import Ready, Recorder
from rig.station import Station
from test_plans import _trip
from test_plans._isolation import Competitor
from test_plans._power_path import PowerPath
from test_plans._trip import Side, against

__all__ = ["CELL_OV", "CELL_UV", "PACK_OV", "PACK_UV", "against", "threshold_and_release"]


@dataclass(frozen=True)
class VoltageSide(Side):
    scope: Literal["cell", "pack"] = "cell"


CELL_OV = VoltageSide("cell_ov", +1.0, "charge", "charge_fet", scope="cell")
CELL_UV = VoltageSide("cell_uv", -1.0, "discharge", "discharge_fet", scope="cell")
PACK_OV = VoltageSide("pack_ov", +1.0, "charge", "charge_fet", scope="pack")
PACK_UV = VoltageSide("pack_uv", -1.0, "discharge", "discharge_fet", scope="pack")


class VoltageStimulus:
    """Sets one cell (or every cell, for a pack level) and reads the level back."""

    unit = "V"

    def __init__(self, station: Station, spec: DutSpec, side: VoltageSide, cell: int | None):
        self.station, self.side, self.cell = station, side, cell
        self.n = station.cells.count
        self.nominal = spec.test_conditions.nominal_cell_voltage
        scale = 1.0 if side.scope == "cell" else float(self.n)  # per-cell step → level
        self.scale = scale
        tc = spec.test_conditions
        self.margin = tc.search_margin_v * scale
        self.coarse = tc.coarse_step_v * scale
        self.fine = tc.threshold_step_v * scale
        self.label = side.protection if cell is None else f"{side.protection}_cell{cell}"

    @property
    def quantity(self) -> str:
        return f"{self.side.scope}_voltage"

    @property
    def instrument(self) -> str:
        if self.cell is not None:
            ch = self.station.cells.channel_of(self.cell)
            return f"{ch.instrument}:{ch.channel}"
        return f"cells 1..{self.n}"

    @property
    def rest(self) -> float:
        """The level with every cell at nominal."""
        return self.nominal if self.side.scope == "cell" else self.nominal * self.n

    def apply(self, level: float) -> float:
        cells = self.station.cells
        if self.cell is not None:
            cells.set_voltage(self.cell, level)
            return cells.measure_voltage(self.cell)
        cells.set_all(level / self.n)
        return sum(cells.measure_voltage(p) for p in cells.positions)

    def pack_at(self, level: float) -> float:
        if self.cell is not None:
            return (self.n - 1) * self.nominal + level
        return level

    def competitors(self, spec: DutSpec) -> list[Competitor]:
        """A cell level moves the pack with it (the others at nominal): the pack
        protection on the same side; a pack level puts every cell at level / N: the cell
        protection on the same side. Each acts from the near edge of its spec band."""
        d, n, nom = self.side.direction, self.n, self.nominal
        scope = "pack" if self.side.scope == "cell" else "cell"
        name = f"{scope}_{'ov' if d > 0 else 'uv'}"
        out: list[Competitor] = []
        imbalance = spec.protections.cell_imbalance
        if imbalance is not None and self.side.scope == "cell" and d > 0:
            # one cell raised above the others (at nominal) spreads the pack: charging
            # stops at the imbalance threshold too
            edge = nom + imbalance.threshold.low
            why = f"the cell {imbalance.threshold.low:g} V above the others at {nom:g} V"
            out.append(Competitor("cell_imbalance", edge, why))
        other = getattr(spec.protections, name)
        if other is None:
            return out
        edge = other.threshold.low if d > 0 else other.threshold.high
        if scope == "pack":
            why = f"the pack at {edge:g} V with the other {n - 1} cells at {nom:g} V"
            return [*out, Competitor(name, edge - (n - 1) * nom, why)]
        return [*out, Competitor(name, n * edge, f"{n} cells at {edge:g} V each")]

    def response(self, level: float) -> Accuracy | None:
        """The emulator channel's programming response to a step of this size, if stated."""
        cells = self.station.cells
        position = self.cell if self.cell is not None else cells.positions[0]
        try:
            return cells.accuracy(position, "voltage_response", abs(level - self.rest) / self.scale)
        except AccuracyUnknown:
            return None

    def confirms(self, readback: float | None, level: float) -> bool:
        """The emulators measure their own outputs: the read-back is evidence."""
        return readback is not None and abs(readback - level) <= self.band(level).limit(level)

    def band(self, value: float) -> Accuracy:
        """The read-back's accuracy band at `value` (a pack read-back sums N channels)."""
        cells = self.station.cells
        if self.cell is not None:
            return cells.accuracy(self.cell, "voltage_meas", value)
        per = [cells.accuracy(p, "voltage_meas", value / self.n) for p in cells.positions]
        return Accuracy(
            pct=max(a.pct for a in per),
            offset=sum(a.offset for a in per),
            source=f"sum of {self.n} channels: {per[0].source}",
        )


def _context(side: VoltageSide, cell: int | None) -> dict[str, object]:
    return {"cell": cell, "scope": side.scope, "path": side.path}


def threshold_and_release(
    side: VoltageSide,
    cell: int | None,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
) -> None:
    _trip.threshold_and_release(
        side,
        VoltageStimulus(station, spec, side, cell),
        PowerPath(station, spec, side.path),
        dut,
        clock,
        spec,
        record,
        ready,
        _context(side, cell),
    )


def trip_delay(
    side: VoltageSide,
    cell: int | None,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
) -> None:
    stim = VoltageStimulus(station, spec, side, cell)
    context = _context(side, cell)
    result = _trip.trip_delay(
        side, stim, PowerPath(station, spec, side.path), clock, spec, record, context
    )
    if result is not None and result[0].tripped:
        rivals = [c.protection for c in stim.competitors(spec)]
        _trip.dut_report(side, dut, clock, spec, side.spec(spec), record, context, rivals)
