"""Passive balancing, seen where it happens: in the balanced cell's own emulator channel.

A balancing BMS closes a switch that puts a resistor across one cell. The bleed current
flows inside the pack, so the charger and the load never see it; the cell's emulator
channel does: it sources the bleed on top of the string's current, which every channel
carries alike. So the evidence is each channel's measured current beyond the string's
(the median of the other channels, read at the same time), and:

- the bleed current of a balanced cell is that excess, judged against the spec's limits
  with the uncertainty of the two readings;
- every other channel must stay within `idle_current_a` of the string (a BMS that bleeds
  the wrong cell is seen there, and the note names the channel);
- below the start voltage the bleed must stop (a bleed stuck on is seen here);
- the start voltage and the window are thresholds, searched like any protection's, the
  "trip" being the bleed current starting;
- what the BMS reports (its balance mask) is a separate measurement, where its protocol
  carries one.

A BMS that balances only while charging gets the spec's charge test current throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

from dut_drivers.base import BmsLink, Capability
from instruments.accuracy import Accuracy
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import Balancing, Limit
from rig.measure import Stimulus, rectangular, search_threshold
from rig.measure.uncertainty import Component
from rig.plugin.fixtures import Recorder
from rig.station import Station
from test_plans._power_path import PowerPath
from test_plans._search import record_search


def settings(spec: DutSpec) -> Balancing:
    if spec.balancing is None:
        raise LookupError("the spec has no balancing section")
    return spec.balancing


@dataclass
class BleedSense:
    """One cell channel's current beyond the string's: what its bleed resistor draws.

    Every channel carries the string's current (the charge current, if any); a bleed
    resistor draws its cell's channel on top. The string's current is taken from the
    other channels (their median: one miswired bleed among them does not move it), so a
    bleed that flows all the time is seen as much as one that starts with the stimulus.
    """

    station: Station
    cell: int
    string_a: float  # the median of the other channels
    string_cell: int  # the channel whose reading that median is (its accuracy applies)

    @classmethod
    def against(cls, station: Station, cell: int, readings: dict[int, float]) -> BleedSense:
        others = sorted((p for p in readings if p != cell), key=lambda p: readings[p])
        if not others:
            return cls(station, cell, 0.0, cell)
        mid = others[len(others) // 2]
        return cls(station, cell, readings[mid], mid)

    @property
    def instrument(self) -> str:
        ch = self.station.cells.channel_of(self.cell)
        return f"{ch.instrument}:{ch.channel}"

    @property
    def label(self) -> str:
        return f"cell {self.cell} bleed current"

    def excess(self, reading: float) -> float:
        return reading - self.string_a

    def read(self) -> float:
        return self.excess(self.station.cells.measure_current(self.cell))

    def budget(self, reading: float) -> list[Component]:
        """The cell's reading and the string reference, each within its channel's band."""
        cells = self.station.cells
        out = []
        for what, cell, value in (
            (self.instrument, self.cell, reading),
            ("string current (median of the other channels)", self.string_cell, self.string_a),
        ):
            band = cells.accuracy(cell, "current_meas", value)
            out.append(rectangular(what, band.limit(value), band.source))
        return out


class Bench:
    """The cells and, for a BMS that balances only while charging, the charge current."""

    def __init__(self, station: Station, spec: DutSpec, clock: Clock):
        self.station, self.spec, self.clock = station, spec, clock
        self.b, self.tc = settings(spec), spec.test_conditions
        self.cells = station.cells
        self.path = PowerPath(station, spec, "charge") if self.b.only_while_charging else None

    @property
    def below_start(self) -> float:
        """A level one ramp step below any acceptable start voltage."""
        return self.b.start_v.low - self.tc.coarse_step_v

    @property
    def base(self) -> float:
        """Where the other cells sit while one is raised: low enough that a cell anywhere
        from `below_start` up is beyond any acceptable window above them (by a ramp
        step), so only the start voltage decides. Nominal, where that is low enough."""
        gap = self.b.window_v.high + self.tc.coarse_step_v
        return min(self.tc.nominal_cell_voltage, self.below_start - gap)

    def start(self, level: float, highest_pack: float) -> str | None:
        """Every cell at `level`, the charge current on if needed (the charger's CV above
        `highest_pack`); the reason it cannot balance (no charge current), or None."""
        cells = self.cells
        if any(cells.setpoint(p) != level for p in cells.positions):
            cells.set_all(level)
        if self.path is not None:
            self.path.start(highest_pack)
        self.clock.sleep(self.tc.settle_s)
        if self.path is not None:
            amps = self.path.read()
            if not self.path.flowing(amps):
                return (
                    f"the BMS balances only while charging, and no charge current flows: "
                    f"{self.path.label} {amps:.4g} A (expected {self.path.current_a:g} A)"
                )
        return None

    def currents(self) -> dict[int, float]:
        return {p: self.cells.measure_current(p) for p in self.cells.positions}

    def stimulus(self, cell: int, commanded: float) -> Stimulus:
        ch = self.cells.channel_of(cell)
        return Stimulus(
            "cell_voltage",
            "V",
            commanded,
            self.cells.measure_voltage(cell),
            f"{ch.instrument}:{ch.channel}",
        )


def _band(limit: Limit) -> dict[str, float]:
    return {"low": limit.low, "high": limit.high, "nominal": limit.nominal}


def _idle(b: Balancing) -> dict[str, float]:
    return {"low": -b.idle_current_a, "high": b.idle_current_a, "nominal": 0.0}


def balance_cells(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    """Every cell position under test in turn. Balancing keeps no state from one cell to
    the next (a cell back below the start voltage stops bleeding at the next scan), so
    the positions share one plan and one recovery; each measurement names its cell."""
    for cell in spec.cells_under_test:
        balance_cell(cell, station, dut, clock, spec, record)


def balance_cell(
    cell: int, station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    """Raise one cell above the start voltage and the window: it bleeds, no other does,
    the BMS says so; back below the start voltage the bleed stops, and the cell goes
    back to where the others are."""
    bench = Bench(station, spec, clock)
    b, tc = bench.b, bench.tc
    cells = bench.cells
    base = bench.base
    context: dict[str, object] = {"cell": cell, "others_v": base, "bleed_at_v": b.bleed_at_v}
    why = bench.start(base, (cells.count - 1) * base + b.bleed_at_v)
    if why:
        ch = cells.channel_of(cell)
        for name, limits in (
            (f"cell{cell}_balance_current", _band(b.bleed_current_a)),
            (f"cell{cell}_balance_other_cells", _idle(b)),
            (f"cell{cell}_balance_current_below_start", _idle(b)),
        ):
            record(name, None, "A", **limits, clause=b.clause,
                   instrument=f"{ch.instrument}:{ch.channel}", note=why)  # fmt: skip
        return

    cells.set_voltage(cell, b.bleed_at_v)
    clock.sleep(tc.settle_s)
    stimulus = bench.stimulus(cell, b.bleed_at_v)
    readings = bench.currents()
    sense = BleedSense.against(station, cell, readings)
    bleed = sense.excess(readings[cell])
    budget = sense.budget(readings[cell])
    if stimulus.readback:
        v_band = cells.accuracy(cell, "voltage_meas", stimulus.readback)
        budget.append(
            rectangular(
                "cell voltage (the bleed scales with it)",
                abs(bleed) * v_band.limit(stimulus.readback) / stimulus.readback,
                v_band.source,
            )
        )
    context["string_a"] = sense.string_a
    record(
        f"cell{cell}_balance_current",
        bleed,
        "A",
        **_band(b.bleed_current_a),
        clause=b.clause,
        budget=budget,
        evidence="instrument",
        instrument=sense.instrument,
        stimulus=stimulus,
        context={**context, "channel_a": readings[cell]},
        note=f"{sense.instrument} {readings[cell]:+.4f} A, string {sense.string_a:+.4f} A",
    )

    others = [p for p in cells.positions if p != cell]
    if others:
        excess = {p: sense.excess(readings[p]) for p in others}
        worst = max(others, key=lambda p: abs(excess[p]))
        moved = [p for p in others if abs(excess[p]) > b.idle_current_a]
        other = BleedSense(station, worst, sense.string_a, sense.string_cell)
        record(
            f"cell{cell}_balance_other_cells",
            excess[worst],
            "A",
            **_idle(b),
            clause=b.clause,
            budget=other.budget(readings[worst]),
            evidence="instrument",
            instrument=other.instrument,
            stimulus=stimulus,
            context={**context, "largest_cell": worst},
            note=(
                "other channels carry a bleed: "
                + ", ".join(f"cell {p} {excess[p] * 1000:+.1f} mA" for p in moved)
                if moved
                else f"largest: cell {worst} {excess[worst] * 1000:+.2f} mA"
            ),
        )

    if Capability.balancing in dut.capabilities:
        mask = _reported_mask(dut, clock, spec, {cell})
        record.flag(
            f"cell{cell}_balance_reported",
            mask == {cell},
            clause=b.clause,
            context=context,
            note=f"BMS reports balancing cells: {_cells(mask)} (expected {cell})",
        )

    # Below the start voltage (and still beyond the window above the others), the bleed
    # must stop. The string's current is the one just read: the charge current is held.
    lower = bench.below_start
    cells.set_voltage(cell, lower)
    clock.sleep(tc.settle_s)
    reading = cells.measure_current(cell)
    record(
        f"cell{cell}_balance_current_below_start",
        sense.excess(reading),
        "A",
        **_idle(b),
        clause=b.clause,
        budget=sense.budget(reading),
        evidence="instrument",
        instrument=sense.instrument,
        stimulus=bench.stimulus(cell, lower),
        context={**context, "cell_v": lower},
        note=f"cell {cell} at {lower:.4g} V, the others at {base:.4g} V",
    )
    cells.set_voltage(cell, base)


def _cells(mask: set[int] | None) -> str:
    if mask is None:
        return "not reported"
    return ", ".join(map(str, sorted(mask))) or "none"


def _reported_mask(dut: BmsLink, clock: Clock, spec: DutSpec, expected: set[int]) -> set[int]:
    """The BMS's balance mask, asked until it matches or the report timeout passes (a
    board may take a scan or two to report what it bleeds)."""
    seen: list[set[int]] = []
    deadline = clock.now() + spec.reporting.report_timeout_s
    while True:
        status = dut.read_status()
        seen.append(set(status.balancing or ()))
        if seen[-1] == expected or clock.now() >= deadline:
            return seen[-1]
        clock.sleep(spec.test_conditions.poll_period_s)


class CellLevel:
    """The search stimulus for the start voltage: one cell's voltage, read back."""

    quantity = "cell_voltage"
    unit = "V"

    def __init__(self, station: Station, cell: int):
        self.cells, self.cell = station.cells, cell
        ch = self.cells.channel_of(cell)
        self.instrument = f"{ch.instrument}:{ch.channel}"

    def apply(self, level: float) -> float:
        self.cells.set_voltage(self.cell, level)
        return self.cells.measure_voltage(self.cell)

    def band(self, value: float) -> Accuracy:
        return self.cells.accuracy(self.cell, "voltage_meas", value)


