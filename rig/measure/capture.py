"""Trip time by capture: a digitizer armed on the current, the step applied, the edge found.

Polling cannot time a trip of a few hundred microseconds: one instrument exchange takes
longer than the whole event. A digitizer can. It is armed on an edge trigger at the
protection's level with a pre-trigger, so the record shows the quantity crossing the
level going in and crossing it again coming out (the FET opening). Both crossings are
found in the samples; each lies between the last sample before it and the first sample
past it, so the time between them is known to within one sample interval at each end.
That interval is the resolution; the bracket is the widest interval consistent with the
samples, and the value its middle. (Interpolating between the samples would do better on
a smooth edge and worse on a kinked one, such as a FET's fall shorter than two samples.)

The samples are the instrument's, so their timing is its timebase: a ppm error of the
duration, in the budget beside the two crossings. The level the crossings are found at is
read through the instrument's gain and offset: an error δ of the level moves a crossing
by δ / slope, so the budget also carries the level's accuracy divided by the slopes the
record shows at each crossing (the same δ at both, so they add), and half a code of the
record's quantisation divided by each slope: on an 8-bit record a sample reads past the
level from up to half a code before it (independent at the two crossings).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rig.clock import Clock

SLOPE_HALF_WINDOW = 3  # samples each side of a crossing the slope is fitted over


class CaptureRecord(Protocol):
    """What a digitizer returns: samples in the measured unit, trigger sample at t = 0."""

    times_s: np.ndarray
    values: np.ndarray
    sample_interval_s: float
    trigger_index: int


class CaptureSettingsLike(Protocol):
    sample_interval_s: float
    points: int
    pretrigger_points: int


class CaptureDevice(Protocol):
    """The station's digitizer role (levels and full scale in the measured unit)."""

    def arm(
        self,
        level: float,
        rising: bool = True,
        sample_interval_s: float = 1e-6,
        points: int = 2000,
        pretrigger_points: int = 200,
        full_scale: float | None = None,
    ) -> CaptureSettingsLike: ...

    def state(self) -> str: ...

    def fetch(self, binary: bool = True) -> CaptureRecord: ...

    def abort(self) -> None: ...


@dataclass(frozen=True)
class Edge:
    """A crossing of a level: it happened after sample `index - 1` and at or before
    sample `index`."""

    index: int
    t_before: float  # time of the last sample not past the level
    t_after: float  # time of the first sample past it
    slope: float  # units per second: a line fitted to the samples around it


def find_edge(
    times: np.ndarray, values: np.ndarray, level: float, rising: bool, start: int = 1
) -> Edge | None:
    """The first crossing of `level` in the direction asked, at or after sample `start`.

    A record that is already past the level at its first sample has no crossing there:
    the search needs a sample on the near side first.
    """
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return None
    past = v >= level if rising else v < level
    for i in range(max(start, 1), len(v)):
        if past[i] and not past[i - 1]:
            return Edge(i, float(times[i - 1]), float(times[i]), _slope(times, v, i))
    return None


def _slope(times: np.ndarray, v: np.ndarray, i: int, half: int = SLOPE_HALF_WINDOW) -> float:
    """Least-squares slope over the samples `i - half - 1 .. i + half`: two samples alone
    say little on a quantised record (one code per interval reads as the slope)."""
    lo, hi = max(i - 1 - half, 0), min(i + half + 1, len(v))
    t = np.asarray(times[lo:hi], dtype=float)
    y = v[lo:hi]
    spread = float(np.sum((t - t.mean()) ** 2))
    if spread <= 0:
        return math.inf
    return float(np.sum((t - t.mean()) * (y - y.mean())) / spread)


