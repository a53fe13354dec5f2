"""State of charge: the BMS's coulomb count against a charge the station drives and measures.

The station is the evidence. It drives a known current (the charger, or the load) for
the time the spec's charge takes, polls that instrument's read-back current at a period,
and integrates it: each interval at the mean of the readings at its ends, from the
command that started the current to the one that stopped it. Before and after, with no
current flowing, it asks the BMS for its remaining capacity and SoC. What the BMS
counted minus what the station drove is the BMS's counting error, in % of the spec's
capacity; its SoC change minus the station's charge over that capacity is its SoC
error, in SoC points. Both carry the uncertainty of the station's charge (the read-back
accuracy over the whole time, the on/off instants, the current between polls) and of
the BMS's reporting steps (it reports in whole 10 mAh or whole % steps, so each reading
is within half a step of what it holds; where the link codes a field coarser than the
spec says, its own step: `BmsStatus.steps`).

A whole-% SoC read at rest before and after is within half a point each: over 25 points
a gain 10 % high (2.5 points) reads 2 or 3 depending on where the start fell between two
steps, and its verdict with it (2.00 ± 0.83 conditional, 3.00 ± 0.83 failed). So the
SoC error is taken where the BMS's own SoC changes step while the charge flows: the
BMS is read every 1/20 of a step's charge from the start until its SoC first changes,
and over the last two steps' charge, where it last changed. Between those two changes
the BMS counted exactly their difference, whole steps; the station's charge at each is
bracketed by the reads either side (a twentieth of a step wide). The error over that
span is taken to the spec's charge (x charge / span: a counting error grows with the
charge) and judged with the station's charge over the span and both brackets in its
budget: a few hundredths of a point instead of two half-steps. Where the SoC changes too
seldom for two such changes, the readings at rest are judged, with their half-steps.

The pack is first brought inside the spec's SoC window with room for the step (driven,
not measured), so a full or empty BMS never clips the count. Current through emulated
cells is bounded by the emulators: the cells' current limit is raised for the plan to
what the current needs, within the station's limit.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from typing import Literal, NamedTuple

from dut_drivers.base import BmsLink, BmsStatus, Capability
from instruments.accuracy import Accuracy
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import Limit, StateOfCharge
from rig.measure import rectangular, resolution_component
from rig.measure.budget import WALL_CLOCK_PPM
from rig.measure.uncertainty import Component
from rig.plugin.fixtures import Recorder
from rig.results.waveform import Marker, Series, Waveform
from rig.station import Station
from rig.station.roles import Charger, Load
from test_plans._power_path import open_pack, pack_ceiling

Direction = Literal["charge", "discharge"]
# The charger's CV setpoint above the pack while it drives the charge, as for the trips.
SECONDS_PER_HOUR = 3600.0
# While a change of the BMS's SoC is awaited, it is read this often per step's charge
# (a step's twentieth: 72 s at 2.5 A on 100 Ah), over this many steps' charge at each end.
EDGE_READS_PER_STEP = 20
EDGE_WINDOW_STEPS = 2.0


def settings(spec: DutSpec) -> StateOfCharge:
    if spec.state_of_charge is None:
        raise LookupError("the spec has no state_of_charge section")
    return spec.state_of_charge


@dataclass
class Reading:
    t: float  # clock before the request
    amps: float  # signed: > 0 into the pack


class Running(NamedTuple):
    """At one reading, from the current's start: what the station's sources of
    uncertainty add up to so far (Ah), so a span between two readings has its own."""

    t: float
    band_ah: float  # the read-back's accuracy, integrated
    between_ah: float  # half the change between consecutive read-backs, integrated


@dataclass
class DrivenCharge:
    """What the station drove, in Ah (signed: > 0 into the pack), and how it knows."""

    ah: float
    seconds: float
    readings: list[Reading]
    budget: list[Component] = field(default_factory=list)  # in Ah
    instrument: str = ""
    running: list[Running] = field(default_factory=list)  # one per reading
    band_source: str = ""
    on_ah: float = 0.0  # the charge the on instant leaves unsure (the command's span)

    def span_budget(self, t_from: float, t_to: float, ah: float, virtual: bool) -> list[Component]:
        """The station's charge between two instants of the drive (Ah): the read-back
        accuracy and the current between polls over the readings that cover the span,
        the on instant if the span starts before the first reading, the clock's rate."""
        before = [r for r in self.running if r.t <= t_from]
        after = [r for r in self.running if r.t >= t_to] or self.running[-1:]
        start = before[-1] if before else Running(t_from, 0.0, 0.0)
        end = after[0]
        h = SECONDS_PER_HOUR
        budget = [
            rectangular(
                f"{self.instrument} current read-back (over the span)",
                (end.band_ah - start.band_ah) / h,
                self.band_source,
            )
        ]
        if not before:
            budget.append(
                resolution_component(
                    self.on_ah, "on instant (current starts within the command)", "Ah"
                )
            )
        if end.between_ah > start.between_ah:
            budget.append(
                rectangular(
                    "current between polls (over the span)",
                    (end.between_ah - start.between_ah) / h,
                    "measured: half the change between consecutive read-backs (linear assumed)",
                )
            )
        if not virtual:
            budget.append(
                rectangular(
                    "host clock rate",
                    abs(ah) * WALL_CLOCK_PPM * 1e-6,
                    f"±{WALL_CLOCK_PPM:g} ppm monotonic clock",
                )
            )
        return budget


