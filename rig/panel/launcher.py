"""Runs the panel starts and stops, and whether a run's process is still there.

A run is `rig run` in a process group of its own (so the panel's stop is the terminal's
Ctrl-C: SIGINT to the group, whose leader is the rig; simlab and the live printer have
groups of their own and are stopped by the rig as on Ctrl-C). The panel names the run
(`--run-id`) and waits until its store exists before it answers. Runs started at a
terminal on this host can be stopped too: their `run_start` names the rig's pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from rig.paths import REPO

TEXT = re.compile(r"^[^\x00-\x1f\x7f]{0,200}$")  # one line of printable text
SELECTION = re.compile(r"^[\w .,()\[\]-]{0,200}$")  # a -k / -m expression
STORE_WAIT_S = 30.0  # real time: simlab boots and pytest collects before the store opens


class LaunchError(Exception):
    """The run could not start (bad input, or `rig run` refused): the message says why."""


def new_panel_run_id() -> str:
    """Unique without a pid: several runs may start from one panel process."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def pid_alive(pid: int) -> bool:
    """A process with that pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"
    return True


class Launcher:
    def __init__(self, runs_dir: Path, stations_dir: Path, specs_dir: Path):
        self.runs_dir, self.stations_dir, self.specs_dir = runs_dir, stations_dir, specs_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def stations(self) -> list[str]:
        return sorted(p.stem for p in self.stations_dir.glob("*.yaml"))

    def specs(self) -> list[str]:
        return sorted(p.stem for p in self.specs_dir.glob("*.yaml"))

    def _log(self, run_id: str) -> Path:
        return self.runs_dir / ".panel" / f"{run_id}.log"

    async def start(self, station: str, spec: str, select: str, markers: str, tester: str) -> str:
        if station not in self.stations():
            raise LaunchError(f"no station named {station!r}")
        if spec not in self.specs():
            raise LaunchError(f"no spec named {spec!r}")
        for what, value, pattern in (
            ("selection", select, SELECTION),
            ("markers", markers, SELECTION),
            ("tester", tester, TEXT),
        ):
            if not pattern.match(value):
                raise LaunchError(f"{what}: not allowed: {value!r}")
        tester = tester.strip()
        if not tester:
            raise LaunchError("tester: give the name of who runs the tests")
        run_id = new_panel_run_id()
        cmd = [
            sys.executable, "-m", "rig", "run",
            "--station", str(self.stations_dir / f"{station}.yaml"),
            "--spec", str(self.specs_dir / f"{spec}.yaml"),
            "--runs-dir", str(self.runs_dir), "--run-id", run_id, "--tested-by", tester,
        ]  # fmt: skip
        if select.strip():
            cmd += ["-k", select.strip()]
        if markers.strip():
            cmd += ["-m", markers.strip()]
        log = self._log(run_id)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the stop button is its Ctrl-C
            )
        self.procs[run_id] = proc
        store = self.runs_dir / run_id / "results.jsonl"
        deadline = time.monotonic() + STORE_WAIT_S
        while not store.exists():
            if proc.poll() is not None:
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                raise LaunchError(f"rig run ended (exit {proc.returncode}): " + " / ".join(tail))
            if time.monotonic() > deadline:
                raise LaunchError("the run did not open its results store in time")
            await asyncio.sleep(0.05)  # real time: waiting for another process
        return run_id

    def alive(self, run_id: str, run_start: dict | None) -> bool:
        proc = self.procs.get(run_id)
        if proc is not None:
            return proc.poll() is None
        pid = (run_start or {}).get("pid")
        if not isinstance(pid, int) or (run_start or {}).get("host") != platform.node():
            return False
        return pid_alive(pid)

    def stop(self, run_id: str, run_start: dict | None) -> bool:
        """SIGINT, as Ctrl-C: False if the run's process is not (or no longer) there."""
        proc = self.procs.get(run_id)
        if proc is not None:
            if proc.poll() is not None:
                return False
            os.killpg(proc.pid, signal.SIGINT)
            return True
        if not self.alive(run_id, run_start):
            return False
        os.kill(int((run_start or {})["pid"]), signal.SIGINT)
        return True

    def reap(self) -> None:
        """Collect the exit status of runs that ended (no zombies left behind)."""
        for proc in self.procs.values():
            proc.poll()
