"""The event stream: ids that resume, lines sent only whole, a torn store, a killed run."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time

from tests.rig.panel.conftest import REPO, append, write_store
from tests.rig.panel.sse import events


def test_a_reconnect_with_last_event_id_resumes_after_it(panel_server):
    writer = subprocess.Popen(["sleep", "120"])  # stands for the rig while the run goes on
    try:
        store = write_store(
            panel_server.runs / "resume",
            [
                {"type": "test_start", "test": "test_plans/test_a.py::test_one"},
                {"type": "simlab", "endpoints": {"control": "127.0.0.1:1"}},  # never shown
                {"type": "measurement", "test": "test_plans/test_a.py::test_one", "name": "v",
                 "value": 3.65, "unit": "V", "uncertainty": 0.002, "verdict": "pass"},
            ],
            pid=writer.pid,
        )  # fmt: skip
        with panel_server.client() as client:
            with client.stream("GET", "/api/runs/resume/events") as response:
                first = list(itertools.islice(events(response), 3))
            assert [e.type for e in first] == ["run_start", "test_start", "measurement"]
            assert first[2].data["test"] == "test_a.py::test_one"  # no folders
            assert first[2].data["shown"] == "3.6500 ± 0.0020 V"
            last = first[-1].id
            assert int(last) == store.stat().st_size  # the id is the offset past the line
            append(store, json.dumps({"type": "test_result", "test": "t", "outcome": "passed",
                                      "when": "call"}) + "\n")  # fmt: skip
            append(store, '{"type": "measurement", "test": "t", "name": "late"')  # half a line
            headers = {"Last-Event-ID": last}
            with client.stream("GET", "/api/runs/resume/events", headers=headers) as response:
                stream = events(response)
                resumed = next(stream)
                assert resumed.type == "test_result"  # the next record, nothing again
                time.sleep(0.3)  # the half line stays unsent while the writer may finish it
                append(store, ', "value": 1.0, "unit": "V", "verdict": "pass"}\n')
                completed = next(stream)
                assert completed.data["name"] == "late"
                assert int(completed.id) == store.stat().st_size
                writer.kill()
                writer.wait()
                rest = list(stream)
            assert [(e.event, e.data) for e in rest] == [
                ("end", {"complete": False, "torn": False})
            ]
    finally:
        writer.kill()
        writer.wait()


def test_a_torn_last_line_is_told_and_never_sent_as_a_record(panel_server):
    gone = subprocess.Popen(["true"])
    gone.wait()  # the writer died
    store = write_store(
        panel_server.runs / "torn", [{"type": "test_start", "test": "x.py::t"}], pid=gone.pid
    )
    half = '{"type": "measurement", "test": "x.py::t", "name": "cut", "val'
    append(store, half)
    with panel_server.client() as client, client.stream("GET", "/api/runs/torn/events") as r:
        got = list(events(r))
    assert [e.event for e in got] == ["record", "record", "torn", "end"]
    assert got[2].data["bytes"] == len(half)
    assert got[3].data == {"complete": False, "torn": True}
    listed = panel_server.client().get("/api/runs").json()["runs"]
    assert {"run_id": "torn", "verdict": None, "alive": False}.items() <= next(
        r for r in listed if r["run_id"] == "torn"
    ).items()


def test_a_run_killed_with_kill_9_ends_its_stream_incomplete(panel_server):
    runs = panel_server.runs
    proc = subprocess.Popen(
        [sys.executable, "-m", "rig", "run", "--no-report", "--runs-dir", str(runs),
         "--run-id", "killed", "-k", "cell_ov"],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        store = runs / "killed" / "results.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if store.exists() and b'"type": "measurement"' in store.read_bytes():
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        proc.kill()
    with panel_server.client() as client, client.stream("GET", "/api/runs/killed/events") as r:
        got = list(events(r))
    records = [e for e in got if e.event == "record"]
    assert records[0].type == "run_start" and any(e.type == "measurement" for e in records)
    assert not any(e.type == "run_end" for e in records)
    assert got[-1].event == "end" and got[-1].data["complete"] is False
    whole = sum(1 for line in store.read_bytes().split(b"\n")[:-1] if line)
    assert int(got[-1].id) <= store.stat().st_size and whole >= len(records)
