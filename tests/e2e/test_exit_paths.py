"""Every way a run ends: told truly (verdict, run_end, exit code) and the bench left safe.

The bench's state is checked from simlab's side of the wire: simlab writes its outputs
as it stops (`simlab-final.json`), so "safe" here is what the instruments were doing,
not what the rig believes it sent. Signals at exact points come from small plans that
signal their own process; the real Ctrl-C / SIGTERM from outside come last.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rig.results import read_records
from tests.e2e.conftest import REPO, run_rig, write_plans

SIGNALLING_PLAN = '''
    """Plans that signal their own process at a chosen point (RIG_SIGNAL_AT)."""
    import os
    import signal

    import pytest
    from rig.measure import rectangular

    B = [rectangular("test value", 0.01, "the test's own stated accuracy")]

    AT = os.environ["RIG_SIGNAL_AT"]
    SIG = getattr(signal, os.environ["RIG_SIGNAL"])


    def kill():
        signal.raise_signal(SIG)


    @pytest.fixture
    def armed(rig):
        if AT == "setup":
            kill()
        if AT in ("safe_state", "twice"):
            # a step of the safe-state sequence during which the signal arrives
            rig.safety.register("signal arrives", kill, priority=15)
        yield


    def test_first(station, record, armed):
        """Measures, and is cut off at the chosen point."""
        record("first", 1.0, "V", low=0.0, high=2.0, budget=B)
        if AT == "call":
            kill()


    def test_second(station, record):
        """Never reached once the first plan is interrupted."""
        record("second", 1.0, "V", low=0.0, high=2.0, budget=B)
'''


def no_run_folder(runs: Path) -> bool:
    return not runs.exists() or not any(runs.iterdir())


def safe_at_the_end(run) -> None:
    final = run.final_state
    assert final["safe"] and final["at_safe_state"], final["not_at_safe_state"]
    safe = [r for r in run.records if r["type"] == "safe_state"]
    assert safe[-1]["reason"] == "end of session" and safe[-1]["failures"] == []


@pytest.mark.parametrize(
    ("at", "sig", "when"),
    [
        ("call", "SIGTERM", "call"),
        ("setup", "SIGINT", "setup"),
        ("safe_state", "SIGINT", "teardown"),
        ("twice", "SIGINT", "teardown"),
    ],
)
def test_a_signal_at_each_point_ends_interrupted_and_safe(tmp_path, at, sig, when):
    plans = write_plans(tmp_path / "plans", test_signals=SIGNALLING_PLAN)
    run = run_rig(
        tmp_path / "runs",
        "--plans",
        str(plans),
        env={"RIG_SIGNAL_AT": at, "RIG_SIGNAL": sig},
        timeout=120,
    )
    code = 128 + int(getattr(signal, sig))
    assert run.returncode == code, run.output[-3000:]
    end = run.records[-1]
    assert end["type"] == "run_end" and end["verdict"] == "INTERRUPTED"
    assert end["interrupted"] and end["signal"] == sig and end["exit_code"] == code
    assert "test_first" in end["reason"]
    (cut,) = [r for r in run.results("test_first") if r["outcome"] == "interrupted"]
    assert cut["when"] == when
    assert not run.results("test_second")  # never started, told as such
    assert "Overall verdict: INTERRUPTED" in run.output
    assert "Traceback" not in run.output
    safe_at_the_end(run)
    if at in ("safe_state", "twice"):
        # the signal arrived inside the sequence, which still ran every step after it
        teardown = next(
            r for r in run.records if r["type"] == "safe_state" and "test_first" in r["reason"]
        )
        assert teardown["failures"] == []
    if at == "twice":  # the second Ctrl-C arrived in the final sequence: noted, not obeyed
        assert run.final_state["safe"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--sim-set", "nonexistent.path=1"], "unknown parameter 'nonexistent.path'"),
        (["--sim-set", "firmware.cell_ov.delay_s=abc"], "expects a number, got 'abc'"),
        (["--sim-defect", "nope"], "unknown defect 'nope'"),
        (["--sim-defect", "slow_ov_delay:fctor=2"], "bad parameter 'fctor=2'"),
        (["--seed", "x"], "Invalid value for '--seed'"),
        (["-k", "no_such_plan"], "no test plan matches the selection"),
        (["--sim-set", "nope.x=1"], "`rig sim params` lists them"),
        (["--statoin", "x"], "rig run: unrecognized arguments: --statoin"),
        (["-m", "cell_ov and"], "-m 'cell_ov and' is not a selection expression"),
        (["-m", "cel_ov or quick"], "unknown marker cel_ov; known markers: balancing"),
    ],
    ids=[
        "unknown-path",
        "wrong-type",
        "unknown-defect",
        "defect-argument",
        "seed",
        "selection",
        "names-rig-sim",
        "option",
        "expression",
        "marker",
    ],
)
def test_usage_errors_are_exit_2_with_one_message(tmp_path, args, words):
    run = run_rig(tmp_path / "runs", *args, timeout=60)
    assert run.returncode == 2, run.output[-3000:]
    assert run.output.count(words) == 1, run.output
    assert "Traceback" not in run.output and "PASS" not in run.output
    assert "pytest.main()" not in run.output and "usage:" not in run.output
    assert no_run_folder(tmp_path / "runs")


@pytest.mark.parametrize(
    ("find", "replace", "field"),
    [
        ("low: 2.475", "low: -2.475", "protections.cell_uv.threshold_v"),
        ("high: 3.675", "high: 3.990", "protections.cell_ov.threshold_v"),  # beyond station
        ("poll_period_s: 0.05", "poll_period_s: 0", "test_conditions.poll_period_s"),
    ],
    ids=["negative-threshold", "search-beyond-limits", "zero-poll"],
)
def test_a_spec_without_physical_sense_is_refused_at_load(tmp_path, find, replace, field):
    text = (REPO / "specs" / "jbd-16s-lfp.yaml").read_text()
    assert find in text
    spec = tmp_path / "spec.yaml"
    spec.write_text(text.replace(find, replace))
    line = next(i for i, x in enumerate(spec.read_text().splitlines(), 1) if replace in x)
    run = run_rig(tmp_path / "runs", "--spec", str(spec), timeout=60)
    assert run.returncode == 2, run.output[-3000:]
    assert str(spec) in run.output and f"line {line}: {field}" in run.output, run.output
    assert "Traceback" not in run.output
    assert no_run_folder(tmp_path / "runs")


def test_collect_only_exits_0_and_runs_nothing(tmp_path):
    run = run_rig(tmp_path / "runs", "--collect-only", "-q", timeout=60)
    assert run.returncode == 0, run.output[-2000:]
    assert "test_cell_ov" in run.output
    assert no_run_folder(tmp_path / "runs")


OUTCOMES_PLAN = '''
    """One plan per outcome."""
    import pytest
    from rig.measure import rectangular

    B = [rectangular("test value", 0.01, "the test's own stated accuracy")]


    def test_passes(station, record):
        """Measures in spec."""
        record("in_spec", 1.0, "V", low=0.0, high=2.0, budget=B)


    def test_fails(station, record):
        """Measures out of spec."""
        record("out_of_spec", 3.0, "V", low=0.0, high=2.0, budget=B)


    def test_breaks(station, record):
        """An instrument fault, as the plan meets it."""
        raise OSError("link to the charger lost")


    def test_measures_nothing(station, record):
        """Runs to the end without recording."""


    def test_sneaks(station, clock, record):
        """Asks simlab for the truth behind the bench's back."""
        record("truth", clock._control.truth()["t"], "s", low=0.0, high=1e9, budget=B)


    @pytest.mark.skip(reason="no thermistor emulator on this bench")
    def test_skipped(station, record):
        """Never runs."""
