"""A single-shot acquisition with pre-trigger, as digitizing DMMs and scopes run it.

Armed at virtual time `t_arm`, the instrument samples its input every `dt`: sample k is
taken at `t_arm + k·dt`. The first `pretrigger` samples fill the pre-trigger memory, and
only then is a trigger accepted; the trigger sample is the first one at or after the
instant the input crosses the level in the chosen direction. The record is the
`pretrigger` samples before it and the rest after, `points` in all, and it is complete
once virtual time has passed its last sample. Everything is computed from the input's
`Signal` when asked, so time never has to be stepped sample by sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simlab.hardware import Signal

EPS = 1e-9


@dataclass
class Acquisition:
    signal: Signal | None
    t_arm: float
    dt: float
    points: int
    pretrigger: int
    level: float | None  # None: trigger at once (immediate source)
    rising: bool = True
    _trigger_index: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.level is None:
            self._trigger_index = self.pretrigger

    def _now(self) -> float:
        return self.signal.now() if self.signal is not None else self.t_arm

    def trigger_index(self) -> int | None:
        """Index (from the arm time) of the trigger sample, once it has happened."""
        if self._trigger_index is not None or self.signal is None or self.level is None:
            return self._trigger_index
        now = self._now()
        t_ready = self.t_arm + self.pretrigger * self.dt
        if now < t_ready:
            return None
        # a level already beyond the threshold when the pre-trigger fills is no edge
        t_from = max(t_ready - self.dt, self.t_arm)
        crossing = self.signal.crossing(self.level, self.rising, t_from, now)
        if crossing is None:
            return None
        k = max(math.ceil((crossing - self.t_arm) / self.dt - EPS), self.pretrigger)
        if self.t_arm + k * self.dt > now + EPS:
            return None  # crossed, but the sample that sees it is not taken yet
        self._trigger_index = k
        return k

    @property
    def first_index(self) -> int | None:
        k = self.trigger_index()
        return None if k is None else k - self.pretrigger

    def sample_times(self) -> np.ndarray:
        first = self.first_index
        if first is None:
            raise RuntimeError("not triggered")
        return self.t_arm + (first + np.arange(self.points)) * self.dt

    def taken(self) -> int:
        """How many record samples exist now (pre-trigger included)."""
        now = self._now()
        first = self.first_index
        elapsed = math.floor((now - self.t_arm) / self.dt + EPS) + 1
        if first is None:
            return min(max(elapsed, 0), self.pretrigger)
        return min(max(elapsed - first, 0), self.points)

    @property
    def waiting(self) -> bool:
        return self.trigger_index() is None

    @property
    def complete(self) -> bool:
        return not self.waiting and self.taken() >= self.points

    def values(self) -> np.ndarray:
        """The record (volts at the input); call once `complete`."""
        times = self.sample_times()
        if self.signal is None:
            return np.zeros(self.points)
        return self.signal.values(times)
