"""Uncertainty budgets: standard uncertainties combined in quadrature, expanded with k = 2.

A value found by a search lies somewhere in its bracket; read as a rectangular
distribution the bracket of width w contributes w / (2√3). An instrument's accuracy band
± a contributes a / √3 (see instruments.accuracy). Uncorrelated components add in
quadrature (GUM 5.1.2); the expanded uncertainty U = k·u_c with k = 2 (about 95 %) is
what a report states and what guarded acceptance uses as its guard band.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

COVERAGE_FACTOR = 2.0


@dataclass(frozen=True)
class Component:
    """One line of a budget: a standard uncertainty in the measurand's unit, and where it
    comes from (a document and its table, or "measured: ..."), never left blank: a
    report's Annex A prints both, and a laboratory must be able to trace every line."""

    name: str
    standard: float
    source: str

    def __post_init__(self) -> None:
        if not math.isfinite(self.standard) or self.standard < 0:
            raise ValueError(f"{self.name}: standard uncertainty must be >= 0, got {self.standard}")
        if not self.source.strip():
            raise ValueError(f"{self.name}: an uncertainty component must name its source")

    def record(self) -> dict[str, Any]:
        return asdict(self)


def resolution_component(width: float, name: str, unit: str) -> Component:
    """The bracket a search ended in, as a rectangular distribution of full width `width`
    (in the measurand's `unit`)."""
    return Component(
        name, abs(width) / (2.0 * math.sqrt(3.0)), f"measured: bracket {abs(width):.4g} {unit} wide"
    )


def rectangular(name: str, half_width: float, source: str) -> Component:
    """A ± half_width limit (datasheet accuracy, a known bound) as a standard uncertainty."""
    return Component(name, abs(half_width) / math.sqrt(3.0), source)


def combined(components: list[Component]) -> float:
    return math.sqrt(sum(c.standard**2 for c in components))


def expanded(components: list[Component], k: float = COVERAGE_FACTOR) -> float:
    """U = k · u_c."""
    return k * combined(components)
