"""The panel on a laboratory: its history from a real PostgreSQL server, its lab view from
a real labgrid coordinator, both started by the tests (rig.lab.local, tests/lab's module
fixtures), read through the panel's HTTP API and once in the system's Chromium.

One lab for the module. Runs: one uploaded from this panel's runs folder (with its
reports), one uploaded from another folder of this machine, one uploaded from a folder
that is gone since (a run of another machine, as far as this panel can tell), one that
ended but never reached the database, one running now, and one killed while it held its
bench, uploaded later as INCOMPLETE. Places: bench-a held by the running run, bench-b by
the killed run's dead process, bench-c by a run on another host, chamber-1 free.
"""

from __future__ import annotations

import getpass
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import httpx
import pytest

from rig.lab.db import Database, resolve
from rig.lab.local import LocalCoordinator, LocalPostgres
from rig.lab.places import PlaceClient
from rig.lab.upload import upload
from rig.panel.db_history import DatabaseHistory
from rig.panel.history import RunsFolder
from rig.panel.lab import CoordinatorView
from tests.lab.conftest import cli, coordinator, postgres  # noqa: F401  (module fixtures)
from tests.rig.panel.browser import chromium_page, need_chromium, shots_folder
from tests.rig.panel.conftest import REPO, PanelServer, start_panel, stop_panel

HOST = platform.node()
USER = getpass.getuser()
EVIL = '<img src=x onerror="window.pwned=1">Evil <b>BMS</b>'
T0 = time.time() - 3600.0


def write_run(
    folder: Path,
    run_id: str,
    started: float,
    *,
    pid: int,
    dut: str = "JBD SP16S020",
    serial: str = "SN-1",
    verdict: str | None = "PASS",
    places: tuple[tuple[str, str], ...] = (),
    reports: tuple[str, ...] = (),
) -> Path:
    """A run folder as `rig run` leaves it: a store (ended, or killed: no run_end and a
    torn last line) and the reports named."""
    run_dir = folder / run_id
    run_dir.mkdir(parents=True)
    test = "test_plans/test_cell_ov.py::test_cell_ov_trip_delay[cell3]"
    records = [
        {"type": "run_start", "run_id": run_id, "station": "sim-16s", "dut_name": dut,
         "tested_by": "Ada", "selected": [test], "host": HOST, "pid": pid,
         "started": started, "station_file": str(REPO / "stations/sim-16s.yaml")},
        {"type": "dut", "serial": serial, "model": "SP16S020", "firmware": "1.0.7"},
        *({"type": "place", "place": p, "holder": h, "tags": {}} for p, h in places),
        {"type": "test_start", "test": test},
        {"type": "measurement", "test": test, "name": "cell_ov_trip_delay", "value": 1.02,
         "unit": "s", "low": 0.5, "high": 2.0,
         "verdict": "fail" if verdict == "FAIL" else "pass"},
    ]  # fmt: skip
    lines = [json.dumps(r) + "\n" for r in records]
    if verdict is None:
        lines.append('{"type": "test_result", "test": "te')  # killed mid-line
    else:
        outcome = "failed" if verdict == "FAIL" else "passed"
        lines.append(json.dumps({"type": "test_result", "test": test, "when": "call",
                                 "outcome": outcome}) + "\n")  # fmt: skip
        lines.append(json.dumps({"type": "run_end", "verdict": verdict, "exit_code": 0}) + "\n")
    (run_dir / "results.jsonl").write_text("".join(lines))
    for name in reports:
        (run_dir / name).write_text("<p>the report</p>" if name.endswith("html") else "%PDF-")
    return run_dir


@dataclass
class Lab:
    runs: Path
    elsewhere: Path
    db_url: str
    password: str
    coordinator: str
    holders: dict[str, str]
    pids: dict[str, int]