@dataclass(frozen=True)
class CaptureResult:
    triggered: bool  # the record completed (the trigger came)
    tripped: bool  # the quantity came back through the level within the record
    level: float
    end_level: float
    rising: bool
    sample_interval_s: float  # the instrument's, read back: the resolution
    t_apply: float  # clock before the step
    t_applied: float  # clock after it
    t_done: float  # clock when the record was seen complete (or the wait gave up)
    times_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    start: Edge | None = None  # the level crossed going in
    end: Edge | None = None  # crossed coming out: the trip

    @property
    def bracket(self) -> tuple[float, float] | None:
        """Duration between the two crossings: every value the samples allow."""
        if self.start is None or self.end is None:
            return None
        return (self.end.t_before - self.start.t_after, self.end.t_after - self.start.t_before)

    @property
    def time_s(self) -> float | None:
        """The middle of the bracket: unbiased whatever the signal's shape between
        samples, when the samples fall at no particular phase of it."""
        br = self.bracket
        return None if br is None else (br[0] + br[1]) / 2

    @property
    def code_step(self) -> float:
        """The record's value step (an ADC code) where it shows one: the distinct values
        all lie on a grid of that step; 0 for a record that does not."""
        distinct = np.unique(np.round(self.values, 12))
        if len(distinct) < 3:
            return 0.0
        gaps = np.diff(distinct)
        step = float(gaps.min())
        multiples = gaps / step
        if step <= 0 or np.max(np.abs(multiples - np.round(multiples))) > 1e-3:
            return 0.0
        return step

    @property
    def peak(self) -> tuple[float, float] | None:
        """(value, time) of the extreme sample in the direction of the step."""
        if len(self.values) == 0:
            return None
        i = int(np.argmax(self.values) if self.rising else np.argmin(self.values))
        return float(self.values[i]), float(self.times_s[i])


def trip_time_by_capture(
    clock: Clock,
    digitizer: CaptureDevice,
    apply: Callable[[], Any],
    level: float,
    *,
    rising: bool = True,
    end_level: float | None = None,
    sample_interval_s: float = 1e-6,
    points: int = 2000,
    pretrigger_points: int = 200,
    full_scale: float | None = None,
    timeout_s: float = 1.0,
    poll_s: float = 0.001,
    release: Callable[[], Any] | None = None,
) -> CaptureResult:
    """Arm on `level` (rising or falling edge), apply the step, fetch, find both edges.

    The pre-trigger memory is filled before the step (an instrument takes no trigger until
    it is). `release` undoes the step the moment the record is complete or the wait timed
    out (a short relay is opened before anything else); it runs even if fetching fails.
    `end_level` (default `level`) is the level whose crossing back ends the interval.
    """
    if timeout_s <= 0 or poll_s <= 0:
        raise ValueError("timeout_s and poll_s must be positive")
    back = level if end_level is None else end_level
    settings = digitizer.arm(
        level,
        rising=rising,
        sample_interval_s=sample_interval_s,
        points=points,
        pretrigger_points=pretrigger_points,
        full_scale=full_scale,
    )
    dt = settings.sample_interval_s
    clock.sleep(settings.pretrigger_points * dt)
    released = False

    def undo() -> None:
        nonlocal released
        if release is not None and not released:
            released = True
            release()

    try:
        t_apply = clock.now()
        apply()
        t_applied = clock.now()
        clock.sleep((settings.points - settings.pretrigger_points) * dt)
        complete = digitizer.state() == "complete"
        while not complete and clock.now() - t_applied < timeout_s:
            clock.sleep(poll_s)
            complete = digitizer.state() == "complete"
        t_done = clock.now()
        undo()
        if not complete:
            digitizer.abort()
            return CaptureResult(False, False, level, back, rising, dt, t_apply, t_applied, t_done)
        trace = digitizer.fetch()
    finally:
        undo()
    times = np.asarray(trace.times_s, dtype=float)
    values = np.asarray(trace.values, dtype=float)
    start = find_edge(times, values, level, rising)
    end = None if start is None else find_edge(times, values, back, not rising, start.index + 1)
    return CaptureResult(
        True,
        end is not None,
        level,
        back,
        rising,
        float(trace.sample_interval_s),
        t_apply,
        t_applied,
        t_done,
        times,
        values,
        start,
        end,
    )