class CellAboveLowest(CellLevel):
    """The search stimulus for the window: how far one cell reads above the lowest other
    (both read back), with every cell above the start voltage."""

    quantity = "cell_voltage_difference"

    def __init__(self, station: Station, cell: int, base: float):
        super().__init__(station, cell)
        self.base = base
        others = [p for p in self.cells.positions if p != cell]
        readings = {p: self.cells.measure_voltage(p) for p in others}
        self.lowest = min(readings, key=lambda p: readings[p])
        self.lowest_v = readings[self.lowest]

    def apply(self, level: float) -> float:
        return super().apply(self.base + level) - self.lowest_v

    def band(self, value: float) -> Accuracy:
        mine = self.cells.accuracy(self.cell, "voltage_meas", self.base + value)
        theirs = self.cells.accuracy(self.lowest, "voltage_meas", self.lowest_v)
        return Accuracy(
            pct=0.0,
            offset=mine.limit(self.base + value) + theirs.limit(self.lowest_v),
            source=f"two channels' read-back: {mine.source}",
        )


def _search(
    name: str,
    limit: Limit,
    stim: CellLevel,
    sense: BleedSense,
    bench: Bench,
    record: Recorder,
    context: dict[str, object],
) -> None:
    b, tc = bench.b, bench.tc
    margin = tc.search_margin_v
    detect = b.bleed_current_a.low / 2
    start = max(limit.low - margin, 0.0)
    result = search_threshold(
        bench.clock,
        stim.apply,
        sense.read,
        lambda amps: amps > detect,
        start,
        limit.high + margin,
        tc.coarse_step_v,
        tc.threshold_step_v,
        tc.settle_s,
        lambda: True,  # balancing keeps no state: a probe needs no re-arm
    )
    record_search(
        record, name, result, limit, b.clause, stim, sense, f"{name}_cell{sense.cell}",
        {**context, "bleed_detect_a": detect}, verb="flowed",
    )  # fmt: skip


