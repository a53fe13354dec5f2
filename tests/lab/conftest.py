"""The laboratory's servers for the tests, started by the tests: one PostgreSQL server and
one labgrid coordinator per test module, a real one-plan run to copy stores from, and
`rig run` as a process whose console can be read while it runs."""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rig.lab.local import LocalCoordinator, LocalPostgres, LocalServerError, postgres_bindir
from rig.results import read_records
from tests.e2e.conftest import REPO

ONE_PLAN = "cell_ov_threshold_and_release and cell1]"
_names = itertools.count()


@pytest.fixture(scope="module")
def postgres() -> Iterator[LocalPostgres]:
    if postgres_bindir() is None:
        pytest.skip("no PostgreSQL server binaries (system package or pgserver)")
    try:
        server = LocalPostgres().start()
    except LocalServerError as exc:
        pytest.fail(str(exc))
    yield server
    server.close()


@pytest.fixture
def pg_url(postgres: LocalPostgres) -> str:
    """A fresh, empty database on the module's server, with its password in the URL."""
    return postgres.create_database(f"t{os.getpid()}_{next(_names)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'results.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="module")
def coordinator() -> Iterator[LocalCoordinator]:
    server = LocalCoordinator()
    yield server
    server.close()


DEAD_DB = "postgresql://rig:s3cret-pw@127.0.0.1:9/rig"  # port 9 (discard): nothing listens


@dataclass
class RealRun:
    run_dir: Path
    returncode: int
    output: str


@pytest.fixture(scope="module")
def real_run_with_db_down(tmp_path_factory: pytest.TempPathFactory) -> RealRun:
    """One real one-plan run whose database is down (its password in the URL)."""
    runs = tmp_path_factory.mktemp("real") / "runs"
    proc = rig("run", "--runs-dir", str(runs), "--no-report", "-k", ONE_PLAN, "--db", DEAD_DB)
    out = proc.communicate(timeout=120)[0]
    (run_dir,) = runs.iterdir()
    return RealRun(run_dir, proc.returncode, out)


@pytest.fixture(scope="module")
def real_run(real_run_with_db_down: RealRun) -> Path:
    """A real one-plan run folder to copy stores from."""
    assert real_run_with_db_down.returncode == 0, real_run_with_db_down.output[-3000:]
    return real_run_with_db_down.run_dir


def cli(*args: str) -> tuple[int, str]:
    """`rig ...` in this process (what the console would show, and the exit code)."""
    from typer.testing import CliRunner

    from rig.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def copy_run(
    source: Path,
    dest_runs: Path,
    run_id: str,
    *,
    started: float | None = None,
    serial: str = "",
    firmware: str | None = None,
    values: dict[str, float] | None = None,
    verdicts: dict[str, str] | None = None,
    killed: bool = False,
    host: str | None = None,
) -> Path:
    """A run folder made from a real store: another run ID, start time, DUT, values; or
    cut off as a SIGKILL leaves it (no run_end, the last record torn)."""
    records = read_records(source)
    out = []
    for r in records:
        r = dict(r)
        if r["type"] == "run_start":
            r["run_id"] = run_id
            if started is not None:
                r["started"] = started
            if host is not None:
                r["host"] = host
        elif r["type"] == "dut":
            r["serial"] = serial
            if firmware is not None:
                r["firmware"] = firmware
        elif r["type"] == "measurement":
            if values and r["name"] in values:
                r["value"] = values[r["name"]]
            if verdicts and r["name"] in verdicts:
                r["verdict"] = verdicts[r["name"]]
        out.append(r)
    lines = [json.dumps(r) + "\n" for r in out]
    if killed:
        cut = next(i for i, r in enumerate(out) if r["type"] == "test_result")
        lines = [*lines[:cut], lines[cut][: len(lines[cut]) // 2]]
    run_dir = dest_runs / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "results.jsonl").write_text("".join(lines))
    return run_dir


def rig(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rig", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )


class Console:
    """A `rig run` process whose output is read line by line as it comes."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        self.proc = rig(*args, env=env)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._ended = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        """The first line (seen so far or coming) that matches `pattern`."""
        regex = re.compile(pattern)
        for line in self.lines:
            if regex.search(line):
                return line
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no line matching {pattern!r}:\n{self.text[-3000:]}"
                ) from None
            if line is None:
                self._ended = True
                raise AssertionError(f"ended without {pattern!r}:\n{self.text[-3000:]}")
            self.lines.append(line)
            if regex.search(line):
                return line

    def finish(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout=timeout)
        while not self._ended and (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        self._ended = True
        return code

    @property
    def text(self) -> str:
        return "".join(self.lines)


def first_of(consoles: dict[str, Console], pattern: str, timeout: float = 60) -> str:
    """Which of several running consoles prints a line matching `pattern` first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for key, console in consoles.items():
            try:
                console.wait_for(pattern, timeout=0.1)
            except AssertionError:
                continue
            return key
    raise AssertionError(f"none printed {pattern!r}")
