"""A run broken at many points: each ends as a clear outcome, the bench safe, nothing lost.

Each case injects one fault in the middle of the workload plan (`--sim-defect NAME:...,
at_s=15`, simlab's time, so it lands at the same point every time) or kills the rig
outright, then checks three things from outside the rig: simlab's own final state says
every output is safe; the results store holds everything written before the fault (and
a whole run, or a torn line that is reported, never silently dropped); and the plan the
fault hit is told as what it was: broken (error) or stopped by the watchdog (aborted),
never failed and never passed. bench/exit_paths.py runs the same checks at many more
points and prints the counts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from rig.results import read_records
from tests.e2e.conftest import REPO
from tests.e2e.faults import fast_station, judge, write_workload

FAULTS = [
    # (fault, station, the plan's outcome, words the reason names)
    ("scpi_disconnect:instrument=charger,at_s=15,for_s=20", None, "error", "charger"),
    ("scpi_late:instrument=load,delay_s=1,at_s=15,for_s=20", None, "error", "load"),
    ("scpi_garbage:instrument=cellsim_b,at_s=15,for_s=20", None, "error", "cellsim_b"),
    ("scpi_error_flood:instrument=charger,at_s=15,for_s=20", None, "error", "charger"),
    ("scpi_reboot:instrument=load,at_s=15,down_s=0", None, "error", "rebooted"),
    ("scpi_runaway:instrument=cellsim_a,channel=2,volts=4.6,at_s=15", None, "aborted", "cell 2"),
    ("bms_uart_silent:at_s=15,for_s=20", None, "error", ""),
    ("bms_uart_corrupt:at_s=15,for_s=20", None, "error", ""),
    ("bms_can_stop:at_s=15,for_s=20", "stations/sim-16s-pylon-can.yaml", "error", ""),
]


def rig(tmp_path, station, *args: str, workload_s: float | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if workload_s is not None:
        env["RIG_WORKLOAD_S"] = str(workload_s)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rig",
            "run",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--station",
            str(station),
            "--plans",
            str(write_workload(tmp_path / "plans")),
            "--no-report",
            *args,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


@pytest.mark.parametrize(
    ("fault", "source", "outcome", "words"),
    FAULTS,
    ids=[f[0].split(":")[0] for f in FAULTS],
)
def test_an_injected_fault_is_a_clear_outcome_and_the_bench_ends_safe(
    tmp_path, fault, source, outcome, words
):
    station = fast_station(tmp_path / "station.yaml", source or "stations/sim-16s.yaml")
    proc = rig(tmp_path, station, "--sim-defect", fault)
    output, _ = proc.communicate(timeout=240)
    (run_dir,) = (tmp_path / "runs").iterdir()
    result = judge(run_dir, proc.returncode)
    assert result.returncode == 1, output[-3000:]
    hit = [r for r in result.results("test_workload") if r["when"] == "call"]
    assert [r["outcome"] for r in hit] == [outcome], output[-3000:]
    assert words in hit[0]["reason"], hit[0]["reason"]
    assert "Traceback" not in hit[0]["reason"]
    assert result.run_end and result.run_end["verdict"] == "ERROR"
    lost = fault.startswith(("scpi_disconnect", "scpi_late", "scpi_garbage"))
    # an instrument out of reach stops the run: no further plan on a bench half reached
    assert result.run_end["reason"].startswith("stopped after an instrument was lost") == lost
    assert bool(result.results("test_quiet")) != lost
    assert result.intact and not result.torn
    assert result.safe, result.final["unsafe"]
    assert "Traceback" not in output


def test_kill_9_loses_no_record_and_simlab_makes_its_bench_safe(tmp_path):
    """The rig killed outright mid-plan, its charger on: every record it wrote is still
    there, and simlab, seeing its parent gone, puts its own outputs in the safe state."""
    station = fast_station(tmp_path / "station.yaml")
    proc = rig(tmp_path, station, workload_s=1e6)  # runs until killed
    runs = tmp_path / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stores = list(runs.glob("*/results.jsonl"))
        started = stores and [r for r in read_records(stores[0]) if r["type"] == "test_start"]
        if started and started[0]["test"].endswith("test_workload"):
            break
        time.sleep(0.02)
    time.sleep(0.3)  # into the workload: the charger or the load is on
    before = stores[0].read_bytes()
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    run_dir = stores[0].parent
    final = run_dir / "simlab-final.json"
    for _ in range(200):  # simlab notices by itself; give it time
        if final.exists():
            break
        time.sleep(0.05)
    result = judge(run_dir, proc.returncode, before)
    assert result.returncode == -signal.SIGKILL
    assert result.prefix_kept and result.intact
    assert result.run_end is None  # killed: no end, and the verdict says INCOMPLETE
    assert result.final is not None and result.final["made_safe_by_simlab"]
    assert result.safe and result.final["at_safe_state"], result.final["not_at_safe_state"]
    # a torn last line, as a kill in the middle of a write leaves: reported, and the
    # report of the run says it is incomplete
    with (run_dir / "results.jsonl").open("ab") as store:
        store.write(b'{"type": "measurement", "test": "x", "val')
    report = subprocess.run(
        [sys.executable, "-m", "rig", "report", str(run_dir), "--no-pdf"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert report.returncode == 0, report.stdout + report.stderr
    assert "INCOMPLETE" in report.stdout and "torn" in report.stdout, report.stdout
