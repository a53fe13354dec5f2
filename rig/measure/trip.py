"""Trip time by polling: apply a step, watch a quantity on the power path, bracket the trip.

Each poll is timestamped before its request and after its reply. A poll that saw "not
tripped" proves the trip came after its start; a poll that saw "tripped" proves it came
before its end. So the trip lies between the start of the last quiet poll and the end of
the first tripped one, and the delay between that and the step (itself timestamped
around its command). On a bench each poll costs an instrument exchange, so the polls are
not evenly spaced; the resolution reported is the longest interval actually observed,
never the nominal period. The value is the middle of the bracket: reporting its edge
would bias every delay long.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from rig.clock import Clock


@dataclass(frozen=True)
class Poll:
    t_start: float  # clock before the request
    t_end: float  # clock after the reply
    value: float  # what the instrument read
    tripped: bool


@dataclass(frozen=True)
class TripResult:
    tripped: bool
    t_step: float  # clock before the step command
    t_step_done: float  # clock after it
    bracket: tuple[float, float] | None  # delay from the step, seconds
    resolution_s: float  # longest observed interval between consecutive poll starts
    polls: list[Poll] = field(default_factory=list)  # every poll, before and after the step
    pre_polls: int = 0  # how many of `polls` were taken before the step

    @property
    def time_s(self) -> float | None:
        """The middle of the bracket: the unbiased estimate of the delay."""
        if self.bracket is None:
            return None
        return (self.bracket[0] + self.bracket[1]) / 2

    @property
    def width_s(self) -> float | None:
        return None if self.bracket is None else self.bracket[1] - self.bracket[0]

    @property
    def instant(self) -> tuple[float, float] | None:
        """When it happened on the clock: after the last quiet poll began (or the step),
        before the first tripped poll ended. What a later interval is measured from."""
        if not self.tripped:
            return None
        after = self.polls[self.pre_polls :]
        quiet = [p for p in after[:-1] if not p.tripped]
        return (quiet[-1].t_start if quiet else self.t_step, after[-1].t_end)


def _poll(clock: Clock, observe: Callable[[], float], tripped: Callable[[float], bool]) -> Poll:
    t0 = clock.now()
    value = observe()
    return Poll(t0, clock.now(), value, tripped(value))


def trip_time_by_polling(
    clock: Clock,
    apply: Callable[[], None],
    observe: Callable[[], float],
    tripped: Callable[[float], bool],
    timeout_s: float,
    period_s: float,
    pre_polls: int = 3,
) -> TripResult:
    """Step with `apply`, then poll `observe` every `period_s` until `tripped(value)`.

    `pre_polls` readings are taken before the step, one period apart, so the record
    shows the quantity flowing before it stopped. A trip already present before the step
    is not a trip caused by the step: the result then says not tripped, with the polls
    showing why.
    """
    if period_s <= 0 or timeout_s <= 0:
        raise ValueError("period_s and timeout_s must be positive")
    polls: list[Poll] = []
    for i in range(pre_polls):
        if i:
            clock.sleep(period_s)
        polls.append(_poll(clock, observe, tripped))
    if any(p.tripped for p in polls):
        t = clock.now()
        return TripResult(False, t, t, None, 0.0, polls, len(polls))
    if pre_polls:
        clock.sleep(period_s)
    t_step = clock.now()
    apply()
    t_step_done = clock.now()
    last_start = t_step
    longest = 0.0
    max_polls = math.ceil(timeout_s / period_s - 1e-9)  # counted, so float drift adds no poll
    for k in range(1, max_polls + 1):
        wait = t_step + k * period_s - clock.now()
        if wait > 0:
            clock.sleep(wait)
        poll = _poll(clock, observe, tripped)
        polls.append(poll)
        longest = max(longest, poll.t_start - last_start)
        if poll.tripped:
            quiet = [p for p in polls[pre_polls:-1] if not p.tripped]
            lo = (quiet[-1].t_start if quiet else t_step) - t_step_done
            hi = poll.t_end - t_step
            return TripResult(
                True, t_step, t_step_done, (max(lo, 0.0), hi), longest, polls, pre_polls
            )
        last_start = poll.t_start
    return TripResult(False, t_step, t_step_done, None, longest, polls, pre_polls)


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
