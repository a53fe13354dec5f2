"""A measured value, its evidence, its uncertainty and its verdict, as the store keeps it.

Verdicts follow ILAC-G8: with simple acceptance a value inside the limits passes; with
guarded acceptance the acceptance zone shrinks by the expanded uncertainty U, a value
beyond the limits by more than U fails, and a value in between is "conditional", never a
pass. No value at all (nothing tripped, nothing measured) fails.

A value taken from an instrument or a clock always has a budget, so U > 0: a measured
value with an empty budget is a defect of the plan that recorded it (`EmptyBudget`), not
a value that silently turns the guarded rule into simple acceptance. Only an exact value
(a count, a yes/no, a setting as the BMS holds it in memory) has no budget; it says so
(`exact=True`) and is judged by the simple rule.

The record is what reports are built from, so it carries everything a reader needs to
judge it again: the bracket the value was found in, the uncertainty budget, the rule,
which instrument saw it (`evidence`) and the stimulus as commanded and as read back.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

from rig.measure.uncertainty import COVERAGE_FACTOR, Component, expanded

Comparison = Literal["GELE", "GE", "LE", "EQ"]
DecisionRule = Literal["simple", "guarded"]
# What the value was observed on: the station's own instruments, or the DUT's report of itself.
Evidence = Literal["instrument", "dut"]


class EmptyBudget(ValueError):
    """A measured value was recorded without an uncertainty budget: a defect of the plan."""


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    CONDITIONAL = "conditional"


def judge(
    value: float | None,
    low: float | None,
    high: float | None,
    comparison: Comparison = "GELE",
    uncertainty: float = 0.0,
    rule: DecisionRule = "simple",
) -> Verdict:
    """No value (nothing tripped, nothing measured) is a fail, never a pass."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return Verdict.FAIL
    if comparison == "EQ":
        return Verdict.PASS if value == low else Verdict.FAIL
    lo = low if comparison in ("GELE", "GE") else None
    hi = high if comparison in ("GELE", "LE") else None
    inside = (lo is None or value >= lo) and (hi is None or value <= hi)
    if rule == "simple" or uncertainty == 0:
        return Verdict.PASS if inside else Verdict.FAIL
    w = uncertainty
    if (lo is None or value >= lo + w) and (hi is None or value <= hi - w):
        return Verdict.PASS
    if (lo is not None and value < lo - w) or (hi is not None and value > hi + w):
        return Verdict.FAIL
    return Verdict.CONDITIONAL


@dataclass
class Stimulus:
    """What the plan applied: the level commanded and the instrument's read-back of it."""

    quantity: str  # e.g. "cell_voltage", "charge_current", "ntc_temperature"
    unit: str
    commanded: float | None
    readback: float | None = None
    instrument: str = ""  # station instrument and channel, e.g. "cellsim_a:1"


@dataclass
class Measurement:
    test: str
    name: str
    value: float | None
    unit: str
    low: float | None
    high: float | None
    comparison: Comparison = "GELE"
    bracket: tuple[float, float] | None = None  # the value lies in [lo, hi]
    resolution: float | None = None
    budget: list[Component] = field(default_factory=list)
    uncertainty: float | None = None  # expanded, k = coverage_factor; from `budget` if None
    coverage_factor: float = COVERAGE_FACTOR
    decision_rule: DecisionRule = "simple"
    evidence: Evidence = "instrument"
    instrument: str = ""  # which station instrument (and channel) observed the value
    stimulus: Stimulus | None = None
    nominal: float | None = None
    clause: list[str] = field(default_factory=list)
    note: str = ""
    waveform: str | None = None  # run-folder-relative path of a rig.results.waveform file
    context: dict[str, Any] = field(default_factory=dict)  # how it was taken
    # A count, a yes/no or a setting held in the BMS's memory: no measurement error, no
    # budget, judged by the simple rule. Anything read from an instrument or a clock is not.
    exact: bool = False
    timestamp: float = field(default_factory=time.time)
    verdict: Verdict = Verdict.FAIL

    def __post_init__(self) -> None:
        if self.resolution is None and self.bracket is not None:
            self.resolution = abs(self.bracket[1] - self.bracket[0])
        if self.exact:
            if self.budget or self.uncertainty:
                raise ValueError(f"{self.name}: an exact value carries no uncertainty budget")
            self.decision_rule = "simple"
            self.uncertainty = 0.0
        elif self.uncertainty is None:
            self.uncertainty = expanded(self.budget, self.coverage_factor) if self.budget else 0.0
        if not self.exact and self.value is not None and not self.uncertainty:
            raise EmptyBudget(
                f"{self.name} = {self.value} {self.unit}: a measured value needs an uncertainty "
                f"budget with U > 0 (its sources: resolution, instrument accuracy, response "
                f"time); record it with budget=[...], or exact=True for a count or a setting"
            )
        self.verdict = judge(
            self.value, self.low, self.high, self.comparison, self.uncertainty, self.decision_rule
        )

    def record(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = str(self.verdict)
        data["bracket"] = list(self.bracket) if self.bracket is not None else None
        return {"type": "measurement", **data}
