"""What `rig run` prints: each measurement once, no traceback for a measured failure, a
plan's own crash once, a summary that fits 80 columns."""

from __future__ import annotations

from tests.e2e.conftest import run_rig, write_plans


def test_a_measured_fail_prints_no_traceback(tmp_path):
    run = run_rig(
        tmp_path / "runs", "-q", "-k", "test_cell_ov_trip_delay and cell16",  # -q: still pytest's
        "--sim-set", "firmware.cell_ov.delay_s=3.1", timeout=120,
    )  # fmt: skip
    assert run.returncode == 1, run.output[-3000:]
    out = run.output
    assert "Traceback" not in out and "def pytest_runtest_call" not in out, out
    assert "rig/plugin" not in out and "AssertionError" not in out, out
    fails = [ln for ln in out.splitlines() if ln.lstrip().startswith("FAIL cell_ov_trip_delay")]
    assert len(fails) == 2, out  # as taken, and once among the findings
    assert "± 0.029 s" in fails[0] and "1.5…2.5 s" in fails[0]
    assert "Overall verdict: FAIL" in out
    summary = out[out.index("\nRun ") : out.index("results: ")]
    assert max(len(line) for line in summary.splitlines()) <= 80, summary
    (result,) = [r for r in run.records if r["type"] == "test_result"]
    assert result["outcome"] == "failed" and "3.1" in result["reason"]
    assert "fixtures.py" not in result["longrepr"]


CRASHING = """
import pytest

pytestmark = [pytest.mark.protection("cell_ov")]


def helper(x):
    return x["missing"]


def test_crashes(record, station):
    record("reading", 1.0, "V", low=0.0, high=2.0, exact=True)
    helper({})
"""


def test_a_plans_own_crash_is_shown_once(tmp_path):
    plans = write_plans(tmp_path / "plans", test_crash=CRASHING)
    run = run_rig(tmp_path / "runs", "--plans", str(plans), timeout=120)
    assert run.returncode == 1, run.output[-3000:]
    out = run.output
    assert out.count('return x["missing"]') == 1, out  # the plan's own line, once
    assert out.count("KeyError: 'missing'") == 2, out  # the crash, and the finding
    assert "pluggy" not in out and "_pytest" not in out and "rig/plugin" not in out, out
    assert out.count("PASS reading") == 1, out
