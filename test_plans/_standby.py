"""Standby and sleep: what the BMS costs the pack when nothing flows.

A BMS runs from the pack it guards, so its own supply current flows out of every cell:
the station sees it in the cell emulators' current with the charger and the load off,
read on a low meter range (the N6781A's 100 mA and 1 mA ranges: microamperes matter
here), or, where a battery simulator holds the pack and the emulators feed only the
sense taps, in the battery simulator's current (on its one range: an RP7952A reads it to
±35 mA, an EA PSB 10060-120 to ±0.28 A, so there the plan is conditional at best).
Everything below is the station's evidence; the plan talks to the BMS only where talking
is the stimulus (a host's request as a wake-up source), because a request starts its
idle timer again.

- `standby_awake_current`: the draw right after a last exchange, awake and idle;
- `standby_time_to_sleep`: from that exchange to the draw falling to its sleep level,
  bracketed by the station's polls every `standby.poll_s` (where the spec states an
  idle timer). Each reading is placed with its band (its U, as the draw is recorded):
  asleep only where reading + U lies below the level between the two stated draws,
  awake only where reading - U lies at or above it; a band across that level cannot tell
  (on a battery simulator's ±35 mA or ±0.28 A against a 7.6 mA level, none can). The
  bracket runs from the last poll that showed the BMS awake to the first that showed it
  asleep; where no poll could show it asleep, the fall, if any, lay after the last awake
  poll: that bracket, to the end of the watch, is recorded with the reason, conditional
  (or failed where even its start lies past the limit);
- `standby_asleep_current`: the draw asleep, on the range that holds it;
- `standby_months_awake` / `standby_months_asleep`: the months the spec's capacity would
  last at those draws (U from the current's, relative), against the spec's minimum;
- `standby_wakes_on_<source>`: each wake-up source the spec names (`charger`: a
  charger's voltage on P+, and the charge path conducts; `communication`: a host's
  request), the draw after it, with its band, at or above the level between asleep and
  awake (no value where the charge path did not conduct). The BMS falls asleep again
  between the two.

On a bench this takes hours (the idle timer, twice): the plan is marked `long` and its
duration is estimated before the run starts (`duration_s`); against simlab an idle hour
costs a few hundred scans' work.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Literal

from dut_drivers.base import BmsLink
from dut_drivers.errors import BmsError
from instruments.accuracy import Accuracy
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.campaign_spec import Standby
from rig.config.spec import Limit
from rig.measure import Component, TripResult, rectangular, trip_time_by_polling, wait_for
from rig.measure.budget import delay_budget
from rig.measure.traces import trip_waveform
from rig.measure.uncertainty import COVERAGE_FACTOR
from rig.plugin.fixtures import Recorder
from rig.station import Station
from rig.station.fitness import pack_volts
from test_plans._power_path import PowerPath
from test_plans._trip import against

HOURS_PER_MONTH = 730.5  # 365.25 days / 12

# Where a draw reading places the BMS, its band taken: "either" where the band reaches
# across the level between asleep and awake (the station cannot tell there).
Side = Literal["asleep", "awake", "either"]


def settings(spec: DutSpec) -> Standby:
    if spec.standby is None:
        raise LookupError("the spec has no standby section")
    return spec.standby


def duration_s(spec: DutSpec) -> float:
    """Bench time the plan takes: the idle timer once per sleep (one before the first
    wake-up source, one before each further one), and a few polls besides."""
    s = spec.standby
    if s is None:
        return 0.0
    after = s.sleep_after_s.high if s.sleep_after_s is not None else 0.0
    sleeps = max(1, len(s.wakes_on))
    return sleeps * (after + 2 * s.poll_s) + 4 * spec.test_conditions.settle_s


class DrawMeter:
    """The BMS's own draw where it flows: out of the battery simulator where one holds
    the pack (the cell emulators then feed only the sense taps), else out of every cell,
    read on one cell emulator channel."""

    def __init__(self, station: Station, s: Standby):
        self.cells = station.cells
        self.pack = station.pack if station.config.wiring.pack is not None else None
        self.position = self.cells.positions[0]
        if self.pack is not None:
            self.instrument = self.pack.name
            self.context: dict[str, object] = {"battery_simulator": self.pack.name}
        else:
            ch = self.cells.channel_of(self.position)
            self.instrument = f"{ch.instrument}:{ch.channel}"
            self.context = {"cell": self.position}
        self.range_a = s.current_range_a

    def read(self, largest_a: float | None = None) -> tuple[float, Accuracy]:
        """The draw (A) on the range holding `largest_a` (default the spec's); a draw
        beyond it is read again on the full range. A battery simulator reads it on its
        one range (+ sourcing: the draw)."""
        if self.pack is not None:
            amps = self.pack.measure_current()
            return amps, self.pack.accuracy("current_meas", abs(amps))
        amps, band = self.cells.measure_small_current(self.position, largest_a or self.range_a)
        if not math.isfinite(amps):
            amps, band = self.cells.measure_small_current(self.position, 3.0)
        return amps, band

    def done(self) -> None:
        if self.pack is None:
            self.cells.restore_ranges()


def draw_u(amps: float, band: Accuracy) -> float:
    """A draw reading's U (k = 2): its band read as a rectangular distribution, as the
    draw's own record has it."""
    return COVERAGE_FACTOR * band.standard(amps)


def side(amps: float, band: Accuracy, level: float) -> Side:
    """Where a draw reading places the BMS against `level` (between the asleep and awake
    draws), its band taken: asleep only where reading + U lies below the level, awake
    only where reading - U lies at or above it; a band across the level is "either": a
    reading is never taken for asleep or awake as if it were exact."""
    u = draw_u(amps, band)
    if amps + u < level:
        return "asleep"
    if amps - u >= level:
        return "awake"
    return "either"


class DrawWatch:
    """The draw polled for the fall asleep: each reading with its band and its side."""

    def __init__(self, meter: DrawMeter, level: float):
        self.meter, self.level = meter, level
        self.seen: list[tuple[float, Accuracy, Side]] = []

    def __call__(self) -> float:
        amps, band = self.meter.read()
        self.seen.append((amps, band, side(amps, band, self.level)))
        return amps

    def asleep(self, _amps: float) -> bool:
        """The poll just taken (`trip_time_by_polling` asks right after it) shows the
        BMS asleep."""
        return self.seen[-1][2] == "asleep"


def _months(
    name: str,
    amps: float,
    band: Accuracy,
    s: Standby,
    spec: DutSpec,
    record: Recorder,
    minimum: float,
    meter: DrawMeter,
) -> None:
    capacity = s.capacity_ah or spec.dut.capacity_ah
    u_draw = draw_u(amps, band)
    if amps - u_draw <= 0:  # its band reaches 0 A: the months are unbounded (the draw is judged)
        return
    value = capacity / amps / HOURS_PER_MONTH
    # months go as 1 / draw: the band's low end gives the longer side, taken both ways
    far = capacity / (amps - u_draw) / HOURS_PER_MONTH
    budget = [
        Component("draw read-back accuracy (at its band's low end)", (far - value) / 2, band.source)
    ]
    record(
        name,
        value,
        "months",
        low=minimum,
        high=None,
        comparison="GE",
        clause=s.clause,
        budget=budget,
        evidence="instrument",
        instrument=meter.instrument,
        context={"capacity_ah": capacity, "draw_a": amps},
        note=f"{capacity:g} Ah at {amps * 1e3:.4g} mA",
    )


def _current(
    name: str,
    amps: float,
    band: Accuracy,
    limit: Limit,
    s: Standby,
    record: Recorder,
    meter: DrawMeter,
) -> None:
    record(
        name,
        amps,
        "A",
        **against(limit, s.clause),
        budget=[
            rectangular(f"{meter.instrument} current read-back", band.limit(amps), band.source)
        ],
        evidence="instrument",
        instrument=meter.instrument,
        context=meter.context,
        note=f"the BMS's own draw, read on {meter.instrument}",
    )


def standby_and_sleep(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    s = settings(spec)
    tc = spec.test_conditions
    meter = DrawMeter(station, s)
    # asleep below the middle of the two stated levels
    asleep_below = (s.asleep_current_a.high + s.awake_current_a.nominal) / 2
    try:
        dut.read_status()  # the last host traffic: the idle timer starts here
        clock.sleep(tc.settle_s)
        awake, band = meter.read()
        _current("standby_awake_current", awake, band, s.awake_current_a, s, record, meter)
        _months("standby_months_awake", awake, band, s, spec, record, s.min_months_awake, meter)
        if s.sleep_after_s is None:
            return
        if _sleep(s, dut, clock, record, meter, asleep_below, timed=True) == "awake":
            return
        asleep, band = meter.read(s.asleep_current_a.high * 2)
        _current("standby_asleep_current", asleep, band, s.asleep_current_a, s, record, meter)
        _months("standby_months_asleep", asleep, band, s, spec, record, s.min_months_asleep, meter)
        for i, source in enumerate(s.wakes_on):
            if i and _sleep(s, dut, clock, record, meter, asleep_below, timed=False) == "awake":
                return
            _wake(source, station, dut, clock, spec, record, meter, asleep_below)
    finally:
        meter.done()


def _fall(trip: TripResult, watch: DrawWatch) -> tuple[Side, TripResult]:
    """Where the watch left the BMS, and the trip with its bracket from the last poll
    that showed it awake (not merely not asleep: a reading whose band reaches across
    the level may already have been asleep) to the first that showed it asleep, or,
    where none did but the last could not tell, to the end of the last poll."""
    after = watch.seen[trip.pre_polls :]
    polls = trip.polls[trip.pre_polls :]
    last = after[-1][2] if after else "awake"
    if last == "awake":  # awake at the end of the watch: it never fell asleep
        return "awake", trip
    awake = [p for p, seen in zip(polls[:-1], after[:-1], strict=True) if seen[2] == "awake"]
    lo = awake[-1].t_start - trip.t_step_done if awake else 0.0
    hi = polls[-1].t_end - trip.t_step
    return last, dataclasses.replace(trip, bracket=(max(lo, 0.0), hi))


def _sleep(
    s: Standby,
    dut: BmsLink,
    clock: Clock,
    record: Recorder,
    meter: DrawMeter,
    asleep_below: float,
    timed: bool,
) -> Side:
    """From a last exchange, poll the draw until a reading shows it below `asleep_below`
    (its band taken); record the time (the first time) and whether it fell asleep, or
    that the station could not tell. Returns where the watch left the BMS."""
    assert s.sleep_after_s is not None
    limit = s.sleep_after_s
    watch = DrawWatch(meter, asleep_below)
    trip = trip_time_by_polling(
        clock,
        apply=lambda: _exchange(dut),
        observe=watch,
        tripped=watch.asleep,
        timeout_s=1.5 * limit.high + 2 * s.poll_s,
        period_s=s.poll_s,
        pre_polls=1,
    )
    polled = trip  # as the polls saw it: the plot marks a fall only where one saw it
    where, trip = _fall(polled, watch)
    if timed or where == "awake":
        amps, band, _ = watch.seen[-1]
        u = draw_u(amps, band)
        either = sum(1 for _, _, seen in watch.seen[trip.pre_polls :] if seen == "either")
        if where == "either":
            note = (
                f"the station cannot tell the BMS asleep: its last reading, "
                f"{amps * 1e3:.4g} ± {u * 1e3:.2g} mA, reaches across the "
                f"{asleep_below * 1e3:.4g} mA between asleep and awake; the fall, if any, "
                "lay after the last poll that showed it awake"
            )
        elif where == "awake":
            note = "the draw never fell to its sleep level"
        else:
            note = f"{either} poll(s) could not tell asleep from awake" if either else ""
        shown = polled if where == "either" else trip
        wf = trip_waveform("standby_time_to_sleep", shown, "BMS draw", "A", asleep_below)
        record(
            "standby_time_to_sleep",
            trip.time_s,
            "s",
            **against(limit, s.clause),
            bracket=trip.bracket,
            resolution=trip.resolution_s,
            budget=delay_budget(trip, clock.virtual),
            evidence="instrument",
            instrument=meter.instrument,
            waveform=record.waveform(wf),
            context={
                "asleep_below_a": asleep_below,
                "fell": where,
                "polls": len(trip.polls),
                "polls_undecided": either,
                "last_draw_a": amps,
                "last_draw_u_a": u,
                "t_step": trip.t_step,
            },
            note=note,
        )
    return where


def _exchange(dut: BmsLink) -> None:
    """One host request (it may go unanswered: a sleeping board wakes on it)."""
    with contextlib.suppress(BmsError):
        dut.read_status()


def _wake(
    source: str,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    meter: DrawMeter,
    asleep_below: float,
) -> None:
    """One wake-up source applied to the sleeping BMS; the draw back up, its band at or
    above the level between asleep and awake, shows it woke (a band across it: the
    station cannot tell, conditional)."""
    s = settings(spec)
    tc = spec.test_conditions
    charger_ok = True
    if source == "charger":
        # the charger well above the pack, as the charge-current plans put it (enough for
        # the BMS to see a charger): at the path's 0.5 V it sat on the detection's edge
        path = PowerPath(station, spec, "charge", tc.current.charge_headroom_v)
        path.start(pack_volts(spec))
        flowing = lambda: path.flowing(path.read())  # noqa: E731
        flows = wait_for(clock, flowing, tc.settle_s * 3, tc.poll_period_s)
        path.stop()
        charger_ok = flows is not None
    else:
        _exchange(dut)
        _exchange(dut)  # the first may go unanswered
    clock.sleep(tc.settle_s)
    amps, band = meter.read()
    record(
        f"standby_wakes_on_{source}",
        amps if charger_ok else None,  # no charge through the path: not woken by it
        "A",
        low=asleep_below,
        high=None,
        comparison="GE",
        clause=s.clause,
        budget=[
            rectangular(f"{meter.instrument} current read-back", band.limit(amps), band.source)
        ],
        evidence="instrument",
        instrument=meter.instrument,
        context={**meter.context, "draw_a": amps, "charge_path_conducted": charger_ok},
        note=f"draw {amps * 1e3:.4g} mA after the {source}, against the "
        f"{asleep_below * 1e3:.4g} mA between asleep and awake"
        + ("" if charger_ok else "; the charge path did not conduct"),
    )
