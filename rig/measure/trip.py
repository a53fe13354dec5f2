"""Trip time by polling: apply a step, poll a predicate, report time-to-trip.

The trip happened somewhere in the last poll interval, so the reported value is the
first poll that saw it and the resolution is the poll period.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rig.clock import Clock


@dataclass(frozen=True)
class TripResult:
    tripped: bool
    time_s: float | None  # from the step to the first poll that saw the trip
    resolution_s: float
    polls: int
    t_step: float  # clock time the step was applied, for comparing with ground truth


def trip_time_by_polling(
    clock: Clock,
    apply: Callable[[], None],
    tripped: Callable[[], bool],
    timeout_s: float,
    period_s: float,
) -> TripResult:
    if period_s <= 0 or timeout_s <= 0:
        raise ValueError("period_s and timeout_s must be positive")
    apply()
    t0 = clock.now()
    max_polls = math.ceil(timeout_s / period_s - 1e-9)  # counted, so float drift adds no poll
    for polls in range(1, max_polls + 1):
        clock.sleep(period_s)
        if tripped():
            return TripResult(True, clock.now() - t0, period_s, polls, t0)
    return TripResult(False, None, period_s, max_polls, t0)


def wait_for(
    clock: Clock, condition: Callable[[], bool], timeout_s: float, period_s: float
) -> float | None:
    """Poll until `condition` holds; the time it took, or None on timeout."""
    t0 = clock.now()
    while True:
        if condition():
            return clock.now() - t0
        if clock.now() - t0 >= timeout_s:
            return None
        clock.sleep(period_s)