class Drive:
    """The charger or the load, driving a set current through the pack."""

    def __init__(self, station: Station, spec: DutSpec, direction: Direction, amps: float):
        self.station, self.spec, self.direction, self.amps = station, spec, direction, amps
        self.sign = 1.0 if direction == "charge" else -1.0

    @property
    def role(self) -> Charger | Load:
        return self.station.charger if self.direction == "charge" else self.station.load

    @property
    def instrument(self) -> str:
        return self.role.name

    def on(self) -> None:
        wiring = self.station.config.wiring
        if wiring.cells and wiring.pack is None:  # emulators carry the pack current
            limit = self.station.config.limits.cell_current.max
            self.station.cells.set_current_limit(min(limit, self.amps * 1.2 + 0.1))
        open_pack(self.station, self.amps * 1.2 + 0.1)
        if self.direction == "charge":
            pack = pack_ceiling(self.station, self.spec)
            top = self.station.config.limits.pack_voltage.max
            charger = self.station.charger
            charger.set_current_limit(self.amps)
            charger.set_voltage(min(pack + self.spec.test_conditions.charge_headroom_v, top))
            charger.on()
        else:
            load = self.station.load
            load.set_current(self.amps)
            load.on()

    def off(self) -> None:
        self.role.off()

    def read(self) -> float:
        """Signed current into the pack, as the instrument measures it."""
        return self.sign * abs(self.role.measure_current())

    def band(self, amps: float) -> Accuracy:
        return self.role.accuracy("current_meas", abs(amps))


def _grid(elapsed_s: float, period_s: float) -> float:
    """The next poll on the plain grid, one period apart from the current's start."""
    return (math.floor(elapsed_s / period_s + 1e-9) + 1) * period_s