@pytest.fixture(scope="module")
def lab(postgres: LocalPostgres, coordinator: LocalCoordinator, tmp_path_factory) -> Iterator[Lab]:  # noqa: F811
    root = tmp_path_factory.mktemp("panel-lab")
    runs, elsewhere = root / "runs", root / "elsewhere"
    db_url = postgres.create_database("panel")
    running = subprocess.Popen(["sleep", "600"])  # stands for a run's live process
    dead = subprocess.Popen(["true"])
    dead.wait()  # and for one killed since
    gone = dead.pid  # the runs that ended: their processes are gone too
    holders = {
        "bench-a": f"{HOST}:{running.pid}/{USER}",
        "bench-b": f"{HOST}:{dead.pid}/{USER}",
        "bench-c": "bench-pc-2:4242/alice",
    }
    uploaded = [
        write_run(runs, "r1-here", T0, pid=gone, reports=("report.html", "report.pdf")),
        write_run(elsewhere, "r2-there", T0 + 60, pid=gone, verdict="FAIL",
                  reports=("report.html",)),
        write_run(elsewhere, "r3-gone", T0 + 120, pid=gone, dut=EVIL, serial="SN<i>3</i>"),
        write_run(elsewhere, "r6-killed", T0 + 300, pid=dead.pid, verdict=None,
                  places=(("bench-b", holders["bench-b"]),)),
    ]  # fmt: skip
    db = Database(resolve(db_url, runs))
    try:
        for run_dir in uploaded:
            upload(db, run_dir)
    finally:
        db.close()
    shutil.rmtree(elsewhere / "r3-gone")  # its folder is not on this machine any more
    write_run(runs, "r4-local", T0 + 180, pid=gone)  # ended, its upload failed: not in the database
    write_run(runs, "r5-live", time.time(), pid=running.pid, verdict=None)
    (runs / "r5-live" / "results.jsonl").write_text(
        (runs / "r5-live" / "results.jsonl").read_text().rpartition("\n")[0] + "\n"
    )  # running: the last line is whole, it is just not the end

    admin = PlaceClient(coordinator.address)
    admin.add_place("bench-a", {"kind": "sim16s"}, comment="simulated 16S station A")
    admin.add_place("bench-b", {"kind": "sim16s"})
    admin.add_place("bench-c", {"kind": "sim16s"})
    admin.add_place("chamber-1", {"kind": "chamber"}, comment="<b>thermal</b> chamber")
    admin.close()
    for place, pid in (("bench-a", running.pid), ("bench-b", dead.pid)):
        client = PlaceClient(coordinator.address, pid=pid)
        client.acquire(place)
        client.close()  # a lock has no lease: it stays acquired
    with mock.patch("rig.lab.places.holder_name", return_value=("bench-pc-2:4242", "alice")):
        client = PlaceClient(coordinator.address)
    client.acquire("bench-c")
    client.close()
    yield Lab(runs, elsewhere, db_url, postgres.password, coordinator.address, holders,
              {"running": running.pid, "dead": dead.pid})  # fmt: skip
    running.kill()
    running.wait()


@pytest.fixture(scope="module")
def served(lab: Lab) -> Iterator[PanelServer]:
    target = resolve(lab.db_url, lab.runs)
    server, handle = start_panel(
        lab.runs, REPO / "stations", REPO / "specs", db=target, coordinator=lab.coordinator
    )
    yield server
    stop_panel(handle)


def everything(client) -> str:
    return "".join(client.get(u).text for u in ("/api/info", "/api/runs", "/api/lab", "/"))


def test_history_comes_from_the_database_with_reports_where_the_folder_is_here(served, lab):
    with served.client() as client:
        answer = client.get("/api/runs").json()
        assert answer["history"] == {"source": "database", "database": "postgresql", "state": "ok"}
        runs = {r["run_id"]: r for r in answer["runs"]}
        assert list(runs) == ["r5-live", "r6-killed", "r4-local", "r3-gone", "r2-there", "r1-here"]
        shown = {k: (r["verdict"], r["here"], r["reports"], r["serial"]) for k, r in runs.items()}
        assert shown == {
            "r1-here": ("PASS", True, ["report.html", "report.pdf"], "SN-1"),
            "r2-there": ("FAIL", True, ["report.html"], "SN-1"),  # uploaded from elsewhere here
            "r3-gone": ("PASS", False, [], "SN<i>3</i>"),  # in the database only
            "r4-local": ("PASS", True, [], ""),  # in the runs folder only
            "r5-live": (None, True, [], ""),
            "r6-killed": ("INCOMPLETE", True, [], "SN-1"),
        }
        assert runs["r3-gone"]["dut"] == EVIL  # as data: the page sets it as text
        assert runs["r5-live"]["alive"] and not runs["r6-killed"]["alive"]
        assert client.get("/runs/r2-there/report.html").text == "<p>the report</p>"
        assert client.get("/runs/r1-here/report.pdf").status_code == 200
        assert client.get("/runs/r3-gone/report.html").status_code == 404
        assert client.get("/api/runs/r3-gone/events").status_code == 404
        text = everything(client)
    for secret in (lab.password, lab.db_url, "postgresql://", str(lab.runs.parent), str(REPO)):
        assert secret not in text, secret


