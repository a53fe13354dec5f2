"""The run verdict: PASS only when every selected plan ran and every measurement passed."""

from __future__ import annotations

from typing import Any

import pytest

from rig.results.verdict import RunVerdict, exit_code, summarize_records

A, B = "plans/test_a.py::test_a", "plans/test_b.py::test_b"


def start(*selected: str) -> dict[str, Any]:
    return {"type": "run_start", "selected": list(selected)}


def plan(test: str, outcome: str = "passed", verdict: str | None = "pass", **result: Any):
    records: list[dict[str, Any]] = [{"type": "test_start", "test": test, "doc": "why"}]
    if verdict is not None:
        records.append({"type": "measurement", "test": test, "name": "m", "verdict": verdict})
    records.append({"type": "test_result", "test": test, "when": "call", "outcome": outcome})
    records[-1].update(result)
    return records


END = {"type": "run_end", "interrupted": False}


def verdict_of(*records: dict[str, Any], torn: bool = False) -> RunVerdict:
    return summarize_records(records, torn=torn).verdict


def test_every_plan_ran_and_passed():
    summary = summarize_records([start(A, B), *plan(A), *plan(B), END])
    assert summary.verdict is RunVerdict.PASS and summary.reasons == []
    assert exit_code(summary) == 0
    assert summary.counts() == {
        "plans": 2,
        "plans_passed": 2,
        "measurements": 2,
        "measurements_pass": 2,
    }


def test_a_skipped_plan_is_never_part_of_a_pass():
    skipped = {"type": "test_result", "test": B, "when": "setup", "outcome": "skipped"}
    summary = summarize_records(
        [start(A, B), *plan(A), {"type": "test_start", "test": B}, skipped, END]
    )
    assert summary.verdict is RunVerdict.INCOMPLETE
    assert "1 plan(s) skipped: test_b" in summary.reasons
    assert exit_code(summary) == 1


def test_a_plan_without_measurements_is_incomplete():
    summary = summarize_records([start(A), *plan(A, verdict=None), END])
    assert summary.verdict is RunVerdict.INCOMPLETE
    assert "recorded no measurement" in summary.reasons[0]


def test_a_selected_plan_that_never_started_is_incomplete():
    summary = summarize_records([start(A, B), *plan(A), END])
    assert summary.verdict is RunVerdict.INCOMPLETE
    assert [p.outcome for p in summary.plans] == ["passed", "not run"]


def test_failed_measurement_fails_and_errors_are_not_failures():
    assert verdict_of(start(A), *plan(A, "failed", "fail"), END) is RunVerdict.FAIL
    assert verdict_of(start(A), *plan(A, "error"), END) is RunVerdict.ERROR
    teardown = {"type": "test_result", "test": A, "when": "teardown", "outcome": "failed"}
    assert verdict_of(start(A), *plan(A), teardown, END) is RunVerdict.ERROR
    assert verdict_of(start(A), *plan(A, "aborted"), END) is RunVerdict.ERROR


def test_conditional_is_not_a_pass():
    assert verdict_of(start(A), *plan(A, verdict="conditional"), END) is RunVerdict.CONDITIONAL


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_interrupted_run(name, code):
    end = {"type": "run_end", "interrupted": True, "signal": name, "reason": f"{name} received"}
    cut = {"type": "test_result", "test": B, "when": "call", "outcome": "interrupted"}
    summary = summarize_records(
        [start(A, B), *plan(A), {"type": "test_start", "test": B}, cut, end]
    )
    assert summary.verdict is RunVerdict.INTERRUPTED and not summary.complete
    assert exit_code(summary) == code
    assert summary.plans[1].outcome == "interrupted"


def test_killed_run_and_torn_store_are_incomplete():
    assert verdict_of(start(A), *plan(A)) is RunVerdict.INCOMPLETE  # no run_end
    assert verdict_of(start(A), *plan(A), END, torn=True) is RunVerdict.INCOMPLETE
    assert verdict_of(start(A), *plan(A, "failed", "fail")) is RunVerdict.FAIL  # known anyway


def test_the_worst_phase_decides_and_keeps_its_reason():
    records = [
        start(A),
        *plan(A, "failed", "fail", reason="AssertionError: out of spec"),
        {"type": "test_result", "test": A, "when": "teardown", "outcome": "error", "reason": "x"},
        END,
    ]
    summary = summarize_records(records)
    assert summary.plans[0].outcome == "error" and summary.plans[0].reason == "x"
    assert summary.verdict is RunVerdict.FAIL  # a failed measurement outranks a broken plan