def drive(
    clock: Clock,
    drive: Drive,
    ah: float,
    period_s: float,
    monitor: Track | None = None,
) -> DrivenCharge:
    """Drive `ah` (magnitude) at the drive's current, polling its read-back every
    `period_s` (closer where the monitor awaits a change of the BMS's SoC); integrate the
    readings. The current runs for ah / amps hours of the clock (the set current, not a
    reading, decides when to stop: the charge is what was measured, whatever it came
    to). `monitor(t, ah_so_far, amps)` is called after each poll."""
    duration = ah / drive.amps * SECONDS_PER_HOUR
    t_on0 = clock.now()
    drive.on()
    t_on1 = clock.now()
    readings = [Reading(clock.now(), drive.read())]
    running = readings[0].amps * (readings[0].t - (t_on0 + t_on1) / 2)
    elapsed = 0.0
    while True:
        upcoming = monitor.next_poll(elapsed, period_s) if monitor else _grid(elapsed, period_s)
        elapsed = min(upcoming, duration)
        wait = t_on1 + elapsed - clock.now()
        if wait > 0:
            clock.sleep(wait)
        readings.append(Reading(clock.now(), drive.read()))
        a, b = readings[-2], readings[-1]
        running += (a.amps + b.amps) / 2 * (b.t - a.t)
        if monitor is not None:
            monitor(b.t, running / SECONDS_PER_HOUR, b.amps)
        if elapsed >= duration - 1e-9:
            break
    t_off0 = clock.now()
    drive.off()
    t_off1 = clock.now()

    t_on, t_off = (t_on0 + t_on1) / 2, (t_off0 + t_off1) / 2
    first, last = readings[0], readings[-1]
    ah_total = first.amps * (first.t - t_on) + last.amps * (t_off - last.t)
    band_as = drive.band(first.amps).limit(first.amps) * (first.t - t_on)
    between = 0.0
    sums = [Running(first.t, band_as, between)]
    for a, b in itertools.pairwise(readings):
        dt = b.t - a.t
        ah_total += (a.amps + b.amps) / 2 * dt
        band_as += (drive.band(a.amps).limit(a.amps) + drive.band(b.amps).limit(b.amps)) / 2 * dt
        between += abs(b.amps - a.amps) / 2 * dt
        sums.append(Running(b.t, band_as, between))
    band_as += drive.band(last.amps).limit(last.amps) * (t_off - last.t)
    h = SECONDS_PER_HOUR
    seconds = t_off - t_on
    band = drive.band(drive.amps)
    on_ah = abs(first.amps) * (t_on1 - t_on0) / h
    budget = [
        # the read-back's error is the same all along (a gain and an offset): correlated
        rectangular(f"{drive.instrument} current read-back", band_as / h, band.source),
        resolution_component(
            on_ah + abs(last.amps) * (t_off1 - t_off0) / h,
            "on/off instants (current starts/stops within the command)",
            "Ah",
        ),
    ]
    if between:
        budget.append(
            rectangular(
                "current between polls",
                between / h,
                "measured: half the change between consecutive read-backs (linear assumed)",
            )
        )
    if not clock.virtual:
        budget.append(
            rectangular(
                "host clock rate",
                abs(ah_total / h) * WALL_CLOCK_PPM * 1e-6,
                f"±{WALL_CLOCK_PPM:g} ppm monotonic clock",
            )
        )
    return DrivenCharge(
        ah_total / h, seconds, readings, budget, drive.instrument, sums, band.source, on_ah
    )


@dataclass
class BmsCount:
    remaining_ah: float | None
    soc_pct: float
    full_ah: float | None
    steps: dict[str, float] = field(default_factory=dict)  # the link's own (BmsStatus.steps)

    @classmethod
    def read(cls, dut: BmsLink, clock: Clock, spec: DutSpec) -> BmsCount:
        """The BMS's count at rest: after the settle time with no current flowing."""
        clock.sleep(spec.test_conditions.settle_s)
        s: BmsStatus = dut.read_status()
        remaining = s.remaining_capacity_ah if Capability.capacity in dut.capabilities else None
        return cls(remaining, s.soc_percent, s.full_capacity_ah, dict(s.steps))

    def step(self, field_name: str, stated: float) -> tuple[float, str]:
        """The step a reading of `field_name` lies within half of: the coarser of the
        spec's and the link's own, and whose it is."""
        own = self.steps.get(field_name, 0.0)
        if own > stated:
            return own, "the link's"
        return stated, "the spec's"


