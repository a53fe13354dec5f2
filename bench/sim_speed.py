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

`--base PATH` compares the default suite on two checkouts instead: runs each `--repeat`
times, alternately (a shared machine's load moves), and prints the medians of simlab's
CPU time, the rig's, the session's wall time (`run_start` to `run_end`) and the whole
process's, with the ratio base / this one; simlab and the rig are read apart from the
kernel's accounts of each process (Linux `/proc`), polled while they run. Simulated time
being deterministic, the two must measure the same values: every `measurement` record
but the wall-clock `link_response_time` is compared, and the differences counted; so
are simlab's ground truth at the end (the `sim_truth` record: state and events) and the
state it leaves (`simlab-final.json`).
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

from rig.paths import cache_bytecode

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


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_WALL_CLOCK = {"link_response_time"}  # measured in real time: differs run to run


def _proc_cpu(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process, from `/proc`."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            got = _proc_cpu(int(entry.name))
            if got is not None and got[0] == pid:
                out.append(int(entry.name))
    return out


def suite_run(repo: Path) -> dict:
    """The default suite once, without its report: CPU seconds of simlab and of the rig
    (the last reading of each before it exited), session and whole wall time, and the
    measurement records."""
    env = {**os.environ, "PYTHONPATH": str(repo)}
    cpu: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        t0 = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "-q", "--no-report"],
            cwd=repo,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        simlab: set[int] = set()
        while proc.poll() is None:
            for pid in {proc.pid, *_children(proc.pid)}:
                got = _proc_cpu(pid)
                if got is not None:
                    cpu[pid] = got[1]
                    if pid != proc.pid:
                        simlab.add(pid)
            time.sleep(0.05)  # real time: polling another process
        wall = time.time() - t0
        (run_dir,) = [d for d in runs.iterdir() if d.is_dir()]
        records = _read(run_dir)
        final = (run_dir / "simlab-final.json").read_text()
    by = {r["type"]: r for r in records}
    truth = {k: v for k, v in by["sim_truth"].items() if k != "at"}
    return {
        "final": (truth, final),
        "simlab": sum(cpu[p] for p in simlab),
        "rig": cpu.get(proc.pid, 0.0),
        "session": by["run_end"]["ended"] - by["run_start"]["started"],
        "wall": wall,
        "values": [
            {k: v for k, v in r.items() if k not in ("at", "timestamp")}
            for r in records
            if r["type"] == "measurement" and r["name"] not in _WALL_CLOCK
        ],
    }


def compare_suite(base: Path, repo: Path, repeat: int) -> None:
    """The default suite on `base` and `repo`, alternately; medians and ratios."""
    runs: dict[Path, list[dict]] = {base: [], repo: []}
    for checkout in (base, repo):  # like for like: the bytecode of both cached
        cache_bytecode(checkout)
    for _ in range(repeat):
        for checkout in (base, repo):
            runs[checkout].append(suite_run(checkout))
    keys = ("simlab", "rig", "session", "wall")
    med = {c: {k: statistics.median(r[k] for r in rs) for k in keys} for c, rs in runs.items()}
    load = os.getloadavg()[0]
    print(
        f"default suite without its report, median of {repeat} each, alternately, load {load:.1f}"
    )
    print(f"  base: {base}\n  this: {repo}")
    labels = {
        "simlab": "simlab CPU",
        "rig": "rig CPU",
        "session": "session wall",
        "wall": "whole wall",
    }
    for k in keys:
        b, m = med[base][k], med[repo][k]
        each = " ".join(f"{r[k]:.2f}" for r in runs[repo])
        print(f"  {labels[k]:<13} {b:7.2f} s -> {m:7.2f} s  ratio {b / m:5.2f}  ({each})")
    ref = runs[base][0]["values"]
    differ = sum(
        1
        for r in (*runs[base], *runs[repo])
        for a, b in zip(ref, r["values"], strict=False)
        if a != b
    )
    counts = {len(r["values"]) for r in (*runs[base], *runs[repo])}
    print(f"  measured values: {sorted(counts)} per run, {differ} differing from the base's first")
    ends = sum(1 for r in (*runs[base], *runs[repo]) if r["final"] != runs[base][0]["final"])
    print(f"  simlab's end (sim_truth, simlab-final.json): {ends} runs differing from the base's")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=HERE, help="checkout to measure")
    ap.add_argument("--repeat", type=int, default=5, help="fixed-cost runs (median)")
    ap.add_argument("--no-suite", action="store_true", help="fixed cost only")
    ap.add_argument("--base", type=Path, help="compare the default suite with this checkout")
    args = ap.parse_args()
    if args.base is not None:
        compare_suite(args.base.resolve(), args.repo.resolve(), args.repeat)
        return 0
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
