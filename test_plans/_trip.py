"""The procedure every protection shares, whatever trips it: threshold, release, delay, report.

A protection is measured the same way whether a cell voltage, a current or an NTC's
temperature trips it; only the stimulus differs (`_voltage.py`, `_current.py`,
`_temperature.py` each hold one kind):

- the trip is seen on the power path (the charger's or the load's current stopping),
  never taken from the BMS's word;
- a threshold is a bracket of read-back stimulus levels, narrowed by bisection, reported
  at its middle with an uncertainty budget (bracket + stimulus instrument accuracy); a
  release is found the same way coming back; both are recorded by `_search.py`;
- a delay is a bracket of poll times from a step clearly beyond the band, reported the
  same way;
- what the BMS says about itself (protection flag, FET state) is recorded beside it and
  judged on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from dut_drivers.base import BmsLink, BmsStatus, Capability
from instruments.accuracy import Accuracy
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import AnyProtection, Limit
from rig.measure import Measurement, TripResult, search_threshold, trip_time_by_polling, wait_for
from rig.measure import Stimulus as StimulusRecord
from rig.measure.budget import delay_budget
from rig.measure.traces import trip_waveform
from rig.plugin.fixtures import Ready, Recorder
from test_plans._power_path import Path, PowerPath
from test_plans._search import record_search


@dataclass(frozen=True)
class Side:
    """What a protection watches and cuts: its spec key, direction, path and FET."""

    protection: str  # spec key and measurement prefix
    direction: float  # +1 trips going up, -1 going down
    path: Path  # the power path the protection must cut
    fet: str  # the BmsStatus attribute the BMS should report off
    reported: str = ""  # the name the BMS reports it by, if not `protection`

    @property
    def flag(self) -> str:
        return self.reported or self.protection

    def spec(self, spec: DutSpec) -> Any:
        p = getattr(spec.protections, self.protection)
        if p is None:
            raise LookupError(f"the spec has no protections.{self.protection}")
        return p


class Stimulus(Protocol):
    """One kind of stimulus: sets a level and says what the instrument read back."""

    quantity: str  # e.g. "cell_voltage", "charge_current", "ntc_temperature"
    unit: str
    label: str  # waveform name prefix, e.g. "cell_ov_cell3"
    rest: float  # the level with no stimulus applied
    margin: float  # searches go this far beyond the acceptance band
    coarse: float  # ramp step
    fine: float  # the bracket bisection narrows to

    @property
    def instrument(self) -> str: ...

    def apply(self, level: float) -> float | None:
        """Set `level`; the instrument's read-back of it (None: no read-back)."""
        ...

    def band(self, value: float) -> Accuracy | None:
        """The read-back's accuracy band at `value`."""
        ...

    def pack_at(self, level: float) -> float:
        """The pack voltage with the stimulus at `level` (the charger's CV follows it)."""
        ...


def against(limit: Limit, clause: list[str]) -> dict[str, object]:
    """The spec's acceptance band and clauses, as `record` takes them."""
    return {"low": limit.low, "high": limit.high, "nominal": limit.nominal, "clause": clause}


