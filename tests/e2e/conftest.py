"""Run `rig run` as a user would: a separate process, the simulated lab behind real transports."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rig.results import read_records

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RigRun:
    returncode: int
    output: str
    records: list[dict[str, Any]]
    run_dir: Path | None = None

    @property
    def final_state(self) -> dict[str, Any]:
        """The bench as simlab saw it when it stopped (its own file, not the rig's word)."""
        assert self.run_dir is not None, self.output[-2000:]
        return json.loads((self.run_dir / "simlab-final.json").read_text())

    def results(self, test: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.records
            if r["type"] == "test_result" and (test is None or r["test"].endswith(test))
        ]

    def measurements(self, name: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.records
            if r["type"] == "measurement" and (name is None or r["name"] == name)
        ]

    def verdicts(self, name: str) -> list[str]:
        return [m["verdict"] for m in self.measurements(name)]

    def one(self, type_: str) -> dict[str, Any]:
        (found,) = [r for r in self.records if r["type"] == type_]
        return found


def run_rig(
    runs: Path,
    *args: str,
    timeout: float = 300,
    env: dict[str, str] | None = None,
    report: bool = False,
    db: bool = False,
) -> RigRun:
    """`rig run`; the report step and the database upload only where a test looks at
    them (tests/reports and tests/lab cover them)."""
    flags = ["--report" if report else "--no-report"] + ([] if db else ["--no-db"])
    proc = subprocess.run(
        [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), *flags, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )
    run_dirs = list(runs.iterdir()) if runs.exists() else []
    records = read_records(run_dirs[0]) if run_dirs else []
    run_dir = run_dirs[0] if run_dirs else None
    return RigRun(proc.returncode, proc.stdout + proc.stderr, records, run_dir)


def write_plans(folder: Path, **modules: str) -> Path:
    """A folder of test plans (`name=source`), for runs the shipped plans cannot set up."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in modules.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return folder


@pytest.fixture
def rig_run(tmp_path):
    return lambda *args: run_rig(tmp_path / "runs", *args)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> RigRun:
    """The whole default suite, once per test session, as the README runs it (the
    report, and the results database beside the runs folder).

    Once for every worker, too: the suite runs on two (pytest-xdist, one file each), and
    the files that read this run may land on both. The first to ask makes it, under a
    lock in the folder the workers share; the other waits and reads the same run."""
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's base is a folder of this session's own; alone, the base is
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with open(shared / "default_run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = shared / "default_run.json"
        if done.exists():
            made = json.loads(done.read_text())
            run_dir = Path(made["run_dir"])
            return RigRun(made["returncode"], made["output"], read_records(run_dir), run_dir)
        run = run_rig(shared / "default" / "runs", report=True, db=True)
        done.write_text(
            json.dumps(
                {"returncode": run.returncode, "output": run.output, "run_dir": str(run.run_dir)}
            )
        )
        return run