@dataclass(frozen=True)
class Edge:
    """The BMS's SoC changing step while the charge flowed: between the station's charge
    (signed Ah from the current's start) at the request of the last read that still
    showed the old value and at the reply of the first that showed the new one (their
    clock times: `t_lo`, `t_hi`)."""

    soc_from: float
    soc_to: float
    ah_lo: float
    ah_hi: float
    t_lo: float
    t_hi: float

    @property
    def ah(self) -> float:
        return (self.ah_lo + self.ah_hi) / 2

    @property
    def width_ah(self) -> float:
        return abs(self.ah_hi - self.ah_lo)


@dataclass
class EdgeWatch:
    """Where, in time from the current's start, the BMS is read closely for a change
    of its SoC: from the start until the first change, and over the last `window_s`."""

    fine_s: float
    window_s: float
    duration_s: float

    @classmethod
    def for_step(cls, step_pct: float, spec: DutSpec) -> EdgeWatch | None:
        """The watch for a SoC step of `step_pct` at the spec's current and charge; None
        where the two windows would not leave the first change ahead of the last."""
        s = settings(spec)
        step_s = step_pct / 100 * spec.dut.capacity_ah / s.current_a * SECONDS_PER_HOUR
        duration = s.charge_ah / s.current_a * SECONDS_PER_HOUR
        window = EDGE_WINDOW_STEPS * step_s
        if 2 * window >= duration:
            return None
        return cls(step_s / EDGE_READS_PER_STEP, window, duration)


@dataclass
class _Read:
    soc: float
    ah_request: float  # the station's charge at the request
    t_request: float
    watched: bool


class Track:
    """The BMS's count while the charge flows, read every `period_s` beside the station's
    running charge: the plan's waveform. Reading the BMS also keeps its link alive and
    drained (an inverter-side CAN link sends its keep-alive as it reads). With a `watch`,
    it is read at every poll of the station where a change of its SoC is awaited, and
    each change seen there is an `Edge`."""

    def __init__(
        self,
        dut: BmsLink,
        clock: Clock,
        period_s: float,
        before: BmsCount,
        capacity_ah: float,
        watch: EdgeWatch | None = None,
    ):
        self.dut, self.clock, self.period_s = dut, clock, period_s
        self.t0 = clock.now()
        self.before, self.capacity_ah, self.watch = before, capacity_ah, watch
        self.in_ah = before.remaining_ah is not None
        self.next_t = self.t0 + period_s
        self.t: list[float] = []
        self.station: list[float] = []
        self.bms: list[float] = []
        self.first: Edge | None = None  # the first change of the SoC
        self.final: Edge | None = None  # the last change in the last window
        # the reading at rest before the current: the first change is measured from it
        self.last = _Read(before.soc_pct, 0.0, self.t0, watched=True)

    def _in_last(self, elapsed_s: float) -> bool:
        w = self.watch
        return w is not None and elapsed_s >= w.duration_s - w.window_s - 1e-9

    def watching(self, elapsed_s: float) -> bool:
        w = self.watch
        if w is None:
            return False
        if self._in_last(elapsed_s):
            return True
        return self.first is None and elapsed_s < w.window_s - 1e-9

    def next_poll(self, elapsed_s: float, period_s: float) -> float:
        """When (from the current's start) the station polls next: a step's twentieth
        while a change is awaited; else the plain grid, landing on the last window."""
        w = self.watch
        if w is not None and self.watching(elapsed_s):
            return elapsed_s + w.fine_s
        grid = _grid(elapsed_s, period_s)
        if w is not None and not self._in_last(elapsed_s):
            return min(grid, w.duration_s - w.window_s)
        return grid

    def __call__(self, t: float, ah: float, amps: float = 0.0) -> None:
        watched = self.watching(t - self.t0)
        if not watched and t < self.next_t - 1e-9:
            return
        while self.next_t <= t + 1e-9:
            self.next_t += self.period_s
        t_request = self.clock.now()
        s = self.dut.read_status()
        t_reply = self.clock.now()
        at = lambda when: ah + amps * (when - t) / SECONDS_PER_HOUR  # noqa: E731
        if watched and self.last.watched and s.soc_percent != self.last.soc:
            edge = Edge(
                self.last.soc, s.soc_percent, self.last.ah_request, at(t_reply),
                self.last.t_request, t_reply,
            )  # fmt: skip
            if not self._in_last(t - self.t0):
                self.first = self.first or edge
            elif self.first is not None:  # none in the first window: no span to take
                self.final = edge
        self.last = _Read(s.soc_percent, at(t_request), t_request, watched)
        self.t.append(round((t - self.t0) / SECONDS_PER_HOUR, 9))
        if self.in_ah and self.before.remaining_ah is not None:
            self.station.append(round(self.before.remaining_ah + ah, 6))
            self.bms.append(float(s.remaining_capacity_ah or 0.0))
        else:
            self.station.append(round(self.before.soc_pct + ah * 100 / self.capacity_ah, 6))
            self.bms.append(s.soc_percent)

    @property
    def span(self) -> tuple[Edge, Edge] | None:
        """The first change and the last one, where both were seen."""
        if self.first is None or self.final is None:
            return None
        return self.first, self.final

    def waveform(self, name: str) -> Waveform:
        """The count beside the station's; where the SoC error is taken between two
        changes of the SoC, each marked."""
        unit, what = ("Ah", "remaining capacity") if self.in_ah else ("%", "SoC")
        hours = [((e.t_lo + e.t_hi) / 2 - self.t0) / SECONDS_PER_HOUR for e in self.span or ()]
        marks = [Marker(round(h, 9), "SoC change taken") for h in hours]
        return Waveform(
            name=name,
            x_label="time from the start of the current",
            x_unit="h",
            x=self.t,
            series=[
                Series(f"BMS {what} before + station charge", unit, self.station),
                Series(f"BMS {what}", unit, self.bms),
            ],
            markers=marks,
            meta={"kind": "soc_track"},
        )