'''


def test_each_outcome_is_recorded_and_only_a_full_pass_passes(tmp_path):
    plans = write_plans(tmp_path / "plans", test_outcomes=OUTCOMES_PLAN)
    run = run_rig(tmp_path / "runs", "--plans", str(plans), timeout=120)
    assert run.returncode == 1, run.output[-3000:]
    outcome = {r["test"].split("::")[-1]: r for r in run.results() if r["when"] == "call"}
    outcome |= {r["test"].split("::")[-1]: r for r in run.results() if r["outcome"] == "skipped"}
    assert {k: v["outcome"] for k, v in outcome.items()} == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_breaks": "error",
        "test_measures_nothing": "passed",
        "test_sneaks": "error",
        "test_skipped": "skipped",
    }
    assert "PlanReachedControl" in outcome["test_sneaks"]["reason"]
    assert "asked simlab's control channel for 'truth'" in outcome["test_sneaks"]["reason"]
    assert outcome["test_breaks"]["reason"] == "OSError: link to the charger lost"
    assert "Traceback" not in outcome["test_breaks"]["reason"]
    assert "raise OSError" in outcome["test_breaks"]["longrepr"]  # the traceback is kept
    assert outcome["test_skipped"]["reason"] == "no thermistor emulator on this bench"
    assert "out of specification" in outcome["test_fails"]["reason"]
    starts = {r["test"].split("::")[-1]: r for r in run.records if r["type"] == "test_start"}
    assert starts["test_breaks"]["doc"] == "An instrument fault, as the plan meets it."
    end = run.records[-1]
    assert end["verdict"] == "FAIL" and end["exit_code"] == 1
    assert end["counts"]["plans_skipped"] == 1 and end["counts"]["plans_error"] == 2

    # without the failing and broken plans, a skip and an empty plan still keep it from PASS
    run = run_rig(tmp_path / "runs2", "--plans", str(plans), "-k", "passes or nothing or skipped")
    assert run.returncode == 1, run.output[-3000:]
    assert run.records[-1]["verdict"] == "INCOMPLETE"
    assert "Overall verdict: INCOMPLETE" in run.output
    assert "1 plan(s) skipped" in run.output and "recorded no measurement" in run.output


def wait_for_measurement(runs: Path, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "rig run ended before it could be interrupted"
        for results in runs.glob("*/results.jsonl"):
            if any(r["type"] == "measurement" for r in read_records(results)):
                return
        time.sleep(0.02)
    raise AssertionError("no measurement within the timeout")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_from_outside_mid_plan(tmp_path, sig):
    """As from a terminal's Ctrl-C or a CI runner's SIGTERM: only rig gets it (simlab runs
    in its own session) and rig still reaches the safe state over the wire."""
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for_measurement(runs, proc)
    (run_dir,) = runs.iterdir()
    pid = next(r for r in read_records(run_dir) if r["type"] == "simlab")["endpoints"]["pid"]
    assert os.getsid(pid) != os.getsid(proc.pid)  # a terminal's Ctrl-C would miss it
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + int(sig), output[-3000:]

    records = read_records(run_dir)
    end = records[-1]
    assert end["type"] == "run_end" and end["verdict"] == "INTERRUPTED"
    assert end["signal"] == sig.name and end["exit_code"] == 128 + int(sig)
    assert [r for r in records if r.get("outcome") == "interrupted"]
    assert any(r["type"] == "measurement" for r in records)
    assert "Overall verdict: INTERRUPTED" in output

    import json

    final = json.loads((run_dir / "simlab-final.json").read_text())
    assert final["safe"] and final["at_safe_state"], final["not_at_safe_state"]
    for _ in range(100):  # simlab went with the run
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"simlab (pid {pid}) still running after the run ended")


def test_a_visa_library_that_does_not_load_is_a_usage_error(tmp_path):
    text = (REPO / "stations" / "sim-16s.yaml").read_text()
    station = tmp_path / "bench.yaml"
    station.write_text(text.replace("simulated: true", "simulated: true\nvisa_library: '@nope'"))
    run = run_rig(tmp_path / "runs", "--station", str(station), timeout=60)
    assert run.returncode == 2, run.output[-3000:]
    assert "visa_library: '@nope' does not load" in run.output
    assert "Traceback" not in run.output and no_run_folder(tmp_path / "runs")


@pytest.mark.parametrize(
    "text",
    [
        "name: x\nsimulated: true\n" + "a: " + "[" * 3000 + "]" * 3000 + "\n",
        "name: !!python/object/apply:os.system ['echo hi']\nsimulated: true\n",
        "simulated: true\nlimits: {cell_voltage: {max: lots}}\n",
    ],
    ids=["deep", "python-tag", "wrong-type"],
)
def test_a_hostile_station_file_is_exit_2_without_a_traceback(tmp_path, text):
    station = tmp_path / "hostile.yaml"
    station.write_text(text)
    run = run_rig(tmp_path / "runs", "--station", str(station), timeout=60)
    assert run.returncode == 2, run.output[-3000:]
    assert str(station) in run.output and "Traceback" not in run.output
    assert no_run_folder(tmp_path / "runs")


def test_a_lab_that_cannot_start_is_one_line_and_exit_1(tmp_path):
    """simlab cannot open one of its servers (here an installation without the package
    the BLE peripheral needs): the run says simlab's own words once, with no pytest
    INTERNALERROR around them, and ends not passed; nothing ran."""
    fake = tmp_path / "site"
    (fake / "bumble").mkdir(parents=True)
    (fake / "bumble" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'bumble'\", name='bumble')\n"
    )
    path = os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")])
    runs = tmp_path / "runs"
    station = "stations/sim-16s-jbd-ble.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "--no-report", "--no-db",
         "--station", station, "-k", "test_identity"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip
    said = proc.stdout + proc.stderr
    assert proc.returncode == 1, said
    assert "INTERNALERROR" not in said and "Traceback" not in said, said
    assert said.count("needs the Python package bumble") == 1, said
    # simlab's log, named in the message, is all the run folder holds: nothing ran
    assert [p.name for p in runs.glob("*/*")] == ["simlab.log"], said
