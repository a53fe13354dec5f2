"""How long `rig run` takes with its report, next to the same run without one, in one go.

Two runs as a user types them, each with the report (PDF, HTML, JUnit, Allure) and with
`--no-report`, alternated so a change in the machine's load falls on both: a one-plan
run (`rig run -k ...`, cell 1's over-voltage trip delay: three measurements) and the
default run (every plan). Printed: wall seconds of the whole process (interpreter start
to exit, as `time` says), median of the runs, and the ratio with/without report; with
`--base PATH`, the same for another checkout of bms-rig (e.g. the commit before a
change, unpacked with `git archive`), measured in the same loop. The machine's load is
printed beside them: the figures are this machine's, now. No thresholds, no asserts.

    .venv/bin/python bench/run_speed.py [--runs N] [--default-runs M] [--base PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rig.paths import cache_bytecode

HERE = Path(__file__).resolve().parent.parent
ONE_PLAN = [
    "-k",
    "test_cell_ov_trip_delay and cell1 and not (cell10 or cell11 or cell12 or cell13 or "
    "cell14 or cell15 or cell16)",
]


SAID = re.compile(r"report generation: ([\d.]+) s")


def rig_run(repo: Path, runs: Path, report: bool, args: list[str]) -> tuple[float, float, float]:
    """Wall seconds of one `rig run` in `repo` (it must end PASS, exit 0), the session's
    (the store's run_start to run_end) and the report step's (as `rig run` says it)."""
    cmd = [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "--no-db", *args]
    if not report:
        cmd.append("--no-report")
    env = {**os.environ, "PYTHONPATH": str(repo)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{repo}: rig run {' '.join(args)} exit {proc.returncode}\n"
                         + proc.stdout[-3000:] + proc.stderr[-3000:])  # fmt: skip
    if report and not list(runs.glob("*/report.pdf")):
        raise SystemExit(f"{repo}: no report.pdf written\n{proc.stdout[-3000:]}")
    (store,) = runs.glob("*/results.jsonl")
    records = [json.loads(line) for line in store.read_text().splitlines() if line.strip()]
    start = next(r for r in records if r.get("type") == "run_start")["started"]
    end = next(r for r in records if r.get("type") == "run_end")["ended"]
    said = SAID.search(proc.stdout)
    shutil.rmtree(runs)
    return wall, float(end) - float(start), float(said[1]) if said else 0.0


def measure(repos: dict[str, Path], args: list[str], n: int) -> dict[tuple[str, bool], list]:
    walls: dict[tuple[str, bool], list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            for name, repo in repos.items():
                for report in (True, False):
                    runs = Path(tmp) / f"runs-{name}-{i}-{int(report)}"
                    walls.setdefault((name, report), []).append(rig_run(repo, runs, report, args))
    return walls


def say(title: str, repos: dict[str, Path], runs: dict[tuple[str, bool], list]) -> None:
    med = statistics.median
    walls = {k: [w for w, _, _ in v] for k, v in runs.items()}
    print(title)
    for name in repos:
        with_r, without = walls[(name, True)], walls[(name, False)]
        print(
            f"  {name:<8} with report {med(with_r):6.2f} s, without {med(without):6.2f} s, "
            f"ratio {med(with_r) / med(without):.2f} (report adds "
            f"{med(with_r) - med(without):.2f} s); runs with: "
            + ", ".join(f"{w:.2f}" for w in with_r)
            + "; without: "
            + ", ".join(f"{w:.2f}" for w in without)
        )
        session_with = med(s for _, s, _ in runs[(name, True)])
        session_without = med(s for _, s, _ in runs[(name, False)])
        print(
            f"  {'':<8} session (run_start to run_end) with / without report: "
            f"{session_with:.2f} / {session_without:.2f} s; report step at the end "
            f"{med(r for _, _, r in runs[(name, True)]):.2f} s"
        )
    if len(repos) == 2:
        (a, b) = repos
        for report in (True, False):
            print(
                f"  {b} / {a}, {'with' if report else 'without'} report: "
                f"{med(walls[(b, report)]) / med(walls[(a, report)]):.2f}"
            )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="one-plan runs each way (median)")
    ap.add_argument("--default-runs", type=int, default=1, help="default runs each way")
    ap.add_argument("--base", type=Path, help="another checkout, measured the same way")
    args = ap.parse_args(argv)
    repos = {"this": HERE}
    if args.base is not None:
        repos = {"base": args.base.resolve(), "this": HERE}
    for repo in repos.values():  # like for like: every tree with its bytecode cached
        cache_bytecode(repo)
    load = os.getloadavg()
    one = measure(repos, ONE_PLAN, args.runs)
    say(f"one plan (rig run {' '.join(ONE_PLAN[:1])} '...'), median of {args.runs}:", repos, one)
    if args.default_runs:
        full = measure(repos, [], args.default_runs)
        say(f"default run (every plan), median of {args.default_runs}:", repos, full)
    print(f"load average before / after: {load[0]:.1f} / {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
