"""A bench quantity as a function of virtual time: the record a digitizer samples.

The circuit changes at events (a setpoint, a FET opening, a relay closing); between
events each quantity follows a simple law: constant, a first-order (RL) approach to a
final value, or a linear ramp. A `Trace` keeps those pieces in time order, so a
digitizer can ask for the value at any sample time and for the exact instant a trigger
level is crossed, however finely it samples, without the world stepping through time.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

EPS_T = 1e-12  # s: below any sample interval an instrument offers


class Piece:
    """One law, valid from its start time until the next piece starts."""

    t0: float

    def values(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def value(self, t: float) -> float:
        raise NotImplementedError

    def crossing(self, level: float, rising: bool, a: float, b: float) -> float | None:
        """First t in [a, b] where the (monotone) piece reaches `level` going that way."""
        va, vb = self.value(a), self.value(b)
        if (rising and va < level <= vb) or (not rising and va > level >= vb):
            return self._solve(level, a, b)
        return None

    def _solve(self, level: float, a: float, b: float) -> float:
        for _ in range(200):  # bisection: pieces are monotone between a and b
            mid = 0.5 * (a + b)
            if b - a <= EPS_T:
                break
            if (self.value(mid) >= level) == (self.value(b) >= level):
                b = mid
            else:
                a = mid
        return b


@dataclass
class Const(Piece):
    t0: float
    v: float

    def values(self, t: np.ndarray) -> np.ndarray:
        return np.full(np.shape(t), self.v, dtype=float)

    def value(self, t: float) -> float:
        return self.v

    def crossing(self, level: float, rising: bool, a: float, b: float) -> float | None:
        return None


@dataclass
class Approach(Piece):
    """v(t) = v_end + (v_start - v_end)·exp(-(t - t0)/tau): an RL loop settling."""

    t0: float
    v_start: float
    v_end: float
    tau: float

    def values(self, t: np.ndarray) -> np.ndarray:
        dt = np.maximum(np.asarray(t, dtype=float) - self.t0, 0.0)
        return self.v_end + (self.v_start - self.v_end) * np.exp(-dt / self.tau)

    def value(self, t: float) -> float:
        return self.v_end + (self.v_start - self.v_end) * math.exp(
            -max(t - self.t0, 0.0) / self.tau
        )

    def _solve(self, level: float, a: float, b: float) -> float:
        ratio = (level - self.v_end) / (self.v_start - self.v_end)
        if ratio <= 0:
            return b
        t = self.t0 - self.tau * math.log(ratio)
        return min(max(t, a), b)


@dataclass
class Ramp(Piece):
    """Linear from v_start at t0 to v_end at t0 + duration, then v_end."""

    t0: float
    v_start: float
    v_end: float
    duration: float

    def values(self, t: np.ndarray) -> np.ndarray:
        frac = np.clip((np.asarray(t, dtype=float) - self.t0) / self.duration, 0.0, 1.0)
        return self.v_start + (self.v_end - self.v_start) * frac

    def value(self, t: float) -> float:
        frac = min(max((t - self.t0) / self.duration, 0.0), 1.0)
        return self.v_start + (self.v_end - self.v_start) * frac

    def _solve(self, level: float, a: float, b: float) -> float:
        t = self.t0 + (level - self.v_start) / (self.v_end - self.v_start) * self.duration
        return min(max(t, a), b)


class Trace:
    """Pieces in time order; a new piece replaces whatever was planned after its start."""

    def __init__(self, initial: float = 0.0) -> None:
        self._pieces: list[Piece] = [Const(-math.inf, initial)]
        self._starts: list[float] = [-math.inf]

    def add(self, piece: Piece) -> None:
        """From `piece.t0` on, the quantity follows `piece` (later plans are dropped)."""
        i = bisect.bisect_left(self._starts, piece.t0)
        del self._pieces[i:], self._starts[i:]
        if not self._pieces:
            self._pieces, self._starts = [Const(-math.inf, piece.value(piece.t0))], [-math.inf]
        self._pieces.append(piece)
        self._starts.append(piece.t0)

    def hold(self, t: float, v: float) -> None:
        """A constant from `t` on, unless the quantity already holds that constant."""
        last = self._pieces[-1]
        if isinstance(last, Const) and last.v == v and last.t0 <= t:
            return
        self.add(Const(t, v))

    @property
    def last(self) -> Piece:
        """The piece in force from the latest start on."""
        return self._pieces[-1]

    def prune(self, before: float) -> None:
        """Forget pieces that ended before `before` (digitizers never look that far back)."""
        i = bisect.bisect_right(self._starts, before) - 1
        if i > 0:
            del self._pieces[:i], self._starts[:i]

    def value(self, t: float) -> float:
        i = bisect.bisect_right(self._starts, t) - 1
        return self._pieces[max(i, 0)].value(t)

    def values(self, times: np.ndarray) -> np.ndarray:
        times = np.asarray(times, dtype=float)
        out = np.empty_like(times)
        idx = np.searchsorted(np.asarray(self._starts), times, side="right") - 1
        idx = np.maximum(idx, 0)
        for i in np.unique(idx):
            mask = idx == i
            out[mask] = self._pieces[int(i)].values(times[mask])
        return out

    def crossing(self, level: float, rising: bool, t_from: float, t_to: float) -> float | None:
        """The first instant in [t_from, t_to] the quantity crosses `level` that way:
        inside a piece, or as a step where one piece hands over to the next."""
        if t_to < t_from:
            return None
        i = max(bisect.bisect_right(self._starts, t_from) - 1, 0)
        if i == len(self._pieces) - 1 and isinstance(self._pieces[i], Const):
            return None  # a constant from before t_from on: nothing can cross
        prev_end: float | None = None
        while i < len(self._pieces):
            piece = self._pieces[i]
            start = max(piece.t0, t_from)
            end = self._starts[i + 1] if i + 1 < len(self._pieces) else math.inf
            if start > t_to:
                break
            v_start = piece.value(start)
            if prev_end is not None and (
                (rising and prev_end < level <= v_start)
                or (not rising and prev_end > level >= v_start)
            ):
                return start
            stop = min(end, t_to)
            found = piece.crossing(level, rising, start, stop)
            if found is not None:
                return found
            if end > t_to:
                break
            prev_end = piece.value(end)
            i += 1
        return None
