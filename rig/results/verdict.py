"""The run's verdict, derived from the results store alone.

One function decides it, so the console summary, the compliance report, JUnit and the
exit code can never disagree. The rule is strict on purpose: a run PASSES only when it
ended normally, every selected plan ran to the end, every plan recorded at least one
measurement and every measurement passed. Anything else names what kept it from passing.

Plan outcomes (`test_result.outcome`): passed, failed (a verdict failed or an assertion
in the plan), error (broken: setup or teardown failed, an instrument or DUT fault; never
a fail and never a pass), skipped, interrupted (cut off by a signal). A plan with a
`test_start` and no result was cut off by a kill.

Run verdicts, strongest first: INTERRUPTED (signal), FAIL (a measurement or plan failed:
known even if the run went no further), ERROR (a plan broken), INCOMPLETE (no `run_end`:
killed; or plans skipped, unfinished or without measurements), CONDITIONAL, PASS.
`complete` says separately whether the run reached its end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_OUTCOME_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3, "interrupted": 4}


class RunVerdict(StrEnum):
    PASS = "PASS"
    CONDITIONAL = "CONDITIONAL"
    ERROR = "ERROR"
    FAIL = "FAIL"
    INCOMPLETE = "INCOMPLETE"
    INTERRUPTED = "INTERRUPTED"


@dataclass
class PlanSummary:
    test: str
    outcome: str  # passed | failed | error | skipped | interrupted | unfinished
    measurements: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""

    @property
    def verdicts(self) -> list[str]:
        return [m.get("verdict", "fail") for m in self.measurements]


@dataclass
class RunSummary:
    verdict: RunVerdict
    reasons: list[str]
    plans: list[PlanSummary]
    complete: bool  # the run reached run_end and was not interrupted
    run_start: dict[str, Any] | None
    run_end: dict[str, Any] | None

    @property
    def measurements(self) -> list[dict[str, Any]]:
        return [m for p in self.plans for m in p.measurements]

    def count(self, outcome: str) -> int:
        return sum(1 for p in self.plans if p.outcome == outcome)


def _outcome(result: dict[str, Any]) -> str:
    outcome = str(result.get("outcome", "failed"))
    if outcome == "failed" and result.get("when", "call") != "call":
        return "error"  # pytest's own word for a failed setup or teardown
    return outcome if outcome in _OUTCOME_RANK else "error"


def summarize_records(records: Iterable[dict[str, Any]]) -> RunSummary:
    plans: dict[str, PlanSummary] = {}
    run_start = run_end = None
    for rec in records:
        kind = rec.get("type")
        if kind == "run_start":
            run_start = rec
        elif kind == "run_end":
            run_end = rec
        elif kind == "test_start":
            plans.setdefault(rec["test"], PlanSummary(rec["test"], "unfinished"))
        elif kind == "measurement":
            plans.setdefault(rec["test"], PlanSummary(rec["test"], "unfinished"))
            plans[rec["test"]].measurements.append(rec)
        elif kind == "test_result":
            plan = plans.setdefault(rec["test"], PlanSummary(rec["test"], "unfinished"))
            outcome = _outcome(rec)
            current = -1 if plan.outcome == "unfinished" else _OUTCOME_RANK[plan.outcome]
            if _OUTCOME_RANK[outcome] >= current:  # the worst phase decides
                plan.outcome = outcome
                if outcome != "passed":
                    plan.reason = str(rec.get("reason") or rec.get("longrepr") or "")[:2000]

    summary = list(plans.values())
    reasons: list[str] = []
    interrupted = run_end is not None and bool(run_end.get("interrupted"))
    if run_end is None:
        reasons.append("the run did not end normally (no run_end record: killed or crashed)")
    if interrupted:
        reasons.append(f"the run was interrupted ({run_end.get('reason') or 'signal'})")
    unfinished = [p.test for p in summary if p.outcome in ("unfinished", "interrupted")]
    if unfinished:
        reasons.append(f"{len(unfinished)} plan(s) did not finish: {', '.join(unfinished)}")
    skipped = [p.test for p in summary if p.outcome == "skipped"]
    if skipped:
        reasons.append(f"{len(skipped)} plan(s) skipped")
    empty = [p.test for p in summary if p.outcome == "passed" and not p.measurements]
    if empty:
        reasons.append(f"{len(empty)} plan(s) recorded no measurement: {', '.join(empty)}")
    failed_m = [m for p in summary for m in p.measurements if m.get("verdict") == "fail"]
    failed_p = [p.test for p in summary if p.outcome == "failed"]
    if failed_m or failed_p:
        reasons.append(f"{len(failed_m)} measurement(s) failed in {len(failed_p)} plan(s)")
    errored = [p.test for p in summary if p.outcome == "error"]
    if errored:
        reasons.append(f"{len(errored)} plan(s) broken by an error: {', '.join(errored)}")
    conditional = [m for p in summary for m in p.measurements if m.get("verdict") == "conditional"]
    if conditional:
        reasons.append(f"{len(conditional)} measurement(s) conditional (inside the guard band)")
    if not summary:
        reasons.append("no plan ran")

    if interrupted:
        verdict = RunVerdict.INTERRUPTED
    elif failed_m or failed_p:
        verdict = RunVerdict.FAIL
    elif errored:
        verdict = RunVerdict.ERROR
    elif run_end is None or unfinished or skipped or empty or not summary:
        verdict = RunVerdict.INCOMPLETE
    elif conditional:
        verdict = RunVerdict.CONDITIONAL
    else:
        verdict = RunVerdict.PASS
    return RunSummary(
        verdict=verdict,
        reasons=reasons,
        plans=summary,
        complete=run_end is not None and not interrupted,
        run_start=run_start,
        run_end=run_end,
    )
