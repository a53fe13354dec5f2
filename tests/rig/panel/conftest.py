"""A real panel on loopback (uvicorn in a thread), with a token the tests know."""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from rig.panel.app import Panel, create_app
from rig.panel.serve import bind_socket, make_panel

TOKEN = "test-token-0123456789"
REPO = Path(__file__).resolve().parents[3]


@dataclass
class PanelServer:
    url: str
    panel: Panel
    runs: Path

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kw)


def start_panel(runs: Path, stations: Path, specs: Path, **parts) -> tuple[PanelServer, object]:
    """`parts`: make_panel's database target and coordinator address."""
    import uvicorn

    runs.mkdir(parents=True, exist_ok=True)
    panel = make_panel(runs, stations, specs, TOKEN, "127.0.0.1", **parts)
    sock = bind_socket("127.0.0.1", 0)
    config = uvicorn.Config(create_app(panel), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    return PanelServer(url, panel, runs), (server, thread)


def stop_panel(handle: object) -> None:
    server, thread = handle  # type: ignore[misc]
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def panel_server(tmp_path_factory) -> Iterator[PanelServer]:
    root = tmp_path_factory.mktemp("panel")
    served, handle = start_panel(root / "runs", REPO / "stations", REPO / "specs")
    yield served
    stop_panel(handle)


def write_store(run_dir: Path, records: list[dict], pid: int | None = None) -> Path:
    """A results store written by hand; `pid` stands for the writer (alive while it is)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    start = {"type": "run_start", "run_id": run_dir.name, "station": "bench", "dut_name": "d",
             "tested_by": "t", "selected": [], "host": platform.node(), "pid": pid}  # fmt: skip
    path = run_dir / "results.jsonl"
    with path.open("w") as f:
        for rec in [start, *records]:
            f.write(json.dumps(rec) + "\n")
    return path


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
