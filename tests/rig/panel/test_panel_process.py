"""`rig panel` as a user starts it, and a run that does not depend on it: the panel killed
while its run waits for an operator, the run is answered another way and ends PASS."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import yaml

from rig.operator import post_answer
from rig.results import read_records
from tests.rig.panel.conftest import REPO


def test_a_run_outlives_its_panel(tmp_path):
    stations = tmp_path / "stations"
    stations.mkdir()
    doc = yaml.safe_load((REPO / "stations/sim-16s.yaml").read_text())
    doc["operator"] = {"steps": [{"id": "harness", "text": "Connect the harness"}]}
    (stations / "stepped.yaml").write_text(yaml.safe_dump(doc))
    runs = tmp_path / "runs"
    panel = subprocess.Popen(
        [sys.executable, "-m", "rig", "panel", "--runs-dir", str(runs), "--port", "0",
         "--stations", str(stations)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert panel.stdout is not None
        url = panel.stdout.readline().split()[1].rstrip("/")
        token = panel.stdout.readline().split()[1]  # printed: no lab file names one
        assert url.startswith("http://127.0.0.1:")
        started = httpx.post(
            f"{url}/api/runs",
            json={"station": "stepped", "spec": "jbd-16s-lfp", "tester": "Ada",
                  "select": "test_cell_ov_trip_delay and cell3"},
            headers={"X-Rig-Token": token}, timeout=60,
        )  # fmt: skip
        assert started.status_code == 201, started.text
        run_dir = runs / started.json()["run_id"]
        store = run_dir / "results.jsonl"
        deadline = time.monotonic() + 60
        while b'"type": "prompt"' not in store.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(panel.pid, signal.SIGKILL)  # the panel crashes mid-run
        panel.wait()
        prompt = next(r for r in read_records(store) if r["type"] == "prompt")
        assert post_answer(run_dir, prompt["prompt"], "done", "Ada", "cli")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            last = read_records(store)[-1]
            if last["type"] == "run_end":
                break
            time.sleep(0.1)
        assert last["type"] == "run_end" and last["verdict"] == "PASS", last
        assert json.loads((run_dir / "simlab-final.json").read_text())["safe"]
    finally:
        panel.kill()
        panel.wait()
