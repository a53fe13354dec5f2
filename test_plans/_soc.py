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

The pack is first brought inside the spec's SoC window with room for the step (driven,
not measured), so a full or empty BMS never clips the count. Current through emulated
cells is bounded by the emulators: the cells' current limit is raised for the plan to
what the current needs, within the station's limit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

from dut_drivers.base import BmsLink, BmsStatus, Capability
from instruments.accuracy import Accuracy
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import Limit, StateOfCharge
from rig.measure import rectangular, resolution_component
from rig.measure.budget import WALL_CLOCK_PPM
from rig.measure.uncertainty import Component
from rig.plugin.fixtures import Recorder
from rig.results.waveform import Series, Waveform
from rig.station import Station
from rig.station.roles import Charger, Load
from test_plans._power_path import open_pack, pack_ceiling

Direction = Literal["charge", "discharge"]
# The charger's CV setpoint above the pack while it drives the charge, as for the trips.
SECONDS_PER_HOUR = 3600.0


def settings(spec: DutSpec) -> StateOfCharge:
    if spec.state_of_charge is None:
        raise LookupError("the spec has no state_of_charge section")
    return spec.state_of_charge


@dataclass
class Reading:
    t: float  # clock before the request
    amps: float  # signed: > 0 into the pack


@dataclass
class DrivenCharge:
    """What the station drove, in Ah (signed: > 0 into the pack), and how it knows."""

    ah: float
    seconds: float
    readings: list[Reading]
    budget: list[Component] = field(default_factory=list)  # in Ah
    instrument: str = ""


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


def drive(
    clock: Clock,
    drive: Drive,
    ah: float,
    period_s: float,
    monitor: Callable[[float, float], None] | None = None,
) -> DrivenCharge:
    """Drive `ah` (magnitude) at the drive's current, polling its read-back every
    `period_s`; integrate the readings. The current runs for ah / amps hours of the
    clock (the set current, not a reading, decides when to stop: the charge is what was
    measured, whatever it came to). `monitor(t, ah_so_far)` is called after each poll."""
    duration = ah / drive.amps * SECONDS_PER_HOUR
    t_on0 = clock.now()
    drive.on()
    t_on1 = clock.now()
    readings = [Reading(clock.now(), drive.read())]
    running = readings[0].amps * (readings[0].t - (t_on0 + t_on1) / 2)
    k = 0
    while True:
        k += 1
        t_next = t_on1 + min(k * period_s, duration)
        wait = t_next - clock.now()
        if wait > 0:
            clock.sleep(wait)
        readings.append(Reading(clock.now(), drive.read()))
        a, b = readings[-2], readings[-1]
        running += (a.amps + b.amps) / 2 * (b.t - a.t)
        if monitor is not None:
            monitor(b.t, running / SECONDS_PER_HOUR)
        if t_next >= t_on1 + duration - 1e-9:
            break
    t_off0 = clock.now()
    drive.off()
    t_off1 = clock.now()

    t_on, t_off = (t_on0 + t_on1) / 2, (t_off0 + t_off1) / 2
    first, last = readings[0], readings[-1]
    ah_total = first.amps * (first.t - t_on) + last.amps * (t_off - last.t)
    band_as = drive.band(first.amps).limit(first.amps) * (first.t - t_on)
    band_as += drive.band(last.amps).limit(last.amps) * (t_off - last.t)
    between = 0.0
    for a, b in itertools.pairwise(readings):
        dt = b.t - a.t
        ah_total += (a.amps + b.amps) / 2 * dt
        band_as += (drive.band(a.amps).limit(a.amps) + drive.band(b.amps).limit(b.amps)) / 2 * dt
        between += abs(b.amps - a.amps) / 2 * dt
    h = SECONDS_PER_HOUR
    seconds = t_off - t_on
    band = drive.band(drive.amps)
    budget = [
        # the read-back's error is the same all along (a gain and an offset): correlated
        rectangular(f"{drive.instrument} current read-back", band_as / h, band.source),
        resolution_component(
            abs(first.amps) * (t_on1 - t_on0) / h + abs(last.amps) * (t_off1 - t_off0) / h,
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
    return DrivenCharge(ah_total / h, seconds, readings, budget, drive.instrument)


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


class Track:
    """The BMS's count while the charge flows, read every `period_s` beside the station's
    running charge: the plan's waveform. Reading the BMS also keeps its link alive and
    drained (an inverter-side CAN link sends its keep-alive as it reads)."""

    def __init__(
        self, dut: BmsLink, period_s: float, t0: float, before: BmsCount, capacity_ah: float
    ):
        self.dut, self.period_s, self.t0 = dut, period_s, t0
        self.before, self.capacity_ah = before, capacity_ah
        self.in_ah = before.remaining_ah is not None
        self.next_t = t0 + period_s
        self.t: list[float] = []
        self.station: list[float] = []
        self.bms: list[float] = []

    def __call__(self, t: float, ah: float) -> None:
        if t < self.next_t - 1e-9:
            return
        while self.next_t <= t + 1e-9:
            self.next_t += self.period_s
        s = self.dut.read_status()
        self.t.append(round((t - self.t0) / SECONDS_PER_HOUR, 9))
        if self.in_ah and self.before.remaining_ah is not None:
            self.station.append(round(self.before.remaining_ah + ah, 6))
            self.bms.append(float(s.remaining_capacity_ah or 0.0))
        else:
            self.station.append(round(self.before.soc_pct + ah * 100 / self.capacity_ah, 6))
            self.bms.append(s.soc_percent)

    def waveform(self, name: str) -> Waveform:
        unit, what = ("Ah", "remaining capacity") if self.in_ah else ("%", "SoC")
        return Waveform(
            name=name,
            x_label="time from the start of the current",
            x_unit="h",
            x=self.t,
            series=[
                Series(f"BMS {what} before + station charge", unit, self.station),
                Series(f"BMS {what}", unit, self.bms),
            ],
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
    track = Track(dut, s.bms_poll_period_s, clock.now(), count, spec.dut.capacity_ah)
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
    track = Track(dut, s.bms_poll_period_s, clock.now(), before, capacity)
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
    expected = driven.ah * to_pct
    moved = after.soc_pct - before.soc_pct
    record(
        f"soc_{direction}_soc_error",
        moved - expected,
        "%",
        **_limits(s.soc_error_pct),
        clause=s.clause,
        budget=station_budget + _steps("SoC", *before.step("soc_percent", s.soc_step_pct), 1.0),
        evidence="dut",
        instrument=driven.instrument,
        waveform=plot.pop() if plot else None,
        context=context,
        note=f"BMS SoC {before.soc_pct:g} % -> {after.soc_pct:g} % ({moved:+.3g}); "
        f"station {expected:+.3g} % of {capacity:g} Ah ({took})",
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
    track = Track(dut, s.bms_poll_period_s, t0, before, capacity)
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
