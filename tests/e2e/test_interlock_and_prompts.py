"""Issue 19's operator steps and interlock, as `rig run` does them against simlab.

The interlock: opened by simlab mid-plan, it is found at the next poll, the bench goes to
its safe state before anything else, and the run ends INTERRUPTED with the reason; open
from the start, no plan is started. A prompt: answered through the answer channel (as a
test, the panel or `rig answer` does), recorded with who answered; left unanswered, it
times out after the station's timeout and the plan that needed it is an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from rig.operator import post_answer
from rig.results import read_records
from tests.e2e.conftest import REPO, run_rig

STATION = "stations/sim-16s-interlock.yaml"
PLAN = ["-k", "test_cell_ov_trip_delay and cell3"]  # one quick plan, t = 6.2 .. 7.4 s


def test_interlock_opened_mid_plan_safe_within_one_poll_and_interrupted(tmp_path):
    run = run_rig(
        tmp_path / "runs", "--station", STATION, "--sim-defect", "interlock_open:at_s=6.5", *PLAN
    )
    assert run.returncode == 1, run.output[-3000:]  # INTERRUPTED, but by no signal
    opened = run.one("interlock")
    poll_s = yaml.safe_load((REPO / STATION).read_text())["interlock"]["poll_s"]
    assert 6.5 <= opened["t"] <= 6.5 + poll_s  # found within one poll of opening
    assert opened["test"].endswith("test_cell_ov_trip_delay[cell3]")
    # the safe state first, whole, for that reason; then the record
    index = run.records.index(opened)
    before = run.records[index - 1]
    assert before["type"] == "safe_state" and before["reason"] == opened["reason"]
    assert before["failures"] == []
    (result,) = run.results("test_cell_ov_trip_delay[cell3]")
    assert result["outcome"] == "interrupted" and result["when"] == "call"
    end = run.one("run_end")
    assert end["verdict"] == "INTERRUPTED" and end["interrupted"] and end["signal"] is None
    assert end["reason"].startswith("interlock open: safety cover (daq:201 line 0 read 0")
    assert run.final_state["safe"], run.final_state["unsafe"]
    assert "interlock open: safety cover" in run.output


def test_interlock_open_from_the_start_no_plan_runs(tmp_path):
    run = run_rig(tmp_path / "runs", "--station", STATION, "--sim-defect", "interlock_open", *PLAN)
    assert run.returncode == 1
    assert "before the first plan" in run.one("interlock")["reason"]
    assert not [r for r in run.records if r["type"] in ("measurement", "dut")]  # DUT not opened
    (result,) = run.results()
    assert (result["when"], result["outcome"]) == ("setup", "interrupted")
    assert run.one("run_end")["verdict"] == "INTERRUPTED"


def prompting_station(tmp_path: Path) -> Path:
    doc = yaml.safe_load((REPO / "stations/sim-16s.yaml").read_text())
    doc["operator"] = {
        "timeout_s": 30,
        "steps": [
            {"id": "harness", "text": "Connect the DUT's UART harness", "before": "start"},
            {"id": "cover", "text": "Close the cover", "before": "cell_ov", "timeout_s": 0.5},
        ],
    }
    path = tmp_path / "prompting.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_prompt_answered_is_recorded_and_one_unanswered_times_out(tmp_path):
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rig", "run", "--no-report", "--runs-dir", str(runs),
         "--run-id", "prompted", "--station", str(prompting_station(tmp_path)), *PLAN],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ},
    )  # fmt: skip
    store = runs / "prompted" / "results.jsonl"
    deadline = time.monotonic() + 60
    prompt = None
    while prompt is None and time.monotonic() < deadline:
        if store.exists():
            prompt = next((r for r in read_records(store) if r["type"] == "prompt"), None)
        time.sleep(0.05)
    assert prompt is not None and prompt["step"] == "harness"
    assert post_answer(runs / "prompted", prompt["prompt"], "done", "Grace Hopper", "test")
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 1, output[-3000:]
    records = read_records(store)
    results = {r["step"]: r for r in records if r["type"] == "prompt_result"}
    assert results["harness"]["outcome"] == "answered"
    assert (results["harness"]["by"], results["harness"]["via"]) == ("Grace Hopper", "test")
    assert results["cover"]["outcome"] == "timeout" and results["cover"]["waited_s"] >= 0.5
    (plan,) = [r for r in records if r["type"] == "test_result"]
    assert plan["when"] == "setup" and plan["outcome"] == "error"
    assert "operator step 'cover' not answered within 0.5 s" in plan["reason"]
    assert json.loads(store.read_text().splitlines()[-1])["verdict"] == "ERROR"
    assert "OPERATOR STEP: Connect the DUT's UART harness" in output


def test_a_prompt_answered_at_the_terminal(tmp_path):
    """`rig run` started from a terminal (a pty here): typing y there answers the step."""
    import pty
    import select

    runs = tmp_path / "runs"
    argv = [sys.executable, "-m", "rig", "run", "--no-report", "--runs-dir", str(runs),
            "--run-id", "typed", "--tested-by", "Katherine Johnson",
            "--station", str(prompting_station(tmp_path)),
            "-k", "test_cell_uv_trip_delay and cell3"]  # fmt: skip
    pid, master = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty
        os.chdir(REPO)
        os.execv(sys.executable, argv)
    seen, typed = b"", False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child is gone: the pty is closed
                    break
                if not chunk:
                    break
                seen += chunk
            if not typed and b"type y (done)" in seen:
                os.write(master, b"y\n")
                typed = True
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(master)
    assert typed, seen.decode(errors="replace")[-2000:]
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")[-2000:]
    (answered,) = [r for r in read_records(runs / "typed") if r["type"] == "prompt_result"]
    assert (answered["by"], answered["via"]) == ("Katherine Johnson", "terminal")


def test_steps_declared_wrongly_are_usage_errors(tmp_path):
    station = prompting_station(tmp_path)
    doc = yaml.safe_load(station.read_text())
    doc["operator"]["steps"][1]["before"] = "cell_oov"
    station.write_text(yaml.safe_dump(doc))
    run = run_rig(tmp_path / "runs", "--station", str(station), *PLAN)
    assert run.returncode == 2 and not run.records
    assert "operator.steps.1.before" in run.output and "'cell_oov' is neither" in run.output

    from tests.e2e.conftest import write_plans

    plans = write_plans(
        tmp_path / "plans",
        test_marked="""
            import pytest

            @pytest.mark.operator_step("no text")
            def test_x(record):
                record("x", 1.0, "V", low=0.0, high=2.0, exact=True)
        """,
    )
    run = run_rig(tmp_path / "runs2", "--plans", str(plans))
    assert run.returncode == 2 and not run.records
    assert "operator_step takes (id, text, timeout_s=None)" in run.output
