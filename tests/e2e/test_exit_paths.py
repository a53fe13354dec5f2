"""Interrupted runs: SIGTERM or Ctrl-C mid-plan leaves the station safe and the store whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rig.results import read_records
from tests.e2e.conftest import REPO


def wait_for_measurement(runs: Path, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "rig run ended before it could be interrupted"
        for results in runs.glob("*/results.jsonl"):
            if any(r["type"] == "measurement" for r in read_records(results)):
                return
        time.sleep(0.05)
    raise AssertionError("no measurement within the timeout")


def last_sent(transcript: Path) -> list[str]:
    lines = [json.loads(x) for x in transcript.read_text().splitlines()]
    return [e["data"] for e in lines if e["dir"] == "tx"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupted_run_is_safe_and_recorded(tmp_path, sig):
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for_measurement(runs, proc)
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0, output[-2000:]

    (run_dir,) = runs.iterdir()
    records = read_records(run_dir)
    safe = [r for r in records if r["type"] == "safe_state"]
    assert safe[-1]["reason"] == "end of session"
    assert safe[-1]["failures"] == [], safe[-1]
    assert records[-1]["type"] == "run_end"
    assert any(r["type"] == "measurement" for r in records)

    # The wire shows the safe state: load input off, charger output off, cells at nominal.
    load = last_sent(run_dir / "transcripts" / "load.jsonl")
    assert ":SOUR:INP:STAT OFF" in load[-6:]
    charger = last_sent(run_dir / "transcripts" / "charger.jsonl")
    assert "OUTP 0,(@1)" in charger[-4:]
    cells = last_sent(run_dir / "transcripts" / "cellsim_d.jsonl")
    assert any(cmd.startswith("VOLT 3.3,(@4)") for cmd in cells)

    # simlab went with the run.
    pid = next(r for r in records if r["type"] == "simlab")["endpoints"]["pid"]
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"simlab (pid {pid}) still running after the run ended")
