"""A farm of simulated stations on one machine, all uploading to one PostgreSQL database.

Each station is a `rig run` with its own simlab (its own ports, pty and run folder), as
`rig run` always starts one. First one station alone runs the selection `--repeat`
times in a row; then N stations run it at once, `--rounds` times. Printed: runs per hour
alone and with N at once (and their ratio), CPU seconds per run, and the upload time per
run as each run's own console reported it ("database: run ... (M measurements, S s)"),
plus the time to upload one finished run folder again into an empty database by
`rig db upload` (in this process: no interpreter start). PostgreSQL is started here
(`rig.lab.local`), with its default durability (fsync on).

The default selection is the whole default suite without the report (`--no-report`: a
farm's throughput of tests and uploads; the report's own cost is bench/report_cost.py).
`--select EXPR` narrows it (`-k EXPR`) where the full suite is too slow to run N at once.
`--fixed N` measures instead what the default upload (to the SQLite file beside the runs
folder) adds to every run: N one-plan runs with it and N without, interleaved.
No thresholds, no asserts; the machine's load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

UPLOAD = re.compile(
    r"database: run (\S+) (added|replaced|unchanged) \((\d+) measurements, ([\d.]+) s\)"
)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start(runs: Path, db_url: str, select: str | None) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "--no-report"]
    args += ["--db", db_url, "-q"] + (["-k", select] if select else [])
    return subprocess.Popen(
        args, cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, float, int]:
    """Exit code, upload seconds and measurements, from the run's own console."""
    out = proc.communicate()[0]
    found = UPLOAD.search(out.replace("\n", " "))  # the console folds long lines at 80
    if found is None:
        raise SystemExit(f"a run did not report its upload:\n{out[-3000:]}")
    return proc.returncode, float(found[4]), int(found[3])


def fixed_cost(repeat: int) -> None:
    """What the default upload adds to every run: a one-plan run with and without it
    (`--no-db`), interleaved, into one runs folder whose SQLite file exists already."""
    one = "cell_ov_threshold_and_release and cell1]"
    with tempfile.TemporaryDirectory() as tmp:
        base = [sys.executable, "-m", "rig", "run", "--runs-dir", f"{tmp}/runs", "--no-report"]
        base += ["-q", "-k", one]
        subprocess.run(base, cwd=HERE, capture_output=True, check=True)  # makes runs.sqlite
        wall: dict[str, list[float]] = {"with": [], "without": []}
        cpu: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(repeat):
            for kind, extra in (("without", ["--no-db"]), ("with", [])):
                c0, t0 = _cpu(), time.perf_counter()
                subprocess.run(base + extra, cwd=HERE, capture_output=True, check=True)
                wall[kind].append(time.perf_counter() - t0)
                cpu[kind].append(_cpu() - c0)
    w = {k: statistics.median(v) for k, v in wall.items()}
    c = {k: statistics.median(v) for k, v in cpu.items()}
    print(
        f"one-plan run, median of {repeat}: {w['without']:.2f} s without the upload, "
        f"{w['with']:.2f} s with it (+{w['with'] - w['without']:.2f} s, "
        f"ratio {w['with'] / w['without']:.2f}); CPU {c['without']:.2f} s vs {c['with']:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=2, help="N stations at once")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of N runs at once")
    parser.add_argument("--repeat", type=int, default=2, help="runs of one station alone")
    parser.add_argument("--select", default=None, help="-k selection (default: every plan)")
    parser.add_argument(
        "--fixed", type=int, default=0, metavar="N", help="only the upload's cost per run (N runs)"
    )
    args = parser.parse_args()
    if args.fixed:
        fixed_cost(args.fixed)
        print(f"load average (1, 5, 15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        return

    from rig.lab.db import Database, resolve
    from rig.lab.local import LocalPostgres
    from rig.lab.upload import upload

    with LocalPostgres(durable=True) as pg, tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        db_url = pg.url()
        uploads: list[float] = []
        measurements = 0
        codes = []

        cpu0, t0 = _cpu(), time.perf_counter()
        for _ in range(args.repeat):
            code, seconds, measurements = finish(start(runs, db_url, args.select))
            codes.append(code)
            uploads.append(seconds)
        alone_s = (time.perf_counter() - t0) / args.repeat
        alone_cpu = (_cpu() - cpu0) / args.repeat

        cpu0, t0 = _cpu(), time.perf_counter()
        for _ in range(args.rounds):
            procs = [start(runs, db_url, args.select) for _ in range(args.stations)]
            for proc in procs:
                code, seconds, _ = finish(proc)
                codes.append(code)
                uploads.append(seconds)
        farm_runs = args.rounds * args.stations
        farm_s = time.perf_counter() - t0
        farm_cpu = (_cpu() - cpu0) / farm_runs

        run_dir = sorted(d for d in runs.iterdir() if d.is_dir())[-1]
        again = []
        for i in range(3):
            fresh = pg.create_database(f"again_{i}")
            db = Database(resolve(fresh, runs))
            again.append(upload(db, run_dir).seconds)
            db.close()

    per_hour_alone = 3600 / alone_s
    per_hour_farm = 3600 * farm_runs / farm_s
    load = os.getloadavg()
    print(
        f"selection: {args.select or 'the default suite (every plan)'}, no report; "
        f"{measurements} measurements per run; exit codes {sorted(set(codes))}"
    )
    print(
        f"one station alone: {alone_s:.1f} s per run, {per_hour_alone:.0f} runs/h, "
        f"{alone_cpu:.1f} CPU s per run ({args.repeat} runs)"
    )
    print(
        f"{args.stations} stations at once: {farm_s / args.rounds:.1f} s per round, "
        f"{per_hour_farm:.0f} runs/h, {farm_cpu:.1f} CPU s per run ({farm_runs} runs)"
    )
    print(
        f"ratio, {args.stations} at once / one alone: {per_hour_farm / per_hour_alone:.2f} "
        f"(on {os.cpu_count()} cores)"
    )
    print(
        f"upload at the end of a run, as each run reported it: median "
        f"{statistics.median(uploads):.3f} s, max {max(uploads):.3f} s "
        f"({len(uploads)} runs), {statistics.median(uploads) / alone_s:.3f} of a run alone"
    )
    print(
        f"the same run folder into an empty database (rig db upload, in process): "
        f"median {statistics.median(again):.3f} s of 3"
    )
    print(f"load average while measured (1, 5, 15 min): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