def _scaled(components: list[Component], factor: float) -> list[Component]:
    return [Component(c.name, c.standard * abs(factor), c.source) for c in components]


def _steps(name: str, step: float, whose: str, factor: float) -> list[Component]:
    """Two readings of the BMS, each within half of its reporting step."""
    source = f"half its reporting step of {step:g} ({whose})"
    return [
        rectangular(f"BMS {name} before", step / 2 * abs(factor), source),
        rectangular(f"BMS {name} after", step / 2 * abs(factor), source),
    ]


def _limits(limit: Limit) -> dict[str, float]:
    return {"low": limit.low, "high": limit.high, "nominal": limit.nominal}


def make_room(
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    direction: Direction,
) -> BmsCount:
    """Bring the BMS's SoC inside the spec's window with room for the step (unmeasured)."""
    s = settings(spec)
    low, high = s.soc_window_pct
    step = s.charge_ah / spec.dut.capacity_ah * 100
    count = BmsCount.read(dut, clock, spec)
    soc = count.soc_pct
    need_low, need_high = (low, high - step) if direction == "charge" else (low + step, high)
    if need_low > need_high:
        raise ValueError(
            f"state_of_charge: a {step:.3g} % step does not fit the SoC window {low:g}..{high:g} %"
        )
    if need_low <= soc <= need_high:
        return count
    target = (need_low + need_high) / 2
    way: Direction = "charge" if soc < target else "discharge"
    ah = abs(target - soc) / 100 * spec.dut.capacity_ah
    track = Track(dut, clock, s.bms_poll_period_s, count, spec.dut.capacity_ah)
    drive(clock, Drive(station, spec, way, s.current_a), ah, s.poll_period_s, track)
    return BmsCount.read(dut, clock, spec)


