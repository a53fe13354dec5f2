"""A measured value, its limits and its verdict, as it goes into the results store.

Verdicts follow ILAC-G8: simple acceptance by default; with guarded acceptance the
acceptance zone shrinks by the expanded uncertainty, and a value inside the guard band is
"conditional", never a pass.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

Comparison = Literal["GELE", "GE", "LE", "EQ"]
DecisionRule = Literal["simple", "guarded"]


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
    if value is None:
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
class Measurement:
    test: str
    name: str
    value: float | None
    unit: str
    low: float | None
    high: float | None
    comparison: Comparison = "GELE"
    resolution: float | None = None
    uncertainty: float = 0.0
    decision_rule: DecisionRule = "simple"
    nominal: float | None = None
    clause: list[str] = field(default_factory=list)
    note: str = ""
    waveform: str | None = None
    context: dict[str, Any] = field(default_factory=dict)  # stimulus, times: how it was taken
    timestamp: float = field(default_factory=time.time)
    verdict: Verdict = Verdict.FAIL

    def __post_init__(self) -> None:
        self.verdict = judge(
            self.value, self.low, self.high, self.comparison, self.uncertainty, self.decision_rule
        )

    def record(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = str(self.verdict)
        return {"type": "measurement", **data}