def test_the_lab_view_shows_each_place_its_holder_and_its_run(served, lab):
    with served.client() as client:
        assert client.get("/api/info").json()["lab"] is True
        answer = client.get("/api/lab").json()
    assert answer["error"] is None
    places = {p["name"]: p for p in answer["places"]}
    assert list(places) == ["bench-a", "bench-b", "bench-c", "chamber-1"]
    seen = {
        name: (p["state"], p["holder"], p["run_id"], p["here"], p["panel_url"])
        for name, p in places.items()
    }
    assert seen == {
        # held by a live process of this machine: its run, whose live view is here
        "bench-a": ("held", lab.holders["bench-a"], "r5-live", True, None),
        # held by a process that is gone: the killed run the database knows it by
        "bench-b": ("dead", lab.holders["bench-b"], "r6-killed", True, None),
        # held from another host: its run is not known here; that host's panel is
        "bench-c": ("held", lab.holders["bench-c"], None, False, "http://bench-pc-2:8765/"),
        "chamber-1": ("free", None, None, False, None),
    }
    a = places["bench-a"]
    assert (a["user"], a["host"], a["pid"]) == (USER, HOST, lab.pids["running"])
    assert time.time() - 120 < a["since"] <= time.time()
    assert a["tags"] == {"kind": "sim16s"} and a["comment"] == "simulated 16S station A"
    assert places["chamber-1"]["comment"] == "<b>thermal</b> chamber"  # data, shown as text


def test_a_database_that_stops_answering_leaves_the_runs_folder(served, lab, postgres):  # noqa: F811
    history = served.panel.history
    assert isinstance(history, DatabaseHistory)
    postgres.stop()
    try:
        with served.client() as client:
            answer = client.get("/api/runs").json()
            assert answer["history"] == {
                "source": "runs folder", "database": "postgresql", "state": "unreachable"
            }  # fmt: skip
            assert [r["run_id"] for r in answer["runs"]] == ["r5-live", "r4-local", "r1-here"]
            assert lab.password not in client.get("/api/runs").text
    finally:
        postgres.start()
    history._retry_at = 0.0  # as if RETRY_S had passed
    with served.client() as client:
        answer = client.get("/api/runs").json()
    assert answer["history"]["state"] == "ok" and len(answer["runs"]) == 6


def test_a_lost_coordinator_is_said_at_once_and_read_again_when_back(lab):
    said: list[str] = []
    server = LocalCoordinator()
    view = CoordinatorView(server.address, RunsFolder(lab.runs), say=said.append)
    try:
        assert view.places() == [] and view.problem() is None  # no place there yet
        server._proc.kill()  # the coordinator dies (SIGTERM waits for its clients: 5 s)
        server._proc.wait()
        view._shown_at = -10.0  # the cache's time is up
        assert view.places() == []
        assert view.problem() == "the labgrid coordinator cannot be reached"
        assert "the connection was lost" in said[0]
        view._retry_at = view._shown_at = -10.0
        view.address = lab.coordinator  # back (another server, the same panel)
        assert [p["name"] for p in view.places()][:1] == ["bench-a"]
        assert view.problem() is None
    finally:
        view.close()
        server.close()


