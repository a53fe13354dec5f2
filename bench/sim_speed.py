"""A run's fixed cost, and simulated seconds per wall second for the default suite.

Runs `rig run` exactly as a user would, then reads the run's own results store.

Fixed cost: a run of one plan that records one value and moves no simulated time, so
everything it costs is what every run pays. Split by the records' timestamps into:
start (interpreter, imports, pytest, simlab started, plans collected: process start to
`run_start`), open (instruments and DUT opened and checked, the bench made safe: to the
`dut` record), stop (safe state, ground truth, everything closed, simlab stopped: last
plan result to `run_end`) and summary (`run_end` to the process's exit), without the
report; the median of `--repeat` runs is printed, beside the ratio of each part to the
whole. Then what the report (HTML, PDF, JUnit, Allure) adds to the same run.

Throughput: the default suite once; simulated time from simlab's final clock (the
`sim_truth` record) over wall time. No thresholds, no asserts.

`--repo PATH` measures another checkout of bms-rig with this interpreter (e.g. an older
commit in a scratch worktree), for a before/after taken the same way.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

last_cpu = 0.0
TRIVIAL_PLAN = '''
def test_fixed_cost(station, record):
    """One value, no simulated time: what every run pays."""
    record("nothing", 1.0, "V", low=0.0, high=2.0)
'''


def _at(record: dict) -> float:
    return datetime.fromisoformat(record["at"]).timestamp()


def _read(run_dir: Path) -> list[dict]:
    import json

    lines = (run_dir / "results.jsonl").read_text().splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rig_run(repo: Path, runs: Path, *args: str) -> tuple[float, float, float, list[dict], int]:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    global last_cpu
    cpu0 = _cpu()
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "-q", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    t1 = time.time()
    last_cpu = _cpu() - cpu0  # the rig and its simlab (a waited-for child)
    (run_dir,) = [d for d in runs.iterdir() if d.is_dir()]
    records = _read(run_dir)
    for d in runs.iterdir():
        subprocess.run(["rm", "-rf", str(d)], check=True)
    return t0, t1, t1 - t0, records, proc.returncode


def fixed_cost(repo: Path, repeat: int, *extra: str) -> dict[str, float]:
    keys = ("start", "open", "stop", "summary", "total", "cpu")
    parts: dict[str, list[float]] = {k: [] for k in keys}
    with tempfile.TemporaryDirectory() as tmp:
        plans = Path(tmp) / "plans"
        plans.mkdir()
        (plans / "test_fixed_cost.py").write_text(TRIVIAL_PLAN)
        for _ in range(repeat):
            t0, t1, total, records, _code = rig_run(
                repo, Path(tmp) / "runs", "--plans", str(plans), *extra
            )
            by = {r["type"]: r for r in records}
            result = [r for r in records if r["type"] == "test_result"][-1]
            parts["start"].append(_at(by["run_start"]) - t0)
            parts["open"].append(_at(by["dut"]) - _at(by["run_start"]))
            parts["stop"].append(by["run_end"]["ended"] - _at(result))
            parts["summary"].append(t1 - by["run_end"]["ended"])
            parts["total"].append(total)
            parts["cpu"].append(last_cpu)
    out = {k: statistics.median(v) for k, v in parts.items()}
    out["total_min"] = min(parts["total"])
    return out


def throughput(repo: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _t0, _t1, total, records, code = rig_run(repo, Path(tmp) / "runs")
    by = {r["type"]: r for r in records}
    sim_s = by["sim_truth"]["truth"]["t"]
    session = by["run_end"]["ended"] - by["run_start"]["started"]
    n = sum(1 for r in records if r["type"] == "measurement")
    print(f"default suite: {n} measurements, exit code {code}")
    print(f"  simulated time            {sim_s:10.1f} s")
    print(f"  wall time, test session   {session:10.2f} s")
    print(f"  wall time, whole process  {total:10.2f} s (interpreter, simlab, summary)")
    print(f"  simulated s per wall s    {sim_s / session:10.1f}  (session)")
    print(f"  simulated s per wall s    {sim_s / total:10.1f}  (whole process)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=HERE, help="checkout to measure")
    ap.add_argument("--repeat", type=int, default=5, help="fixed-cost runs (median)")
    ap.add_argument("--no-suite", action="store_true", help="fixed cost only")
    args = ap.parse_args()
    cost = fixed_cost(args.repo.resolve(), args.repeat, "--no-report")
    load = os.getloadavg()[0]
    print(f"fixed cost of a run ({args.repo}), median of {args.repeat}, load {load:.1f}:")
    for part in ("start", "open", "stop", "summary", "total"):
        share = cost[part] / cost["total"]
        print(f"  {part:<8} {cost[part]:6.2f} s  {share:6.1%}")
    print(f"  fastest  {cost['total_min']:6.2f} s")
    print(f"  CPU      {cost['cpu']:6.2f} s  (rig + simlab, user + system; load-independent)")
    # the report (HTML, PDF, JUnit, Allure) is the run's document, not its fixed cost:
    # what it adds to the same one-plan run, measured the same way
    with_report = fixed_cost(args.repo.resolve(), args.repeat)
    added = with_report["total"] - cost["total"]
    print(f"  + report {added:6.2f} s  (the run with its report: {with_report['total']:.2f} s)")
    if not args.no_suite:
        throughput(args.repo.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
