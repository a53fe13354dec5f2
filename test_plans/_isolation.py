"""Which protection acted: every level a plan commands is designed so that no other can.

The station's instruments see a trip as current that stops flowing; they cannot tell
which protection stopped it. So a plan proves the protection under test acted by design:
every level it commands stays short of the level at which any other protection that
cuts the same path may act, for any DUT inside its spec. The pack over-voltage search
stays below N × the lowest in-spec cell over-voltage threshold, the first discharge
over-current level below the second's band and the short circuit's, and so on. Each kind
of stimulus names the protections it drives towards and the level, in its own unit, at
which each may act (`Competitor`); this module turns that into the furthest level the
plan may command (`Reach`), kept one read-back accuracy short of it.

A plan that cannot go clearly beyond its own acceptance band without reaching another
protection cannot isolate its protection on this DUT: that is `NotIsolated`, raised
before anything is applied, and the plan is an error, never a value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


class NotIsolated(Exception):
    """The plan's levels would reach another protection: no value can be attributed."""


@dataclass(frozen=True)
class Competitor:
    """Another protection the stimulus drives towards, and the stimulus level (in the
    stimulus's own unit) from which it may act on an in-spec DUT."""

    protection: str
    level: float
    why: str


@dataclass(frozen=True)
class Reach:
    """How far a plan may drive its stimulus in `direction` before another protection
    may act: `ceiling` (None: nothing in the way), kept `guard` short of it."""

    protection: str
    direction: float
    ceiling: float | None
    guard: float
    by: Competitor | None = None

    @property
    def limit(self) -> float | None:
        """The furthest level the plan may command."""
        if self.ceiling is None:
            return None
        return self.ceiling - self.direction * self.guard

    def clamp(self, level: float) -> float:
        limit = self.limit
        if limit is None:
            return level
        return min(level, limit) if self.direction > 0 else max(level, limit)

    def beyond(
        self, far: float, margin: float, unit: str, accuracy: Callable[[float], float]
    ) -> float:
        """A level `margin` beyond the band's far edge `far` (widened to 1.5 x the
        stimulus's `accuracy` where that is coarser), or as far as the other protections
        allow; NotIsolated if that is not clearly beyond the band (by more than the
        stimulus's accuracy there, so the level applied is beyond it too)."""
        # clearly beyond: the margin, or more where the stimulus is coarser than it
        margin = max(margin, 1.5 * accuracy(far + self.direction * margin))
        level = self.clamp(far + self.direction * margin)
        if self.direction * (level - far) <= accuracy(level):
            assert self.by is not None
            raise NotIsolated(
                f"{self.protection}: no level clearly beyond its band (edge {far:g} {unit}) "
                f"stays short of {self.by.protection}, which may act from {self.by.level:g} "
                f"{unit} ({self.by.why}; kept {self.guard:.3g} {unit} short for the "
                f"stimulus's accuracy): the plan cannot tell the two apart on this DUT"
            )
        return level

    def check(self, level: float, unit: str) -> None:
        """NotIsolated if `level` lies beyond what the other protections allow."""
        limit = self.limit
        if limit is None or self.direction * (level - limit) <= 1e-12:
            return
        assert self.by is not None
        raise NotIsolated(
            f"{self.protection}: the level {level:g} {unit} reaches {self.by.protection}, "
            f"which may act from {self.by.level:g} {unit} ({self.by.why})"
        )

    def context(self) -> dict[str, object]:
        """For the record: what bounds the plan's levels."""
        if self.by is None:
            return {"isolated_from": []}
        return {
            "isolated_from": [self.by.protection],
            "reach_limit": self.limit,
            "reach_why": self.by.why,
        }


def reach(
    protection: str, direction: float, competitors: Iterable[Competitor], guard: float
) -> Reach:
    """The nearest competitor in `direction` bounds the plan's levels."""
    nearest: Competitor | None = None
    for c in competitors:
        if nearest is None or direction * (c.level - nearest.level) < 0:
            nearest = c
    if nearest is None:
        return Reach(protection, direction, None, 0.0)
    return Reach(protection, direction, nearest.level, abs(guard), nearest)
