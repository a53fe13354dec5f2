"""Every way a run can end, tried at many points: are the outputs safe, is the store whole?

Breaks a run of the workload plan (tests/e2e/faults.py: every instrument and the BMS
busy once per simulated second) in each way a bench run can end badly, at several
points, and judges each from outside the rig:

- safe: simlab's own final state (`simlab-final.json`, written as it stops) says every
  output is safe;
- intact: every byte of the results store seen just before the break is still there,
  and the store begins with `run_start` (a whole run, or a killed one's records);
- honest: the verdict is not PASS, and the exit code is the one the path calls for
  (130 SIGINT, 143 SIGTERM, 1 a fault, -9 a kill).

Paths: SIGINT and SIGTERM at several moments; kill -9 at several moments (simlab, its
parent gone, makes its own bench safe); each link fault of simlab.faults injected at
several points of the plan. Prints one line per path and the totals; asserts nothing.

    .venv/bin/python bench/exit_paths.py [--points N]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.faults import fast_station, judge, write_workload  # noqa: E402

FAULTS = {
    "scpi_disconnect": "scpi_disconnect:instrument=charger,for_s=30",
    "scpi_late": "scpi_late:instrument=load,delay_s=1,for_s=30",
    "scpi_garbage": "scpi_garbage:instrument=cellsim_b,for_s=30",
    "scpi_error_flood": "scpi_error_flood:instrument=charger,for_s=30",
    "scpi_reboot": "scpi_reboot:instrument=load,down_s=0",
    "scpi_runaway": "scpi_runaway:instrument=cellsim_a,channel=2,volts=4.6",
    "bms_uart_silent": "bms_uart_silent:for_s=30",
    "bms_uart_corrupt": "bms_uart_corrupt:for_s=30",
}


def start(tmp: Path, station: Path, *args: str, workload_s: float = 40.0) -> subprocess.Popen:
    env = {**os.environ, "RIG_WORKLOAD_S": str(workload_s)}
    cmd = [sys.executable, "-m", "rig", "run", "--runs-dir", str(tmp / "runs")]
    cmd += ["--station", str(station), "--plans", str(write_workload(tmp / "plans"))]
    cmd += ["--no-report", *args]
    return subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )


def wait_for_plan(runs: Path, proc: subprocess.Popen, timeout_s: float = 120) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        for store in runs.glob("*/results.jsonl"):
            if b'"test_start"' in store.read_bytes():
                return store
        time.sleep(0.01)
    raise RuntimeError("the workload plan never started")


def wait_for_final(run_dir: Path, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not (run_dir / "simlab-final.json").exists():
        time.sleep(0.05)


def signal_path(tmp: Path, station: Path, sig: signal.Signals, delay: float) -> tuple:
    proc = start(tmp, station, workload_s=1e6)
    store = wait_for_plan(tmp / "runs", proc)
    time.sleep(delay)
    before = store.read_bytes()
    proc.send_signal(sig)
    proc.wait(timeout=120)
    wait_for_final(store.parent)
    result = judge(store.parent, proc.returncode, before)
    end = result.run_end or {}
    honest = end.get("verdict") == "INTERRUPTED" and proc.returncode == 128 + int(sig)
    return result, honest


def kill_path(tmp: Path, station: Path, delay: float) -> tuple:
    proc = start(tmp, station, workload_s=1e6)
    store = wait_for_plan(tmp / "runs", proc)
    time.sleep(delay)
    before = store.read_bytes()
    proc.kill()
    proc.wait(timeout=60)
    wait_for_final(store.parent)
    result = judge(store.parent, proc.returncode, before)
    honest = result.run_end is None and proc.returncode == -signal.SIGKILL
    honest = honest and bool(result.final and result.final.get("made_safe_by_simlab"))
    return result, honest


def fault_path(tmp: Path, station: Path, spec: str, at_s: float) -> tuple:
    proc = start(tmp, station, "--sim-defect", f"{spec},at_s={at_s:g}")
    proc.wait(timeout=300)
    (run_dir,) = (tmp / "runs").iterdir()
    wait_for_final(run_dir)
    result = judge(run_dir, proc.returncode)
    end = result.run_end or {}
    honest = end.get("verdict") in ("ERROR", "FAIL") and proc.returncode == 1
    return result, honest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=3, help="moments tried per path")
    args = ap.parse_args()
    delays = [0.05 + 0.4 * i for i in range(args.points)]  # wall seconds into the plan
    at = [3.0 + 30.0 * i / max(args.points - 1, 1) for i in range(args.points)]  # sim s
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        station = fast_station(tmp / "station.yaml")
        n = 0

        def run(path: str, fn, *fargs) -> None:
            nonlocal n
            n += 1
            case = tmp / f"case{n}"
            case.mkdir()
            result, honest = fn(case, station, *fargs)
            c = counts[path]
            c[0] += 1
            c[1] += result.safe
            c[2] += result.intact and not (result.torn and result.run_end)
            c[3] += honest

        for delay in delays:
            run("SIGINT", signal_path, signal.SIGINT, delay)
            run("SIGTERM", signal_path, signal.SIGTERM, delay)
            run("kill -9", kill_path, delay)
        for name, spec in FAULTS.items():
            for at_s in at:
                run(name, fault_path, spec, at_s)
    print(f"exit paths of a run, {args.points} points each ({time.monotonic() - t0:.0f} s):")
    print(f"  {'path':<18} {'tried':>5} {'safe':>5} {'intact':>7} {'honest':>7}")
    total = [0, 0, 0, 0]
    for path, c in counts.items():
        print(f"  {path:<18} {c[0]:>5} {c[1]:>5} {c[2]:>7} {c[3]:>7}")
        total = [a + b for a, b in zip(total, c, strict=True)]
    print(f"  {'all':<18} {total[0]:>5} {total[1]:>5} {total[2]:>7} {total[3]:>7}")
    print(
        "safe: simlab's own final state; intact: the store kept every byte written before "
        "the break; honest: verdict and exit code as the path calls for"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
