"""A bench quantity as a function of virtual time: the record a digitizer samples.

The circuit changes at events (a setpoint, a FET opening, a relay closing); between
events each quantity follows a simple law: constant, a first-order (RL) approach to a
final value, or a linear ramp. A `Trace` keeps those pieces in time order, so a
digitizer can ask for the value at any sample time and for the exact instant a trigger
level is crossed, however finely it samples, without the world stepping through time.
"""

from __future__ import annotations

import bisect
import itertools
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


@dataclass
class PulseTrain(Piece):
    """A generator's continuous pulse train from t0 on: each period rises from `low` to
    `high` in `lead` s, stays high until `width` after the rising edge's 50 % point, and
    falls in `trail` s (the width is measured between the 50 % points, as generators
    define it)."""

    t0: float
    low: float
    high: float
    period: float
    width: float
    lead: float
    trail: float

    def _in_period(self, phase: np.ndarray) -> np.ndarray:
        fall_start = self.lead / 2 + self.width - self.trail / 2
        rise = np.clip(phase / self.lead, 0.0, 1.0)
        fall = np.clip((phase - fall_start) / self.trail, 0.0, 1.0)
        return self.low + (self.high - self.low) * (rise - fall)

    def values(self, t: np.ndarray) -> np.ndarray:
        phase = np.mod(np.maximum(np.asarray(t, dtype=float) - self.t0, 0.0), self.period)
        return self._in_period(phase)

    def value(self, t: float) -> float:
        return float(self.values(np.array([t]))[0])

    def edges(self, a: float, b: float, limit: int = 100_000) -> list[float]:
        """The instants in [a, b] where one straight segment hands over to the next."""
        fall_start = self.lead / 2 + self.width - self.trail / 2
        marks = (0.0, self.lead, fall_start, fall_start + self.trail)
        first = max(math.floor((a - self.t0) / self.period), 0)
        out: list[float] = []
        n = first
        while len(out) < limit:
            base = self.t0 + n * self.period
            if base > b:
                break
            out += [base + m for m in marks if a <= base + m <= b]
            n += 1
        return out

    def crossing(self, level: float, rising: bool, a: float, b: float) -> float | None:
        cuts = [a, *self.edges(a, b), b]
        for lo, hi in itertools.pairwise(cuts):
            if hi <= lo:
                continue
            found = Piece.crossing(self, level, rising, lo, hi)
            if found is not None:
                return found
        return None


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

    @property
    def steady(self) -> Const | None:
        """The constant held from the latest start on, if the last piece is one."""
        last = self._pieces[-1]
        return last if isinstance(last, Const) else None

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


class TraceView:
    """What a signal made of traces answers: values, exact crossings, its last piece."""

    def value(self, t: float) -> float:
        raise NotImplementedError

    def values(self, times: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def crossing(self, level: float, rising: bool, t_from: float, t_to: float) -> float | None:
        raise NotImplementedError

    def breaks(self, t_from: float, t_to: float) -> list[float]:
        """Instants in [t_from, t_to] where the law changes (piece starts, pulse edges)."""
        raise NotImplementedError

    @property
    def steady(self) -> Const | None:
        """The constant the signal holds from its latest change on, if it is one."""
        raise NotImplementedError


def _breaks(trace: Trace, t_from: float, t_to: float) -> list[float]:
    i = max(bisect.bisect_right(trace._starts, t_from) - 1, 0)
    out: list[float] = []
    for piece in trace._pieces[i:]:
        if piece.t0 > t_to:
            break
        if piece.t0 >= t_from:
            out.append(piece.t0)
        if isinstance(piece, PulseTrain):
            out += piece.edges(max(t_from, piece.t0), t_to)
    return out


class Scaled(TraceView):
    """`gain` × a trace: a generator's EMF seen through an attenuator and the shunt."""

    def __init__(self, trace: Trace, gain: float):
        self.trace, self.gain = trace, gain

    def value(self, t: float) -> float:
        return self.gain * self.trace.value(t)

    def values(self, times: np.ndarray) -> np.ndarray:
        return self.gain * self.trace.values(times)

    def crossing(self, level: float, rising: bool, t_from: float, t_to: float) -> float | None:
        if self.gain == 0:
            return None
        return self.trace.crossing(level / self.gain, rising == (self.gain > 0), t_from, t_to)

    def breaks(self, t_from: float, t_to: float) -> list[float]:
        return _breaks(self.trace, t_from, t_to)

    @property
    def steady(self) -> Const | None:
        last = self.trace.last
        return Const(last.t0, self.gain * last.v) if isinstance(last, Const) else None


class Sum(TraceView):
    """A trace plus another signal: what a BMS's shunt input sees when a generator's
    voltage is added in series with the real shunt drop. Crossings are found exactly
    between the instants where either side changes its law (each side is then one
    monotone piece, so their sum is found by bisection)."""

    def __init__(self, base: Trace, extra: TraceView, gain: float = 1.0):
        self.base, self.extra, self.gain = base, extra, gain

    def value(self, t: float) -> float:
        return self.gain * self.base.value(t) + self.extra.value(t)

    def values(self, times: np.ndarray) -> np.ndarray:
        return self.gain * self.base.values(times) + self.extra.values(times)

    def breaks(self, t_from: float, t_to: float) -> list[float]:
        return sorted({*_breaks(self.base, t_from, t_to), *self.extra.breaks(t_from, t_to)})

    def crossing(self, level: float, rising: bool, t_from: float, t_to: float) -> float | None:
        if t_to < t_from:
            return None
        steady = self.steady
        if steady is not None and steady.t0 < t_from:
            return None  # both sides constant since before t_from: one value, no crossing
        cuts = [t_from, *(t for t in self.breaks(t_from, t_to) if t_from < t < t_to), t_to]
        before: float | None = None
        for a, b in itertools.pairwise(cuts):
            va = self.value(a)
            if before is not None and (
                (rising and before < level <= va) or (not rising and before > level >= va)
            ):
                return a  # a step where one law hands over to the next
            vb_left = self._left(b)
            if (rising and va < level <= vb_left) or (not rising and va > level >= vb_left):
                return self._solve(level, a, b)
            before = vb_left
        return None

    def _left(self, t: float) -> float:
        """The value just before `t` (a step at `t` is not yet taken)."""
        return self.value(math.nextafter(t, -math.inf))

    def _solve(self, level: float, a: float, b: float) -> float:
        above_at_b = self._left(b) >= level
        for _ in range(200):
            if b - a <= EPS_T:
                break
            mid = 0.5 * (a + b)
            if (self.value(mid) >= level) == above_at_b:
                b = mid
            else:
                a = mid
        return b

    @property
    def steady(self) -> Const | None:
        last, extra = self.base.last, self.extra.steady
        if not isinstance(last, Const) or extra is None:
            return None
        return Const(max(last.t0, extra.t0), self.gain * last.v + extra.v)
