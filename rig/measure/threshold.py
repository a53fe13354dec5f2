"""Threshold search: ramp a stimulus until the response flips, then bisect the bracket.

The threshold lies between the last level that did not flip the response and the first
that did. A coarse ramp finds that bracket cheaply; bisection then narrows it to the
resolution asked for, with a `reset` between probes that flipped (the DUT must be
brought back to its unflipped state before a lower level can be tried — for a
protection, released; for a release, tripped again). Reporting the middle of the final
bracket, not its edge, keeps an over-threshold from always reading high.

At every level the stimulus instrument's read-back is taken beside the commanded value,
and the bracket is expressed in read-back terms where there is one: the evidence is what
the instrument measured it applied, not what it was told. The dwell at each level must
outlast the DUT's reaction delay, or a slow trip reads as a high threshold.

A protection's delay timer runs while its condition holds, so a level above the
threshold that did not trip within its dwell leaves the timer running into the next
level, and a later level trips on time already spent: the threshold reads high. With
`rest`, the stimulus goes back to its resting level for `rest_s` (at least the
protection's delay) before every level that follows one that did not flip, so each level
starts its timer from zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rig.clock import Clock


@dataclass(frozen=True)
class Probe:
    t: float  # clock when the response was read
    commanded: float
    readback: float | None
    response: float  # the observed quantity after the dwell (e.g. charger current)
    flipped: bool
    phase: str  # "ramp" | "bisect"

    @property
    def level(self) -> float:
        return self.commanded if self.readback is None else self.readback


@dataclass(frozen=True)
class ThresholdResult:
    found: bool
    below: Probe | None  # the last level that did not flip (ramp direction: before)
    above: Probe | None  # the first level that did
    probes: list[Probe] = field(default_factory=list)
    reset_failed: bool = False  # bisection stopped: the DUT did not come back between probes

    @property
    def bracket(self) -> tuple[float, float] | None:
        """The threshold's interval in stimulus units (read-back where available)."""
        if not self.found or self.below is None or self.above is None:
            return None
        a, b = self.below.level, self.above.level
        return (min(a, b), max(a, b))

    @property
    def commanded_bracket(self) -> tuple[float, float] | None:
        if not self.found or self.below is None or self.above is None:
            return None
        a, b = self.below.commanded, self.above.commanded
        return (min(a, b), max(a, b))

    @property
    def value(self) -> float | None:
        br = self.bracket
        return None if br is None else (br[0] + br[1]) / 2

    @property
    def width(self) -> float | None:
        br = self.bracket
        return None if br is None else br[1] - br[0]

    @property
    def last_level(self) -> float | None:
        return self.probes[-1].commanded if self.probes else None


def levels(start: float, stop: float, step: float) -> list[float]:
    """Evenly spaced levels from start to stop inclusive (either direction)."""
    if step <= 0:
        raise ValueError("step must be positive")
    direction = 1.0 if stop >= start else -1.0
    count = round(abs(stop - start) / step)
    return [round(start + direction * i * step, 9) for i in range(count + 1)]


def search_threshold(
    clock: Clock,
    apply: Callable[[float], float | None],
    observe: Callable[[], float],
    flipped: Callable[[float], bool],
    start: float,
    stop: float,
    step: float,
    resolution: float,
    dwell_s: float,
    reset: Callable[[], bool] | None = None,
    rest: Callable[[], object] | None = None,
    rest_s: float = 0.0,
) -> ThresholdResult:
    """Ramp from `start` towards `stop` by `step`, then bisect to `resolution`.

    `apply(level)` sets the stimulus and returns the instrument's read-back (or None);
    `observe()` reads the response, `flipped(value)` judges it. Without `reset` (or
    when `step` already meets `resolution`) the ramp's bracket is the result; a `reset`
    that returns False (the DUT would not come back) ends the bisection there, and the
    result says so (`reset_failed`). `rest()` puts the stimulus back at rest; it runs,
    and the search waits `rest_s`, before each level that follows one that did not flip.
    """
    if resolution <= 0:
        raise ValueError("resolution must be positive")
    probes: list[Probe] = []

    def probe(level: float, phase: str) -> Probe:
        if rest is not None and probes and not probes[-1].flipped:
            rest()
            clock.sleep(rest_s)
        readback = apply(level)
        clock.sleep(dwell_s)
        value = observe()
        p = Probe(clock.now(), level, readback, value, flipped(value), phase)
        probes.append(p)
        return p

    below: Probe | None = None
    above: Probe | None = None
    for level in levels(start, stop, step):
        p = probe(level, "ramp")
        if p.flipped:
            above = p
            break
        below = p
    if above is None:
        return ThresholdResult(False, below, None, probes)
    if below is None:
        # flipped at the very first level: the bracket's far side is unknown
        return ThresholdResult(False, None, above, probes)

    flipped_now = True  # the ramp ended on a level that flipped
    while reset is not None and abs(above.commanded - below.commanded) > resolution * (1 + 1e-6):
        if flipped_now and not reset():
            return ThresholdResult(True, below, above, probes, reset_failed=True)
        mid = round((below.commanded + above.commanded) / 2, 9)
        p = probe(mid, "bisect")
        flipped_now = p.flipped
        if p.flipped:
            above = p
        else:
            below = p
    return ThresholdResult(True, below, above, probes)
