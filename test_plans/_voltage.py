"""Over- and under-voltage procedures, for one cell or the whole pack.

The four protections are mirror images: over-voltage trips going up and cuts the charge
path, under-voltage trips going down and cuts the discharge path; a cell protection is
driven through one cell position, a pack protection through all cells together. A
`Side` holds what differs, so each plan module is a few lines and all are measured the
same way:

- the trip is seen on the power path (the charger's or the load's current stopping),
  never taken from the BMS's word;
- a threshold is a bracket of read-back stimulus levels, narrowed by bisection, reported
  at its middle with an uncertainty budget (bracket + stimulus instrument accuracy);
- a delay is a bracket of poll times from the step, reported the same way;
- what the BMS says about itself (protection flag, FET state) is recorded beside it and
  judged on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dut_drivers.base import BmsLink, BmsStatus, Capability
from instruments.accuracy import Accuracy
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import Limit, VoltageProtection
from rig.measure import Stimulus as StimulusRecord
from rig.measure import search_threshold, trip_time_by_polling, wait_for
from rig.measure.budget import delay_budget
from rig.measure.traces import trip_waveform
from rig.plugin.fixtures import Ready, Recorder
from rig.station import Station
from test_plans._power_path import Path, PowerPath
from test_plans._search import record_search


@dataclass(frozen=True)
class Side:
    protection: str  # spec key and measurement prefix
    direction: float  # +1 trips going up, -1 going down
    path: Path  # the power path the protection must cut
    scope: Literal["cell", "pack"]
    fet: str  # the BmsStatus attribute the BMS should report off

    def spec(self, spec: DutSpec) -> VoltageProtection:
        p = getattr(spec.protections, self.protection)
        if p is None:
            raise LookupError(f"the spec has no protections.{self.protection}")
        return p


CELL_OV = Side("cell_ov", +1.0, "charge", "cell", "charge_fet")
CELL_UV = Side("cell_uv", -1.0, "discharge", "cell", "discharge_fet")
PACK_OV = Side("pack_ov", +1.0, "charge", "pack", "charge_fet")
PACK_UV = Side("pack_uv", -1.0, "discharge", "pack", "discharge_fet")


class VoltageStimulus:
    """Sets one cell (or every cell, for a pack level) and reads the level back."""

    unit = "V"

    def __init__(self, station: Station, spec: DutSpec, side: Side, cell: int | None):
        self.station, self.side, self.cell = station, side, cell
        self.n = station.cells.count
        self.nominal = spec.test_conditions.nominal_cell_voltage
        self.scale = 1.0 if side.scope == "cell" else float(self.n)  # per-cell step → level

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


def against(limit: Limit, clause: list[str]) -> dict[str, object]:
    """The spec's acceptance band and clauses, as `record` takes them."""
    return {"low": limit.low, "high": limit.high, "nominal": limit.nominal, "clause": clause}


def _label(side: Side, cell: int | None) -> str:
    return side.protection if cell is None else f"{side.protection}_cell{cell}"


def _dut_report(
    side: Side,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    p: VoltageProtection,
    record: Recorder,
    context: dict,
) -> None:
    """What the BMS says at a trip: its protection flag and the FET it should open.

    Asked until it says both, for at most `reporting.report_timeout_s` after the power
    path showed the trip: a BMS that reports periodically is given its period.
    """
    flags_known = Capability.protections in dut.capabilities
    seen: list[BmsStatus] = []

    def reported() -> bool:
        seen.append(dut.read_status())
        s = seen[-1]
        flag = not flags_known or s.protections is None or s.indicates(side.protection)
        return flag and not getattr(s, side.fet)

    waited = wait_for(
        clock, reported, spec.reporting.report_timeout_s, spec.test_conditions.poll_period_s
    )
    status = seen[-1]
    context = {**context, "report_after_s": waited}
    fet_on = getattr(status, side.fet)
    if flags_known and status.protections is not None:
        flags = sorted(status.protections) or ["none"]
        record(
            f"{side.protection}_reported_flag",
            1.0 if status.indicates(side.protection) else 0.0,
            "flag",
            low=1.0,
            high=1.0,
            comparison="EQ",
            clause=p.clause,
            evidence="dut",
            context=context,
            note=f"BMS reports protections: {', '.join(flags)}",
        )
    record(
        f"{side.protection}_reported_fet_off",
        0.0 if fet_on else 1.0,
        "flag",
        low=1.0,
        high=1.0,
        comparison="EQ",
        clause=p.clause,
        evidence="dut",
        context=context,
        note=f"BMS reports {side.fet.replace('_', ' ')} {'on' if fet_on else 'off'}",
    )