def balance_thresholds(
    cell: int, station: Station, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    """The start voltage (one cell raised, the others low) and the window (every cell
    above the start voltage, one raised above the rest), each a threshold search."""
    bench = Bench(station, spec, clock)
    b, tc = bench.b, bench.tc
    margin = tc.search_margin_v
    base = bench.base
    above = b.start_v.high + margin  # the window search: every cell above the start voltage
    top = above + b.window_v.high + margin
    why = bench.start(base, (station.cells.count - 1) * above + top)
    if why:
        for name, limit in (("balance_start_voltage", b.start_v), ("balance_window", b.window_v)):
            record(name, None, "V", **_band(limit), clause=b.clause, note=why)
        return
    sense = BleedSense.against(station, cell, bench.currents())
    _search(
        "balance_start_voltage", b.start_v, CellLevel(station, cell), sense, bench, record,
        {"cell": cell, "others_v": base},
    )  # fmt: skip

    bench.cells.set_all(above)
    bench.clock.sleep(tc.settle_s)
    sense = BleedSense.against(station, cell, bench.currents())
    stim = CellAboveLowest(station, cell, above)
    _search(
        "balance_window", b.window_v, stim, sense, bench, record,
        {"cell": cell, "others_v": above, "lowest_cell": stim.lowest},
    )  # fmt: skip
    if bench.path is not None:
        bench.path.stop()
