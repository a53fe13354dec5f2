"""The run's verdict, derived from the results store alone.

One function decides it, so the console summary, the compliance report, JUnit and the
exit code can never disagree. The rule is strict on purpose: a run PASSES only when it
ended normally, every selected plan ran to the end, every plan recorded at least one
measurement and every measurement passed. Anything else names what kept it from passing.

Plan outcomes (`test_result.outcome`): passed, failed (a verdict failed or an assertion
in the plan), error (broken: setup or teardown failed, an instrument or DUT fault; never
a fail and never a pass), skipped, aborted (the station's watchdog stopped it), and
interrupted (cut off by a signal). A plan with a `test_start` and no result was cut off
by a kill; a plan `run_start` selected that never started did not run.

Run verdicts, strongest first: INTERRUPTED (a signal), FAIL (a measurement or plan
failed: known even if the run went no further), ERROR (a plan broken or aborted),
INCOMPLETE (no `run_end`: killed; or plans skipped, not run, unfinished or without
measurements), CONDITIONAL, PASS. `complete` says separately whether the run reached
its end.

Exit codes of `rig run` (`exit_code`): 0 PASS; 1 FAIL, ERROR, INCOMPLETE or CONDITIONAL
(the summary says which); 2 usage or configuration error, nothing ran (decided before a
store exists); 128 + the signal number for INTERRUPTED: 130 for SIGINT (Ctrl-C), 143
for SIGTERM.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_OUTCOME_RANK = {
    "passed": 0,
    "skipped": 1,
    "failed": 2,
    "error": 3,
    "aborted": 4,
    "interrupted": 5,
}

EXIT_PASS = 0
EXIT_NOT_PASSED = 1
EXIT_USAGE = 2


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
    outcome: str  # passed | failed | error | skipped | aborted | interrupted | unfinished | not run
    measurements: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""
    doc: str = ""

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
    torn: bool = False  # the store's last line was cut off (see read_records)

    @property
    def measurements(self) -> list[dict[str, Any]]:
        return [m for p in self.plans for m in p.measurements]

    def count(self, outcome: str) -> int:
        return sum(1 for p in self.plans if p.outcome == outcome)

    def counts(self) -> dict[str, int]:
        """Plans by outcome and measurements by verdict, for `run_end` and summaries."""
        plans: dict[str, int] = {}
        for p in self.plans:
            plans[p.outcome] = plans.get(p.outcome, 0) + 1
        verdicts: dict[str, int] = {}
        for m in self.measurements:
            v = str(m.get("verdict", "fail"))
            verdicts[v] = verdicts.get(v, 0) + 1
        return {
            "plans": len(self.plans),
            **{f"plans_{k.replace(' ', '_')}": n for k, n in sorted(plans.items())},
            "measurements": len(self.measurements),
            **{f"measurements_{k}": n for k, n in sorted(verdicts.items())},
        }

    @property
    def headline(self) -> str:
        """The verdict and the first thing that kept it from PASS, in one line."""
        return self.verdict.value + (f": {self.reasons[0]}" if self.reasons else "")


def _outcome(result: dict[str, Any]) -> str:
    outcome = str(result.get("outcome", "failed"))
    if outcome == "failed" and result.get("when", "call") != "call":
        return "error"  # pytest's own word for a failed setup or teardown
    return outcome if outcome in _OUTCOME_RANK else "error"


def _listed(tests: list[str], limit: int = 3) -> str:
    shown = ", ".join(t.split("::")[-1] for t in tests[:limit])
    return shown + (f" and {len(tests) - limit} more" if len(tests) > limit else "")


def summarize_records(records: Iterable[dict[str, Any]], torn: bool = False) -> RunSummary:
    plans: dict[str, PlanSummary] = {}
    run_start = run_end = None
    for rec in records:
        kind = rec.get("type")
        if kind == "run_start":
            run_start = rec
            for test in rec.get("selected") or []:
                plans.setdefault(test, PlanSummary(test, "not run"))
        elif kind == "run_end":
            run_end = rec
        elif kind == "test_start":
            plan = plans.setdefault(rec["test"], PlanSummary(rec["test"], "unfinished"))
            if plan.outcome == "not run":
                plan.outcome = "unfinished"
            plan.doc = str(rec.get("doc") or "")
        elif kind == "measurement":
            plan = plans.setdefault(rec["test"], PlanSummary(rec["test"], "unfinished"))
            if plan.outcome == "not run":
                plan.outcome = "unfinished"
            plan.measurements.append(rec)
        elif kind == "test_result":
            plan = plans.setdefault(rec["test"], PlanSummary(rec["test"], "unfinished"))
            outcome = _outcome(rec)
            known = plan.outcome in _OUTCOME_RANK
            if not known or _OUTCOME_RANK[outcome] >= _OUTCOME_RANK[plan.outcome]:
                plan.outcome = outcome  # the worst phase decides
                if outcome != "passed":
                    plan.reason = str(rec.get("reason") or rec.get("longrepr") or "")[:2000]

    summary = list(plans.values())
    reasons: list[str] = []
    interrupted = run_end is not None and bool(run_end.get("interrupted"))
    if interrupted:
        reasons.append(f"the run was interrupted ({run_end.get('reason') or 'signal'})")
    if run_end is None:
        reasons.append("the run did not end normally (no run_end record: killed or crashed)")
    if torn:
        reasons.append("the results store ends in a torn line (the writer was killed mid-record)")
    failed_m = [m for p in summary for m in p.measurements if m.get("verdict") == "fail"]
    failed_p = [p.test for p in summary if p.outcome == "failed"]
    if failed_m or failed_p:
        reasons.append(
            f"{len(failed_m)} measurement(s) failed; {len(failed_p)} plan(s) failed"
            + (f": {_listed(failed_p)}" if failed_p else "")
        )
    errored = [p.test for p in summary if p.outcome == "error"]
    if errored:
        reasons.append(f"{len(errored)} plan(s) broken by an error: {_listed(errored)}")
    aborted = [p.test for p in summary if p.outcome == "aborted"]
    if aborted:
        reasons.append(f"{len(aborted)} plan(s) aborted by the watchdog: {_listed(aborted)}")
    cut = [p.test for p in summary if p.outcome in ("unfinished", "interrupted")]
    if cut:
        reasons.append(f"{len(cut)} plan(s) did not finish: {_listed(cut)}")
    not_run = [p.test for p in summary if p.outcome == "not run"]
    if not_run:
        reasons.append(f"{len(not_run)} selected plan(s) never ran: {_listed(not_run)}")
    skipped = [p.test for p in summary if p.outcome == "skipped"]
    if skipped:
        reasons.append(f"{len(skipped)} plan(s) skipped: {_listed(skipped)}")
    empty = [p.test for p in summary if p.outcome == "passed" and not p.measurements]
    if empty:
        reasons.append(f"{len(empty)} plan(s) recorded no measurement: {_listed(empty)}")
    conditional = [m for p in summary for m in p.measurements if m.get("verdict") == "conditional"]
    if conditional:
        reasons.append(f"{len(conditional)} measurement(s) conditional (inside the guard band)")
    if not summary:
        reasons.append("no plan ran")

    if interrupted:
        verdict = RunVerdict.INTERRUPTED
    elif failed_m or failed_p:
        verdict = RunVerdict.FAIL
    elif errored or aborted:
        verdict = RunVerdict.ERROR
    elif run_end is None or torn or cut or not_run or skipped or empty or not summary:
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
        torn=torn,
    )


def signal_exit_code(name: str | None) -> int:
    """128 + the signal's number (the shell's convention): SIGINT 130, SIGTERM 143."""
    try:
        return 128 + int(signal.Signals[name or "SIGINT"])
    except KeyError:
        return 128 + int(signal.SIGINT)


def exit_code(summary: RunSummary) -> int:
    """The process exit status a run's summary stands for (see the module docstring)."""
    if summary.verdict is RunVerdict.INTERRUPTED:
        end = summary.run_end or {}
        return signal_exit_code(end.get("signal")) if end.get("signal") else EXIT_NOT_PASSED
    return EXIT_PASS if summary.verdict is RunVerdict.PASS else EXIT_NOT_PASSED
