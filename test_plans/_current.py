"""Over-current procedures: the path's own current is the stimulus and the evidence.

The charger (charge over-current) or the load (discharge over-current) drives a current
through the path the protection must cut, and the same instrument sees it stop. A
threshold is searched on its setpoint (the read-back is the instrument's measured current
before the trip), a delay is a step from the test current to a level clearly beyond the
band, and the way back is the spec's recovery rule, measured on the same path:

- `delay`: with the charger or load still connected at the test current, the path flows
  again `release_delay_s` after the trip (the interval is bracketed by the trip's polls
  and the release's polls);
- `charger_removed`: it must not flow while the charger stays connected, and must flow
  once the charger has been away for `release_delay_s`;
- latching: it must not flow after `release_delay_s` (or the recovery timeout); only
  the recovery procedure's power cycle brings it back.

The second discharge level sits above the first: its threshold is searched with pulses
shorter than level 1's shortest delay (and the current back at the test current between
them), so what trips within a pulse is level 2.

How the level reaches the BMS depends on the bench (`rig.station.fitness.current_mode`,
the same decision that makes a plan not applicable where neither serves):

- real: the charger's current limit or the load's CC level is the level, on a path whose
  instruments carry it (a battery simulator, a module);
- emulated: the charger or load keeps the small test current flowing (the evidence) and a
  generator into the BMS's shunt sense input (`station.shunt`) adds the rest, so the BMS
  measures the level without it flowing (cell emulators carry 3 A; docs/measurement.md).

Every level a plan will command is checked against the station's limits (and the
generator's range) before anything is sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dut_drivers.base import BmsLink
from instruments.accuracy import Accuracy, AccuracyUnknown
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import CurrentProtection
from rig.measure import Component, Measurement, TripResult, rectangular, trip_time_by_polling
from rig.measure import Stimulus as StimulusRecord
from rig.measure.budget import WALL_CLOCK_PPM
from rig.measure.traces import trip_waveform
from rig.measure.uncertainty import resolution_component
from rig.plugin.fixtures import Ready, Recorder
from rig.safety import check_limit
from rig.station import Station
from rig.station.fitness import CURRENT_PROTECTIONS, current_levels, current_mode, pack_volts
from rig.station.fitness import delay_level as _delay_level
from rig.station.roles import Charger, Load, RoleNotFitted
from test_plans import _trip
from test_plans._isolation import Competitor
from test_plans._power_path import PowerPath, open_pack
from test_plans._trip import Side, against

# Discharge levels in rising order: each higher one may act on the lower ones' levels. A
# lower level acts slower (longer delays), so a higher one is isolated from it by time:
# its probes are pulses shorter than the lower's shortest delay (`threshold(below=)`).
DISCHARGE_LEVELS = ("discharge_oc1", "discharge_oc2", "short_circuit")

CHARGE_OC = Side("charge_oc", +1.0, "charge", "charge_fet")
DISCHARGE_OC1 = Side("discharge_oc1", +1.0, "discharge", "discharge_fet", "discharge_oc")
DISCHARGE_OC2 = Side("discharge_oc2", +1.0, "discharge", "discharge_fet", "discharge_oc")


class CurrentStimulus:
    """The charger's current limit (in CC, its CV above the pack) or the load's CC level,
    read back as the current the instrument measures; on a current-sense emulation bench,
    the test current plus the emulated rest (read back as the measured test current plus
    the generator's commanded share)."""

    unit = "A"

    def __init__(self, station: Station, spec: DutSpec, side: Side, clock: Clock):
        tc = spec.test_conditions
        self.station, self.side, self.clock = station, side, clock
        self.charge = side.path == "charge"
        self.margin = tc.current.search_margin_a
        self.coarse = tc.current.coarse_step_a
        self.fine = tc.current.threshold_step_a
        self.rest = tc.charge_test_current_a if self.charge else tc.discharge_test_current_a
        self.label = side.protection
        self.quantity = f"{side.path}_current"
        self.pack = pack_volts(spec)
        self.pulse_rest_s = 0.0  # > 0: back at `rest` this long before every level
        self.mode = "real"
        if side.protection in CURRENT_PROTECTIONS:
            mode, why = current_mode(station.config, spec, side.protection)
            if not mode:
                raise RoleNotFitted(f"{side.protection}: {why}")
            self.mode = mode
            if mode == "real":  # a battery simulator must carry the levels too
                top = max(lv.amps for lv in current_levels(spec, side.protection))
                open_pack(station, top * 1.1)
        self._emulated_a = 0.0

    @property
    def emulated(self) -> bool:
        return self.mode == "emulated"

    @property
    def role(self) -> Charger | Load:
        """The instrument that carries the real current (and sees it stop)."""
        return self.station.charger if self.charge else self.station.load

    @property
    def instrument(self) -> str:
        return self.station.shunt.name if self.emulated else self.role.name

    def refuse_beyond_limits(self, *levels: float) -> None:
        """LimitError before anything is sent if the plan would command more than the
        station's charger or load may carry (or, emulated, its generator may make)."""
        if self.emulated:
            for level in levels:
                self.station.shunt.check(max(level - self.rest, 0.0), self.side.path)
            return
        limits = self.station.config.limits
        lim = limits.charge_current if self.charge else limits.discharge_current
        what = "charge current" if self.charge else "discharge current"
        for level in levels:
            check_limit(self.instrument, what, level, lim.min, lim.max, "A")

    def _set(self, amps: float) -> None:
        if self.emulated:
            self._emulated_a = max(amps - self.rest, 0.0)
            self.station.shunt.set_current_equivalent(self._emulated_a, self.side.path)
        elif self.charge:
            self.station.charger.set_current_limit(amps)
        else:
            self.station.load.set_current(amps)

    def apply(self, level: float) -> float:
        if self.pulse_rest_s > 0 and level != self.rest:
            self._set(self.rest)
            self.clock.sleep(self.pulse_rest_s)
        self._set(level)
        return abs(self.role.measure_current()) + self._emulated_a

    def band(self, value: float) -> Accuracy:
        real = self.role.accuracy("current_meas", min(value, self.rest) if self.emulated else value)
        if not self.emulated:
            return real
        gen = self.station.shunt.accuracy(max(value - self.rest, 0.0), self.side.path)
        offset = gen.offset + real.limit(self.rest)
        return Accuracy(gen.pct, offset, math.inf, f"{gen.source}; {real.source}")

    def competitors(self, spec: DutSpec) -> list[Competitor]:
        """The discharge levels above this one, from the low edge of their bands (the
        charge path has one level only)."""
        name = self.side.protection
        if self.charge or name not in DISCHARGE_LEVELS:
            return []
        out = []
        for higher in DISCHARGE_LEVELS[DISCHARGE_LEVELS.index(name) + 1 :]:
            p = getattr(spec.protections, higher)
            if p is not None:
                low = p.threshold_a.low
                out.append(Competitor(higher, low, f"its band begins at {low:g} A"))
        return out

    def response(self, level: float) -> Accuracy | None:
        """The charger's or load's response to a current step of this size, if stated."""
        role = self.station.charger if self.charge else self.station.load
        try:
            return role.accuracy("current_response", abs(level - self.rest))
        except AccuracyUnknown:
            return None

    def confirms(self, readback: float | None, level: float) -> bool:
        """The read-back is the instrument's measured current."""
        return readback is not None and abs(readback - level) <= self.band(level).limit(level)

    def pack_at(self, level: float) -> float:
        return self.pack


def current_path(station: Station, spec: DutSpec, side: Side) -> PowerPath:
    """The path, with the charger's CV high enough to drive the stimulus current."""
    return PowerPath(station, spec, side.path, spec.test_conditions.current.charge_headroom_v)


def _recovers(
    side: Side, path: PowerPath, clock: Clock, spec: DutSpec, pack_v: float
) -> Callable[[], None]:
    """What lets the protection recover by its rule before the path may flow again."""
    p: CurrentProtection = side.spec(spec)

    def quiet() -> None:
        if p.latching or p.release_delay_s is None:
            return  # only the recovery procedure's power cycle clears it
        if p.recovery == "charger_removed":
            path.stop()
            clock.sleep(p.release_delay_s.high + spec.test_conditions.settle_s)
            path.start(pack_v)
        else:
            clock.sleep(p.release_delay_s.high)

    return quiet


def threshold(
    side: Side,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
    *,
    below: Side | None = None,
) -> None:
    """The threshold by ramp and bisection, the BMS's report at a clear trip, and the
    protection left recovered by its own rule. `below`: a lower level with a longer
    delay that the probes must not trip (pulses shorter than its shortest delay)."""
    p, tc = side.spec(spec), spec.test_conditions
    stim = CurrentStimulus(station, spec, side, clock)
    path = current_path(station, spec, side)
    stim.refuse_beyond_limits(p.threshold_a.low - stim.margin, p.threshold_a.high + stim.margin)
    dwell = None
    context: dict[str, object] = {"path": side.path}
    if below is not None:
        slow = below.spec(spec).delay_s.low
        dwell = min(tc.dwell_factor * p.delay_s.high, (p.delay_s.high + slow) / 2)
        stim.pulse_rest_s = tc.settle_s
        context |= {"pulse_s": dwell, "pulse_rest_s": tc.settle_s, "below": below.protection}
    _trip.threshold_and_release(
        side,
        stim,
        path,
        dut,
        clock,
        spec,
        record,
        ready,
        context,
        dwell_s=dwell,
        quiet=_recovers(side, path, clock, spec, stim.pack),
    )


def delay_level(side: Side, spec: DutSpec, above: Side | None) -> float:
    """Clearly beyond the band; below a higher level's band when there is one (the level
    the station's applicability check counts on: `rig.station.fitness.delay_level`)."""
    if above is None:
        margin = spec.test_conditions.current.search_margin_a
        return side.spec(spec).threshold_a.high + margin
    return _delay_level(spec, side.protection)


def delay_and_recovery(
    side: Side,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    *,
    above: Side | None = None,
) -> Measurement | None:
    """The trip delay from a step to `delay_level`, the BMS's report, then the recovery
    rule. Returns the delay measurement (None if the path never conducted)."""
    stim = CurrentStimulus(station, spec, side, clock)
    path = current_path(station, spec, side)
    level = delay_level(side, spec, above)
    stim.refuse_beyond_limits(level)
    context: dict[str, object] = {"path": side.path}
    result = _trip.trip_delay(side, stim, path, clock, spec, record, context, level=level)
    if result is None:
        return None
    trip, m = result
    rivals = [c.protection for c in stim.competitors(spec)]
    _trip.dut_report(side, dut, clock, spec, side.spec(spec), record, context, rivals)
    recovery(side, stim, path, clock, spec, record, trip, context)
    return m


def recovery(
    side: Side,
    stim: CurrentStimulus,
    path: PowerPath,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    trip: TripResult | None,
    context: dict[str, object],
    trip_instant: tuple[float, float] | None = None,
) -> None:
    """The spec's recovery rule, seen on the power path after the trip `trip` (or at
    `trip_instant`, a clock bracket, for a trip not found by polling)."""
    p: CurrentProtection = side.spec(spec)
    instant = trip_instant or (trip.instant if trip is not None else None)
    name = side.protection
    if instant is None:
        record(
            f"{name}_recovery_time",
            None,
            "s",
            **(against(p.release_delay_s, p.clause) if p.release_delay_s else {}),
            evidence="instrument",
            instrument=path.instrument,
            context=context,
            note="never tripped: no recovery to measure",
        )
        return
    if p.latching:
        hold = p.release_delay_s.high if p.release_delay_s else spec.recovery.release_timeout_s
        _held(side, stim, path, clock, record, p, hold, f"{name}_latched", context, "latching")
        return
    assert p.release_delay_s is not None
    if p.recovery == "charger_removed":
        _charger_removed(side, stim, path, clock, spec, record, p, context)
        return
    release = trip_time_by_polling(
        clock,
        apply=lambda: stim.apply(stim.rest),
        observe=path.read,
        tripped=path.flowing,
        timeout_s=2 * p.release_delay_s.high,
        period_s=spec.recovery.poll_s,
        pre_polls=0,
    )
    back = release.instant
    bracket = None if back is None else (max(back[0] - instant[1], 0.0), back[1] - instant[0])
    value = None if bracket is None else (bracket[0] + bracket[1]) / 2
    budget: list[Component] = []
    if bracket is not None:
        budget.append(resolution_component(bracket[1] - bracket[0], "trip and release polls", "s"))
        if not clock.virtual:
            budget.append(
                rectangular(
                    "host clock rate",
                    value * WALL_CLOCK_PPM * 1e-6,
                    f"±{WALL_CLOCK_PPM:g} ppm monotonic clock",
                )
            )
    wf = trip_waveform(f"{stim.label}_recovery", release, path.label, "A", path.trip_below_a)
    wf.meta["kind"] = "recovery"
    record(
        f"{name}_recovery_time",
        value,
        "s",
        **against(p.release_delay_s, p.clause),
        bracket=bracket,
        budget=budget,
        evidence="instrument",
        instrument=path.instrument,
        stimulus=StimulusRecord(stim.quantity, "A", stim.rest, None, stim.instrument),
        waveform=record.waveform(wf),
        context={**context, "rule": "delay", "trip_instant": list(instant)},
        note=f"{path.label} back at the test current {stim.rest:g} A, still connected"
        + ("" if back else f"; no current after {2 * p.release_delay_s.high:g} s"),
    )


def _held(
    side: Side,
    stim: CurrentStimulus,
    path: PowerPath,
    clock: Clock,
    record: Recorder,
    p: CurrentProtection,
    hold_s: float,
    name: str,
    context: dict[str, object],
    rule: str,
) -> None:
    """The path still stopped after `hold_s`: the protection did not release."""
    stim.apply(stim.rest)
    clock.sleep(hold_s)
    amps = path.read()
    band = stim.band(amps)
    record(
        name,
        amps,
        "A",
        low=None,
        high=path.trip_below_a,
        comparison="LE",
        clause=p.clause,
        budget=[rectangular(f"{stim.instrument} accuracy", band.limit(amps), band.source)],
        evidence="instrument",
        instrument=path.instrument,
        context={**context, "rule": rule, "hold_s": hold_s},
        note=f"{path.label} {hold_s:g} s after the trip, the {side.path} source still connected",
    )


def _charger_removed(
    side: Side,
    stim: CurrentStimulus,
    path: PowerPath,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    p: CurrentProtection,
    context: dict[str, object],
) -> None:
    """Held while the charger stays; released once it has been away for the delay."""
    assert p.release_delay_s is not None
    hold = p.release_delay_s.high + spec.test_conditions.settle_s
    _held(
        side,
        stim,
        path,
        clock,
        record,
        p,
        hold,
        f"{side.protection}_held_while_charger_connected",
        context,
        "charger_removed",
    )
    path.stop()
    clock.sleep(hold)
    path.start(stim.pack)
    clock.sleep(spec.test_conditions.settle_s)
    amps = path.read()
    band = stim.band(amps)
    record(
        f"{side.protection}_released_after_charger_removed",
        amps,
        "A",
        low=path.trip_below_a,
        high=None,
        comparison="GE",
        clause=p.clause,
        budget=[rectangular(f"{stim.instrument} accuracy", band.limit(amps), band.source)],
        evidence="instrument",
        instrument=path.instrument,
        context={**context, "rule": "charger_removed", "removed_s": hold},
        note=f"charger off for {hold:g} s, then on again at {stim.rest:g} A",
    )


def levels_compared(
    record: Recorder, slow: Measurement | None, fast: Measurement | None, spec: DutSpec
) -> None:
    """Level 2 faster than level 1: the difference of the two measured delays, judged
    > 0 with both delays' uncertainties (a level-2 that is no faster fails)."""
    p = DISCHARGE_OC2.spec(spec)
    value = None
    budget: list[Component] = []
    if slow is not None and fast is not None and None not in (slow.value, fast.value):
        assert slow.value is not None and fast.value is not None
        value = slow.value - fast.value
        for m in (slow, fast):
            budget.append(Component(f"{m.name} (u = U/2)", (m.uncertainty or 0.0) / 2, m.name))
    record(
        "discharge_oc2_faster_than_oc1",
        value,
        "s",
        low=0.0,
        high=None,
        comparison="GE",
        clause=p.clause,
        budget=budget,
        evidence="instrument",
        instrument=fast.instrument if fast is not None else "",
        context={
            "level1_delay_s": slow.value if slow else None,
            "level2_delay_s": fast.value if fast else None,
        },
        note="level-1 delay minus level-2 delay",
    )
