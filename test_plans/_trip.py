"""The procedure every protection shares, whatever trips it: threshold, release, delay, report.

A protection is measured the same way whether a cell voltage, a current or an NTC's
temperature trips it; only the stimulus differs (`_voltage.py`, `_current.py`,
`_temperature.py` each hold one kind):

- the trip is seen on the power path (the charger's or the load's current stopping),
  never taken from the BMS's word;
- every level commanded stays short of any other protection that cuts the same path
  (`_isolation.py`), so the trip can only be the protection under test; a plan that
  cannot keep clear of the others is an error, before anything is applied;
- a threshold is a bracket of read-back stimulus levels, narrowed by bisection, reported
  at its middle with an uncertainty budget (bracket + stimulus instrument accuracy); the
  stimulus rests between levels for at least the protection's delay, and the dwell at
  each level outlasts the delay observed at a first clear trip, so a running delay timer
  never carries over into the next level; a release is found the same way coming back;
  both are recorded by `_search.py`;
- a delay is a bracket of poll times from a step clearly beyond the band, widened by the
  time the stimulus instrument takes to reach the level (its datasheet's response time);
- what the BMS says about itself (protection flag, FET state) is recorded beside it and
  judged on its own: the flag must name the protection under test and no other that
  cuts the same path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from dut_drivers.base import BmsLink, BmsStatus, Capability
from dut_drivers.registry import can_report
from instruments.accuracy import Accuracy, AccuracyUnknown
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import AnyProtection, Limit
from rig.measure import Measurement, TripResult, search_threshold, trip_time_by_polling, wait_for
from rig.measure import Stimulus as StimulusRecord
from rig.measure.budget import delay_budget
from rig.measure.traces import trip_waveform
from rig.plugin.fixtures import Ready, Recorder
from test_plans._isolation import Competitor, Reach, reach
from test_plans._power_path import Path, PowerPath
from test_plans._search import record_search

# How long a first clear trip may take, as a multiple of the slowest acceptable delay,
# before the threshold search gives up on the protection acting at all.
FIRST_TRIP_FACTOR = 10.0


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

    def competitors(self, spec: DutSpec) -> list[Competitor]:
        """The other protections this stimulus drives towards, that cut the same path,
        and the level (in this stimulus's unit) from which each may act."""
        ...

    def response(self, level: float) -> Accuracy | None:
        """How long after its command the instrument holds `level` (`offset`, seconds),
        as its model's table or the station file states it; None: not stated."""
        ...

    def confirms(self, readback: float | None, level: float) -> bool:
        """The read-back is the instrument's own measurement of its output and shows
        `level` within its accuracy (an echo of the setting confirms nothing)."""
        ...


class ResponseUnknown(Exception):
    """A delay cannot be budgeted: the stimulus's response is neither stated nor seen."""


def response_bound(
    stim: Stimulus, level: float, trip: TripResult, readback: float | None
) -> tuple[float, str]:
    """How late after its command the stimulus may have reached `level`, and why.

    Measured where the instrument's own read-back, taken right after the command,
    shows the level: it was there by the end of that read-back. Stated where the model's
    table or the station file gives a response time. The larger of the two is taken;
    neither is `ResponseUnknown`, an error of the plan (a delay with a hole in its budget
    is never a value).
    """
    stated = stim.response(level)
    seen = trip.t_step_done - trip.t_step if stim.confirms(readback, level) else None
    if stated is None and seen is None:
        quantity = {"V": "voltage", "A": "current"}.get(stim.unit, "resistance")
        raise ResponseUnknown(
            f"{stim.instrument}: no response time is stated for its model (state "
            f"`{quantity}_response` in the station file's accuracy block, from the lab's own "
            f"check) and its read-back {readback!r} does not show the level {level:g} {stim.unit}"
        )
    lag, source = 0.0, ""
    if seen is not None:
        lag, source = (
            seen,
            f"measured: read back at the level {seen * 1e3:.3g} ms after the command",
        )
    if stated is not None and stated.limit(level) >= lag:
        lag, source = stated.limit(level), stated.source
    return lag, source


def accuracy_of(stim: Stimulus) -> Callable[[float], float]:
    """The half-width of the stimulus's read-back band at a level."""
    return lambda level: stim.band(level).limit(level)


def reach_of(side: Side, stim: Stimulus, spec: DutSpec) -> Reach:
    """How far this plan may drive `stim` before another protection may act, kept the
    stimulus's read-back accuracy short of it."""
    rivals = stim.competitors(spec)
    if not rivals:
        return reach(side.protection, side.direction, (), 0.0)
    nearest = min(rivals, key=lambda c: side.direction * c.level)
    try:
        guard = stim.band(nearest.level).limit(nearest.level)
    except AccuracyUnknown:  # beyond the instrument's ranges: no level of the plan gets there
        guard = 0.0
    return reach(side.protection, side.direction, rivals, guard)


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
    rivals: list[str] | None = None,
) -> None:
    """What the BMS says at a trip: its protection flag and the FET it should open.

    Asked until it says both, for at most `reporting.report_timeout_s` after the power
    path showed the trip: a BMS that reports periodically is given its period. The flag
    must name the protection under test, and none of `rivals` (the other protections
    that cut the same path) by its own name: a BMS that says another acted says the
    plan timed the wrong protection.
    """
    # a flag the protocol has no bit for (a JBD board's imbalance) is not judged
    flags_known = Capability.protections in dut.capabilities and can_report(dut.protocol, side.flag)
    seen: list[BmsStatus] = []
    rivals = [r for r in rivals or [] if r != side.flag]

    def precise(s: BmsStatus) -> set[str]:
        """The protections the BMS names as such (a coarse flag names none of them)."""
        return {str(p) for p in s.protections or ()}

    def named(s: BmsStatus) -> bool:
        if s.protections is None:
            return True
        return s.indicates(side.flag) and not set(rivals) & precise(s)

    def reported() -> bool:
        seen.append(dut.read_status())
        s = seen[-1]
        flag = not flags_known or named(s)
        return flag and not getattr(s, side.fet)

    waited = wait_for(
        clock, reported, spec.reporting.report_timeout_s, spec.test_conditions.poll_period_s
    )
    status = seen[-1]
    context = {**context, "report_after_s": waited}
    fet_on = getattr(status, side.fet)
    if flags_known and status.protections is not None:
        flags = sorted(status.protections) or ["none"]
        others = sorted(set(rivals) & precise(status))
        record.flag(
            f"{side.protection}_reported_flag",
            named(status),
            clause=p.clause,
            context=context,
            note=f"BMS reports protections: {', '.join(flags)}"
            + (f"; {', '.join(others)} must not have acted" if others else ""),
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
    """A first clear trip (its delay sets the search's dwell and rest) and the BMS's
    report at it, the threshold by ramp and bisection, then the release coming back (if
    the protection has a release level).

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
    bound = reach_of(side, stim, spec)
    trip_level = bound.beyond(far, stim.margin, unit, accuracy_of(stim))  # before anything
    start, stop = near - d * stim.margin, trip_level
    highest = stim.pack_at(max(start, stop, stim.rest))
    context = {**context, **bound.context()}
    rivals = [c.protection for c in stim.competitors(spec)]

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
    # A first clear trip: the BMS's own report at it, and how long this DUT takes, so
    # every level of the search dwells (and rests) longer than its delay, however slow.
    first = trip_time_by_polling(
        clock,
        apply=lambda: stim.apply(trip_level),
        observe=path.read,
        tripped=path.interrupted,
        timeout_s=FIRST_TRIP_FACTOR * p.delay_s.high + tc.settle_s,
        period_s=max(tc.poll_period_s, p.delay_s.high / 20),
        pre_polls=0,
    )
    dut_report(side, dut, clock, spec, p, record, context, rivals)
    if not first.tripped:
        waited = FIRST_TRIP_FACTOR * p.delay_s.high + tc.settle_s
        record(
            f"{side.protection}_threshold",
            None,
            unit,
            **against(p.threshold, p.clause),
            evidence="instrument",
            instrument=path.instrument,
            context={**context, "first_trip_level": trip_level},
            note=f"{path.label} never stopped within {waited:g} s at {trip_level:.4g} {unit}, "
            f"beyond the whole band",
        )
        return
    if at_trip is not None:
        at_trip()
    slowest = max(p.delay_s.high, first.bracket[1] if first.bracket else 0.0)
    dwell = tc.dwell_factor * slowest + tc.settle_s if dwell_s is None else dwell_s
    context = {**context, "first_trip_s": first.time_s, "dwell_s": dwell, "rest_s": slowest}
    if not rearm():
        record(
            f"{side.protection}_threshold",
            None,
            unit,
            **against(p.threshold, p.clause),
            evidence="instrument",
            instrument=path.instrument,
            context=context,
            note="the BMS did not come back after the first trip: no search",
        )
        return
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
        rest=lambda: stim.apply(stim.rest),
        rest_s=slowest,
    )
    record_search(
        record, f"{side.protection}_threshold", trip, p.threshold, p.clause, stim, path,
        f"{stim.label}_threshold", context,
    )  # fmt: skip

    # The first trip at this level came no sooner than its last quiet poll: a re-trip
    # (which times nothing, it only needs the DUT tripped) waits that long before polling.
    unseen = min(first.bracket[0] if first.bracket else 0.0, dwell)

    def retrip() -> bool:
        stim.apply(trip_level)
        clock.sleep(unseen)
        seen = wait_for(
            clock, lambda: path.interrupted(path.read()), dwell - unseen, tc.poll_period_s
        )
        return seen is not None

    rel = p.release
    if rel is None:  # no release level: leave the DUT recovered by its own rule
        if trip.above is not None:
            rearm()
        return
    if not trip.found:
        return
    if not retrip():
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
    """The delay from a step to `level` (default: clearly beyond the band, short of any
    other protection) to the trip; None when the path did not conduct before the step.

    The step is timed from its command; the instrument holds the level up to its
    response time later, so the delay lies up to that much below the polls' bracket:
    the bracket is widened by it, the value taken from the middle of the widened
    bracket, and the budget names it beside the polls.
    """
    p, tc = side.spec(spec), spec.test_conditions
    d = side.direction
    bound = reach_of(side, stim, spec)
    if level is None:
        far = p.threshold.high if d > 0 else p.threshold.low
        level = bound.beyond(far, stim.margin, stim.unit, accuracy_of(stim))  # nothing sent yet
    else:
        bound.check(level, stim.unit)
    context = {**context, **bound.context()}
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
    lag, lag_source = response_bound(stim, level, trip, readback[0] if readback else None)
    bracket = None
    if trip.bracket is not None:
        bracket = (max(trip.bracket[0] - lag, 0.0), trip.bracket[1])
    value = None if bracket is None else (bracket[0] + bracket[1]) / 2
    wf = trip_waveform(stim.label + "_" + name, trip, path.label, "A", path.trip_below_a)
    m = record(
        f"{side.protection}_{name}",
        value,
        "s",
        **against(p.delay_s, p.clause),
        bracket=bracket,
        resolution=trip.resolution_s,
        budget=delay_budget(trip, clock.virtual, lag, lag_source),
        evidence="instrument",
        instrument=path.instrument,
        stimulus=StimulusRecord(
            stim.quantity, stim.unit, level, readback[0] if readback else None, stim.instrument
        ),
        waveform=record.waveform(wf),
        context={
            **context,
            "t_step": trip.t_step,
            "polls": len(trip.polls) - trip.pre_polls,
            "poll_bracket": list(trip.bracket) if trip.bracket else None,
            "response_s": lag,
        },
        note=f"step to {level:.4g} {stim.unit}"
        + ("" if trip.tripped else f"; {path.label} still flowing after {timeout:g} s"),
    )
    return trip, m