def threshold_and_release(
    side: Side,
    cell: int | None,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
) -> None:
    p, tc = side.spec(spec), spec.test_conditions
    stim = VoltageStimulus(station, spec, side, cell)
    path = PowerPath(station, spec, side.path)
    d = side.direction
    margin, coarse, fine = (
        tc.search_margin_v * stim.scale,
        tc.coarse_step_v * stim.scale,
        tc.threshold_step_v * stim.scale,
    )
    near, far = (p.threshold_v.low, p.threshold_v.high)[:: int(d)]
    start, stop = near - d * margin, far + d * margin
    context: dict[str, object] = {"cell": cell, "scope": side.scope, "path": side.path}

    path.start(stim.pack_at(max(start, stop, stim.rest)))

    def rearm() -> bool:
        """Back below release so the next probe approaches from the quiet side."""
        stim.apply(stim.rest)
        rec = spec.recovery
        if wait_for(clock, lambda: path.flowing(path.read()), rec.release_timeout_s, rec.poll_s):
            return True
        if not ready.recover("re-arm during threshold search"):
            return False
        path.start(stim.pack_at(max(start, stop, stim.rest)))
        return path.flowing(path.read())

    if not _baseline_flows(path, record, side, p, context, "threshold"):
        return
    dwell = tc.dwell_factor * p.delay_s.high + tc.settle_s
    trip = search_threshold(
        clock, stim.apply, path.read, path.interrupted, start, stop, coarse, fine, dwell, rearm
    )
    record_search(
        record, f"{side.protection}_threshold", trip, p.threshold_v, p.clause, stim, path,
        f"{_label(side, cell)}_threshold", {**context, "dwell_s": dwell},
    )  # fmt: skip

    # Trip it clearly; what the BMS says the moment the power path shows the trip is its
    # own report, judged separately. A ramp that never tripped is asked where it ended.
    trip_level = far + d * margin
    rel = p.release_v
    rel_near, rel_far = (rel.high, rel.low)[:: int(d)]
    rel_dwell = tc.settle_s + tc.dwell_factor * (p.release_delay_s.high if p.release_delay_s else 0)

    def retrip() -> bool:
        stim.apply(trip_level)
        seen = wait_for(clock, lambda: path.interrupted(path.read()), dwell, tc.poll_period_s)
        return seen is not None

    tripped = retrip() if trip.above is not None else False
    _dut_report(side, dut, clock, spec, p, record, context)
    if not trip.found:
        return
    if not tripped:
        record(
            f"{side.protection}_release",
            None,
            "V",
            **against(rel, p.clause),
            evidence="instrument",
            instrument=path.instrument,
            context=context,
            note=f"could not trip the BMS again at {trip_level:.4g} V to measure the release",
        )
        return
    release = search_threshold(
        clock,
        stim.apply,
        path.read,
        path.flowing,
        rel_near + d * margin,
        rel_far - d * margin,
        coarse,
        fine,
        rel_dwell,
        retrip,
    )
    record_search(
        record, f"{side.protection}_release", release, rel, p.clause, stim, path,
        f"{_label(side, cell)}_release", {**context, "dwell_s": rel_dwell}, releasing=True,
    )  # fmt: skip


def _baseline_flows(
    path: PowerPath, record: Recorder, side: Side, p: VoltageProtection, context: dict, what: str
) -> bool:
    """The test current must flow before the stimulus, or no trip can be seen."""
    amps = path.read()
    if path.flowing(amps):
        return True
    record(
        f"{side.protection}_{what}",
        None,
        "V" if what == "threshold" else "s",
        **against(p.threshold_v if what == "threshold" else p.delay_s, p.clause),
        evidence="instrument",
        instrument=path.instrument,
        context=context,
        note=f"no test current before the stimulus: {path.label} {amps:.4g} A "
        f"(expected {path.current_a:g} A); the {side.path} path is not conducting",
    )
    return False


def trip_delay(
    side: Side,
    cell: int | None,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
) -> None:
    p, tc = side.spec(spec), spec.test_conditions
    stim = VoltageStimulus(station, spec, side, cell)
    path = PowerPath(station, spec, side.path)
    d = side.direction
    far = p.threshold_v.high if d > 0 else p.threshold_v.low
    level = far + d * tc.search_margin_v * stim.scale  # clearly beyond any in-spec threshold
    context: dict[str, object] = {"cell": cell, "scope": side.scope, "path": side.path}
    path.start(stim.pack_at(max(level, stim.rest)))
    if not _baseline_flows(path, record, side, p, context, "trip_delay"):
        return
    readback: list[float] = []
    timeout = 4 * p.delay_s.high
    trip = trip_time_by_polling(
        clock,
        apply=lambda: readback.append(stim.apply(level)),
        observe=path.read,
        tripped=path.interrupted,
        timeout_s=timeout,
        period_s=tc.poll_period_s,
    )
    wf = trip_waveform(_label(side, cell) + "_trip_delay", trip, path.label, "A", path.trip_below_a)
    record(
        f"{side.protection}_trip_delay",
        trip.time_s,
        "s",
        **against(p.delay_s, p.clause),
        bracket=trip.bracket,
        resolution=trip.resolution_s,
        budget=delay_budget(trip, clock.virtual),
        evidence="instrument",
        instrument=path.instrument,
        stimulus=StimulusRecord(
            stim.quantity, "V", level, readback[0] if readback else None, stim.instrument
        ),
        waveform=record.waveform(wf),
        context={**context, "t_step": trip.t_step, "polls": len(trip.polls) - trip.pre_polls},
        note=f"step to {level:.4g} V"
        + ("" if trip.tripped else f"; {path.label} still flowing after {timeout:g} s"),
    )