def test_rig_panel_takes_its_database_and_coordinator_from_the_lab_file(lab, tmp_path):
    """`rig panel --lab FILE` as a process: the database (its password from the variable
    the file names) and the coordinator from the file, said at start-up without the
    password; Ctrl-C stops it with exit code 0."""
    url = lab.db_url.replace(f":{lab.password}@", "@")
    (tmp_path / "lab.yaml").write_text(
        f"database: {{url: '{url}', password_env: RIG_TEST_PG_PASSWORD}}\n"
        f"coordinator: {{address: '{lab.coordinator}'}}\n"
        "panel: {token_env: RIG_TEST_TOKEN, port: 0}\n"
    )
    env = {**os.environ, "RIG_TEST_PG_PASSWORD": lab.password, "RIG_TEST_TOKEN": "t0ken"}
    env.pop("RIG_DB_URL", None)
    env.pop("LG_COORDINATOR", None)
    panel = subprocess.Popen(
        [sys.executable, "-m", "rig", "panel", "--lab", str(tmp_path / "lab.yaml"),
         "--runs-dir", str(lab.runs)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert panel.stdout is not None
        said = [panel.stdout.readline() for _ in range(4)]
        base = said[0].split()[1]
        assert said[1:] == [
            "token: from $RIG_TEST_TOKEN\n",
            "history: the results database "
            + url.replace("postgresql://rig@", "postgresql+psycopg://rig:***@")
            + "\n",
            f"lab view: the labgrid coordinator {lab.coordinator}\n",
        ]
        runs = httpx.get(base + "api/runs", timeout=30).json()
        assert runs["history"]["source"] == "database" and len(runs["runs"]) == 6
        places = httpx.get(base + "api/lab", timeout=30).json()["places"]
        assert [(p["name"], p["run_id"]) for p in places][:2] == [
            ("bench-a", "r5-live"), ("bench-b", "r6-killed")
        ]  # fmt: skip
        panel.send_signal(signal.SIGINT)
        assert panel.wait(timeout=30) == 0
        assert lab.password not in "".join(said) + panel.stdout.read()
    finally:
        panel.kill()
        panel.wait()


def test_rig_panel_refuses_a_wrong_database_url_before_it_serves():
    code, out = cli("panel", "--port", "0", "--db", "mysql://rig@db/rig")
    assert code == 2 and "bms-rig stores results in PostgreSQL" in out


def test_the_lab_view_and_the_history_in_a_browser(served, lab, tmp_path_factory):
    need_chromium()
    shots = shots_folder(tmp_path_factory)
    with chromium_page() as page:
        page.goto(served.url + "/#run=r1-here")
        page.wait_for_function("document.querySelectorAll('#places li').length === 4")
        page.wait_for_function("document.querySelectorAll('#runs li').length === 6")
        assert page.locator("#history-source").inner_text() == "(results database, PostgreSQL)"
        bench_b = page.locator("#places li[data-place='bench-b']")
        assert bench_b.locator(".badge").inner_text() == "dead client"
        assert f"process {lab.pids['dead']}" in bench_b.inner_text()
        assert page.locator("#places b, #runs img, #runs i").count() == 0  # markup as text
        assert EVIL in page.locator("#runs").inner_text()
        gone = page.locator("#runs li", has_text="r3-gone")
        assert gone.locator("a").count() == 0  # nothing here to open
        there = page.locator("#runs li", has_text="r2-there")
        assert (
            there.locator("a", has_text="HTML").get_attribute("href")
            == "/runs/r2-there/report.html"
        )
        other = page.locator("#places li[data-place='bench-c'] a")
        assert other.first.get_attribute("href") == "http://bench-pc-2:8765/"
        assert other.last.inner_text() == "the panel on bench-pc-2"
        page.screenshot(path=shots / "lab-history.png", full_page=True)

        page.click("#places li[data-place='bench-a'] a")  # opens the bench's live view
        page.wait_for_function("location.hash === '#run=r5-live'")
        page.wait_for_function("document.getElementById('run-state').textContent === 'running'")
        page.wait_for_function("document.querySelectorAll('#measurements tbody tr').length === 1")
        assert page.locator("#run-id").inner_text() == "r5-live"
        assert page.locator("#run-verdict").is_hidden()  # r1-here's PASS went with it
        assert page.locator("#places li.selected").get_attribute("data-place") == "bench-a"
        page.screenshot(path=shots / "lab-bench-live.png", full_page=True)
        assert page.evaluate("window.pwned") is None
        assert page.errors == []  # type: ignore[attr-defined]
