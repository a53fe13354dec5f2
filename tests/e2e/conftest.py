"""Run `rig run` as a user would: a separate process, the simulated lab behind real transports."""

from __future__ import annotations

import subprocess
import sys
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

    def measurements(self, name: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.records
            if r["type"] == "measurement" and (name is None or r["name"] == name)
        ]

    def one(self, type_: str) -> dict[str, Any]:
        (found,) = [r for r in self.records if r["type"] == type_]
        return found


def run_rig(runs: Path, *args: str, timeout: float = 300) -> RigRun:
    proc = subprocess.run(
        [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    run_dirs = list(runs.iterdir()) if runs.exists() else []
    records = read_records(run_dirs[0]) if run_dirs else []
    return RigRun(proc.returncode, proc.stdout + proc.stderr, records)


@pytest.fixture
def rig_run(tmp_path):
    return lambda *args: run_rig(tmp_path / "runs", *args)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> RigRun:
    """The whole default suite, once per test session."""
    return run_rig(tmp_path_factory.mktemp("default") / "runs")
