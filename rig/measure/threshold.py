"""Threshold search by ramp: step a stimulus until a predicate flips.

The dwell at each level must outlast the DUT's reaction delay, otherwise a slow trip is
read as a high threshold. The first level that flipped the predicate is the threshold;
the step is its resolution (the true point lies within one step before it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rig.clock import Clock


@dataclass(frozen=True)
class ThresholdResult:
    found: bool
    value: float | None
    resolution: float
    steps: int
    last_level: float


def levels(start: float, stop: float, step: float) -> list[float]:
    if step <= 0:
        raise ValueError("step must be positive")
    direction = 1.0 if stop >= start else -1.0
    count = round(abs(stop - start) / step)
    return [round(start + direction * i * step, 9) for i in range(count + 1)]


def ramp_threshold(
    clock: Clock,
    set_level: Callable[[float], None],
    flipped: Callable[[], bool],
    start: float,
    stop: float,
    step: float,
    dwell_s: float,
) -> ThresholdResult:
    steps = 0
    level = start
    for level in levels(start, stop, step):
        set_level(level)
        clock.sleep(dwell_s)
        steps += 1
        if flipped():
            return ThresholdResult(True, level, step, steps, level)
    return ThresholdResult(False, None, step, steps, level)