def dut_report(
    side: Side,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    p: AnyProtection,
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
        flag = not flags_known or s.protections is None or s.indicates(side.flag)
        return flag and not getattr(s, side.fet)

    waited = wait_for(
        clock, reported, spec.reporting.report_timeout_s, spec.test_conditions.poll_period_s
    )
    status = seen[-1]
    context = {**context, "report_after_s": waited}
    fet_on = getattr(status, side.fet)
    if flags_known and status.protections is not None:
        flags = sorted(status.protections) or ["none"]
        record.flag(
            f"{side.protection}_reported_flag",
            status.indicates(side.flag),
            clause=p.clause,
            context=context,
            note=f"BMS reports protections: {', '.join(flags)}",
        )
    record.flag(
        f"{side.protection}_reported_fet_off",
        not fet_on,
        clause=p.clause,
        context=context,
        note=f"BMS reports {side.fet.replace('_', ' ')} {'on' if fet_on else 'off'}",
    )


def baseline_flows(
    path: PowerPath,
    record: Recorder,
    side: Side,
    p: AnyProtection,
    context: dict,
    what: str,
    unit: str,
) -> bool:
    """The test current must flow before the stimulus, or no trip can be seen."""
    amps = path.read()
    if path.flowing(amps):
        return True
    record(
        f"{side.protection}_{what}",
        None,
        unit if what == "threshold" else "s",
        **against(p.threshold if what == "threshold" else p.delay_s, p.clause),
        evidence="instrument",
        instrument=path.instrument,
        context=context,
        note=f"no test current before the stimulus: {path.label} {amps:.4g} A "
        f"(expected {path.current_a:g} A); the {side.path} path is not conducting",
    )
    return False


def threshold_and_release(
    side: Side,
    stim: Stimulus,
    path: PowerPath,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
    context: dict[str, object],
    *,
    dwell_s: float | None = None,
    quiet: Callable[[], object] | None = None,
    at_trip: Callable[[], object] | None = None,
) -> None:
    """The threshold by ramp and bisection, the BMS's report at a clear trip, then the
    release coming back (if the protection has a release level).

    `dwell_s` overrides the dwell per level (a level that must stay shorter than another
    protection's delay); `quiet` runs after the stimulus is back at rest and before the
    path is expected to flow again (a protection that recovers by time or by removing
    the charger); `at_trip` runs after the BMS's report, the DUT still tripped (checks of
    the other power path).
    """
    p, tc = side.spec(spec), spec.test_conditions
    d = side.direction
    unit = stim.unit
    near, far = (p.threshold.low, p.threshold.high)[:: int(d)]
    start, stop = near - d * stim.margin, far + d * stim.margin
    highest = stim.pack_at(max(start, stop, stim.rest))

    path.start(highest)

    def rearm() -> bool:
        """Back to rest so the next probe approaches from the quiet side."""
        stim.apply(stim.rest)
        if quiet is not None:
            quiet()
        rec = spec.recovery
        flows = lambda: path.flowing(path.read())  # noqa: E731
        if wait_for(clock, flows, rec.release_timeout_s, rec.poll_s) is not None:
            return True  # (0.0 s is a wait too: it flowed at once)
        if not ready.recover("re-arm during threshold search"):
            return False
        path.start(highest)
        return path.flowing(path.read())

    if not baseline_flows(path, record, side, p, context, "threshold", unit):
        return
    dwell = tc.dwell_factor * p.delay_s.high + tc.settle_s if dwell_s is None else dwell_s
    trip = search_threshold(
        clock,
        stim.apply,
        path.read,
        path.interrupted,
        start,
        stop,
        stim.coarse,
        stim.fine,
        dwell,
        rearm,
    )
    record_search(
        record, f"{side.protection}_threshold", trip, p.threshold, p.clause, stim, path,
        f"{stim.label}_threshold", {**context, "dwell_s": dwell},
    )  # fmt: skip

    # Trip it clearly; what the BMS says the moment the power path shows the trip is its
    # own report, judged separately. A ramp that never tripped is asked where it ended.
    trip_level = far + d * stim.margin

    def retrip() -> bool:
        stim.apply(trip_level)
        seen = wait_for(clock, lambda: path.interrupted(path.read()), dwell, tc.poll_period_s)
        return seen is not None

    tripped = retrip() if trip.above is not None else False
    dut_report(side, dut, clock, spec, p, record, context)
    if tripped and at_trip is not None:
        at_trip()
    rel = p.release
    if rel is None:  # no release level: leave the DUT recovered by its own rule
        if tripped:
            rearm()
        return
    if not trip.found:
        return
    if not tripped:
        record(
            f"{side.protection}_release",
            None,
            unit,
            **against(rel, p.clause),
            evidence="instrument",
            instrument=path.instrument,
            context=context,
            note=f"could not trip the BMS again at {trip_level:.4g} {unit} to measure the release",
        )
        return
    rel_near, rel_far = (rel.high, rel.low)[:: int(d)]
    rel_dwell = tc.settle_s + tc.dwell_factor * (p.release_delay_s.high if p.release_delay_s else 0)
    release = search_threshold(
        clock,
        stim.apply,
        path.read,
        path.flowing,
        rel_near + d * stim.margin,
        rel_far - d * stim.margin,
        stim.coarse,
        stim.fine,
        rel_dwell,
        retrip,
    )
    record_search(
        record, f"{side.protection}_release", release, rel, p.clause, stim, path,
        f"{stim.label}_release", {**context, "dwell_s": rel_dwell}, releasing=True,
    )  # fmt: skip


def trip_delay(
    side: Side,
    stim: Stimulus,
    path: PowerPath,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    context: dict[str, object],
    *,
    level: float | None = None,
    name: str = "trip_delay",
) -> tuple[TripResult, Measurement] | None:
    """The delay from a step to `level` (default: clearly beyond the band) to the trip;
    None when the path did not conduct before the step."""
    p, tc = side.spec(spec), spec.test_conditions
    d = side.direction
    if level is None:
        far = p.threshold.high if d > 0 else p.threshold.low
        level = far + d * stim.margin  # clearly beyond any in-spec threshold
    path.start(stim.pack_at(max(level, stim.rest)))
    if not baseline_flows(path, record, side, p, context, name, stim.unit):
        return None
    readback: list[float | None] = []
    timeout = 4 * p.delay_s.high
    trip = trip_time_by_polling(
        clock,
        apply=lambda: readback.append(stim.apply(level)),
        observe=path.read,
        tripped=path.interrupted,
        timeout_s=timeout,
        period_s=tc.poll_period_s,
    )
    wf = trip_waveform(stim.label + "_" + name, trip, path.label, "A", path.trip_below_a)
    m = record(
        f"{side.protection}_{name}",
        trip.time_s,
        "s",
        **against(p.delay_s, p.clause),
        bracket=trip.bracket,
        resolution=trip.resolution_s,
        budget=delay_budget(trip, clock.virtual),
        evidence="instrument",
        instrument=path.instrument,
        stimulus=StimulusRecord(
            stim.quantity, stim.unit, level, readback[0] if readback else None, stim.instrument
        ),
        waveform=record.waveform(wf),
        context={**context, "t_step": trip.t_step, "polls": len(trip.polls) - trip.pre_polls},
        note=f"step to {level:.4g} {stim.unit}"
        + ("" if trip.tripped else f"; {path.label} still flowing after {timeout:g} s"),
    )
    return trip, m