def count_charge(
    direction: Direction,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
) -> None:
    """Drive the spec's charge one way; judge what the BMS counted of it."""
    s = settings(spec)
    capacity = spec.dut.capacity_ah
    to_pct = 100.0 / capacity
    before = make_room(station, dut, clock, spec, direction)
    soc_step, soc_whose = before.step("soc_percent", s.soc_step_pct)
    watch = EdgeWatch.for_step(soc_step, spec)
    track = Track(dut, clock, s.bms_poll_period_s, before, capacity, watch)
    driven = drive(
        clock, Drive(station, spec, direction, s.current_a), s.charge_ah, s.poll_period_s, track
    )
    after = BmsCount.read(dut, clock, spec)
    # one plot of the count, named by the plan's first measurement
    plot: list[str | None] = [record.waveform(track.waveform(f"soc_{direction}"))]
    station_budget = _scaled(driven.budget, to_pct)
    context = {
        "direction": direction,
        "current_a": s.current_a,
        "station_ah": round(driven.ah, 6),
        "hours": round(driven.seconds / SECONDS_PER_HOUR, 6),
        "polls": len(driven.readings),
        "bms_before": asdict(before),
        "bms_after": asdict(after),
    }
    took = f"{s.current_a:g} A for {driven.seconds / SECONDS_PER_HOUR:.3g} h"
    if before.remaining_ah is not None and after.remaining_ah is not None:
        counted = after.remaining_ah - before.remaining_ah
        step, whose = before.step("remaining_capacity_ah", s.capacity_step_ah)
        record(
            f"soc_{direction}_counted_error",
            (counted - driven.ah) * to_pct,
            "%",
            **_limits(s.counting_error_pct),
            clause=s.clause,
            budget=station_budget + _steps("remaining capacity", step, whose, to_pct),
            evidence="dut",
            instrument=driven.instrument,
            waveform=plot.pop() if plot else None,
            context={**context, "bms_counted_ah": round(counted, 6)},
            note=f"BMS counted {counted:+.3f} Ah, station drove {driven.ah:+.3f} Ah ({took})",
        )
    span = track.span
    if span is not None:
        value, budget, more, note = soc_error_between(span, driven, s.charge_ah, to_pct, clock)
        context.update(more)
    else:
        expected = driven.ah * to_pct
        moved = after.soc_pct - before.soc_pct
        value = moved - expected
        budget = station_budget + _steps("SoC", soc_step, soc_whose, 1.0)
        note = (
            f"BMS SoC {before.soc_pct:g} % -> {after.soc_pct:g} % ({moved:+.3g}), read at "
            f"rest (no two changes of its SoC to take the span between); station "
            f"{expected:+.3g} % of {capacity:g} Ah ({took})"
        )
    record(
        f"soc_{direction}_soc_error",
        value,
        "%",
        **_limits(s.soc_error_pct),
        clause=s.clause,
        budget=budget,
        evidence="dut",
        instrument=driven.instrument,
        waveform=plot.pop() if plot else None,
        context=context,
        note=note,
    )
    if direction == "charge" and after.full_ah is not None:
        step, whose = after.step("full_capacity_ah", s.capacity_step_ah)
        record(
            "soc_full_capacity_error",
            (after.full_ah - capacity) * to_pct,
            "%",
            **_limits(s.full_capacity_error_pct),
            clause=s.clause,
            budget=[
                rectangular(
                    "BMS full capacity",
                    step / 2 * to_pct,
                    f"half its reporting step of {step:g} Ah ({whose})",
                )
            ],
            evidence="dut",
            instrument="dut",
            context={"bms_full_ah": after.full_ah, "spec_capacity_ah": capacity, "step_ah": step},
            note=f"BMS full capacity {after.full_ah:g} Ah, spec {capacity:g} Ah",
        )


