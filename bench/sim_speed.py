"""Simulated seconds per wall second for the default suite, measured in one run.

Runs `rig run` on the simulated station exactly as a user would, then reads the run's own
results store: simulated time from simlab's final clock (the `sim_truth` record), wall
time from the run's start and end records. Prints the ratio; no thresholds, no asserts.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rig.results import read_records  # noqa: E402


def main(extra: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "-q", *extra],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        process_wall = time.perf_counter() - t0
        (run_dir,) = runs.iterdir()
        records = read_records(run_dir)
    by_type = {r["type"]: r for r in records}
    sim_s = by_type["sim_truth"]["truth"]["t"]
    session_wall = by_type["run_end"]["ended"] - by_type["run_start"]["started"]
    measurements = sum(1 for r in records if r["type"] == "measurement")
    print(f"default suite: {measurements} measurements, exit code {proc.returncode}")
    print(f"simulated time            {sim_s:10.1f} s")
    print(f"wall time, test session   {session_wall:10.2f} s")
    print(f"wall time, whole process  {process_wall:10.2f} s (incl. interpreter and simlab start)")
    print(f"simulated s per wall s    {sim_s / session_wall:10.1f}  (session)")
    print(f"simulated s per wall s    {sim_s / process_wall:10.1f}  (whole process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