def soc_error_between(
    span: tuple[Edge, Edge], driven: DrivenCharge, charge_ah: float, to_pct: float, clock: Clock
) -> tuple[float, list[Component], dict[str, object], str]:
    """The SoC error between two changes of the BMS's SoC: it counted exactly their
    difference; the station drove the charge between them (each bracketed by the reads
    either side). Taken to the spec's charge: value = (moved - span) x charge / |span|,
    each source through its sensitivity there (|moved| x charge / span² for the span's)."""
    first, last = span
    moved = last.soc_to - first.soc_to
    span_ah = last.ah - first.ah
    span_pct = span_ah * to_pct
    charge_pct = charge_ah * to_pct
    value = (moved - span_pct) * charge_pct / abs(span_pct)
    sensitivity = abs(moved) * charge_pct / span_pct**2  # per % of the span's charge
    station = driven.span_budget(first.t_lo, last.t_hi, span_ah, clock.virtual)
    budget = [
        *_scaled(station, to_pct * sensitivity),
        *[
            resolution_component(
                e.width_ah * to_pct * sensitivity,
                f"station's charge at the BMS's SoC change {e.soc_from:g} -> {e.soc_to:g} %",
                "% of capacity",
            )
            for e in (first, last)
        ],
    ]
    start = driven.readings[0].t
    more = {
        "soc_changes": [
            {**asdict(e), "t_lo": round(e.t_lo - start, 6), "t_hi": round(e.t_hi - start, 6)}
            for e in (first, last)
        ],
        "span_ah": round(span_ah, 6),
        "bms_moved_pct": moved,
        "taken_to_ah": charge_ah,
    }
    note = (
        f"BMS SoC {first.soc_to:g} % at {first.ah:+.3f} Ah, {last.soc_to:g} % at "
        f"{last.ah:+.3f} Ah of the station's charge ({moved:+g} points over "
        f"{span_pct:+.3f} %), taken to {charge_pct:g} %"
    )
    return value, budget, more, note


def idle_drift(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    """No current for `idle_s` (charger and load off, their read-back polled to show it):
    the BMS's remaining capacity must not move."""
    s = settings(spec)
    capacity = spec.dut.capacity_ah
    to_pct = 100.0 / capacity
    charger, load = station.charger, station.load
    charger.off()
    load.off()
    before = BmsCount.read(dut, clock, spec)
    t0 = clock.now()
    track = Track(dut, clock, s.bms_poll_period_s, before, capacity)
    seen: list[float] = []
    n = max(1, math.ceil(s.idle_s / s.poll_period_s))
    for k in range(1, n + 1):
        wait = t0 + min(k * s.poll_period_s, s.idle_s) - clock.now()
        if wait > 0:
            clock.sleep(wait)
        seen.append(abs(charger.measure_current()) + abs(load.measure_current()))
        track(clock.now(), 0.0)
    seconds = clock.now() - t0
    after = BmsCount.read(dut, clock, spec)
    if before.remaining_ah is None or after.remaining_ah is None:
        raise LookupError("the BMS reports no remaining capacity (needs capacity)")
    counted = after.remaining_ah - before.remaining_ah
    # An output that is off carries nothing; what its meter could miss is its offset.
    offsets = sum(role.accuracy("current_meas", 0.0).limit(0.0) for role in (charger, load))
    largest = max(seen, default=0.0)
    record(
        "soc_idle_drift_error",
        counted * to_pct,
        "%",
        **_limits(s.idle_drift_error_pct),
        clause=s.clause,
        budget=[
            rectangular(
                "current the instruments could not see (their meters' offsets)",
                offsets * seconds / SECONDS_PER_HOUR * to_pct,
                f"{charger.name} and {load.name} current accuracy at zero, over the idle span",
            ),
            *_steps(
                "remaining capacity",
                *before.step("remaining_capacity_ah", s.capacity_step_ah),
                to_pct,
            ),
        ],
        evidence="dut",
        instrument=f"{charger.name}, {load.name}",
        waveform=record.waveform(track.waveform("soc_idle")),
        context={
            "idle_s": round(seconds, 6),
            "bms_before": asdict(before),
            "bms_after": asdict(after),
            "largest_current_seen_a": largest,
        },
        note=f"BMS counted {counted:+.3f} Ah over {seconds / SECONDS_PER_HOUR:.3g} h idle "
        f"(largest current the station read: {largest:.3g} A)",
    )
