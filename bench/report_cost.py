"""What the report costs next to the run it reports, measured in one go.

Runs the default suite with `rig run` as a user would, alternately with the report (the
live printer drawing plots and printing chapters during the run, the rest at its end)
and with `--no-report`, and reads the figures `rig run` prints. Then rebuilds the
reports from the last run's store in this process: once from nothing (no plot: what
`rig report` does for a folder copied without them) and once with the plots drawn (the
PDF's parts go once joined, so a rebuild prints every part). Ratios and medians, no
thresholds.

With `--base PATH` (another checkout of bms-rig, e.g. main unpacked with `git archive`),
the last run's store is also rebuilt from nothing by each checkout in turn, alternated, in
fresh processes: CPU seconds of the whole rebuild and of its PDF (printing the parts,
joining, stamping), the ratio this/base, and each part's layout and writing time. With
`--run-dir DIR` no `rig run` is made: only those rebuilds, of that run folder's store.

    .venv/bin/python bench/report_cost.py [--runs N] [--base PATH [--run-dir DIR]]
        [extra rig run arguments]
"""

from __future__ import annotations

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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reports.build import build_reports  # noqa: E402
from reports.parts import FOLDER  # noqa: E402

SAID = re.compile(
    r"report generation: ([\d.]+) s, (\d+) % of the run's ([\d.]+) s"
    r"(?:\s+(\d+) of (\d+) PDF parts printed during the run)?"
)


def _run(runs: Path, extra: list[str], report: bool) -> tuple[float, dict[str, float]]:
    args = [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), *extra]
    if not report:
        args.append("--no-report")
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    (run_dir,) = runs.iterdir()
    records = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    start = next(r for r in records if r.get("type") == "run_start")
    end = next(r for r in records if r.get("type") == "run_end")
    figures = {"store": float(end["ended"]) - float(start["started"])}  # first to last record
    said = SAID.search(proc.stdout)
    if report:
        if said is None:
            raise SystemExit(proc.stdout[-2000:] + proc.stderr[-2000:])
        figures |= {"report": float(said[1]), "session": float(said[3])}
        if said[4]:
            figures["parts early"], figures["parts"] = float(said[4]), float(said[5])
    return wall, figures


# Run in a fresh interpreter with a checkout's tree first on the path: the store copied
# without anything built from it, rebuilt, each part laid out and written timed.
REBUILD = """
import json, shutil, sys, time
from pathlib import Path
src, dest = Path(sys.argv[1]), Path(sys.argv[2])
shutil.copytree(src, dest, ignore=shutil.ignore_patterns(
    "report-parts", "report.*", "plots", "allure-results", "junit.xml"))
import reports.engine as engine
import reports.parts as parts
laid = []
def timed(html, base_url, _lay_out=engine.lay_out):
    t = time.process_time()
    document = _lay_out(html, base_url)
    write = document.write_pdf
    def write_pdf(target=None, **kw):
        w = time.process_time(); out = write(target, **kw)
        laid.append((len(document.pages), w - t, time.process_time() - w))
        return out
    document.write_pdf = write_pdf
    return document
parts.lay_out = timed
from reports.build import build_reports
t, c = time.perf_counter(), time.process_time()
r = build_reports(dest)
print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c,
    "pdf": sum(r.cpu_seconds[k] for k in r.cpu_seconds if k in ("front and back matter", "pdf")),
    "pages": r.pages, "parts": laid}))
"""


def _rebuild(tree: Path, store: Path, dest: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run(
        [sys.executable, "-c", REBUILD, str(store), str(dest)],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode:
        raise SystemExit(f"rebuild with {tree} failed:\n{proc.stderr[-3000:]}")
    shutil.rmtree(dest, ignore_errors=True)
    return json.loads(proc.stdout.splitlines()[-1])


def against_base(base: Path, store: Path, n: int, tmp: Path) -> None:
    """The store rebuilt by `base` and by this checkout, alternated, `n` times each."""
    trees = {"base": base.resolve(), "this": REPO}
    got: dict[str, list[dict]] = {name: [] for name in trees}
    for i in range(n):
        for name, tree in trees.items():
            got[name].append(_rebuild(tree, store, tmp / f"rebuild-{name}-{i}"))
    med = statistics.median
    print(f"rebuilt from the store by each checkout, {n} times each, alternated:")
    for key, label in (("cpu", "CPU, whole rebuild"), ("pdf", "CPU, its PDF"),
                       ("wall", "wall, whole rebuild")):  # fmt: skip
        b, t = (med(r[key] for r in got[name]) for name in trees)
        print(f"  {label}: base {b:.2f} s, this {t:.2f} s = {t / b:.2f}")
    pages = {name: sorted({r["pages"] for r in got[name]}) for name in trees}
    print(f"  pages: base {pages['base']}, this {pages['this']}")
    print("  parts, pages: base layout + write / this layout + write, CPU s (medians):")
    for k, (b, t) in enumerate(zip(*(_parts(got[name]) for name in trees), strict=False)):
        times = f"{b[1]:.3f} + {b[2]:.3f} / {t[1]:.3f} + {t[2]:.3f}"
        print(f"    part {k + 1:2d}, {b[0]:3d} p: {times}")
    b, t = (_parts(got[name]) for name in trees)
    print(
        f"    all parts: {sum(p[1] for p in b):.2f} + {sum(p[2] for p in b):.2f} / "
        f"{sum(p[1] for p in t):.2f} + {sum(p[2] for p in t):.2f}"
    )


def _parts(rebuilds: list[dict]) -> list[tuple[int, float, float]]:
    """Each part's pages and median layout and write CPU seconds over the rebuilds."""
    med = statistics.median
    return [
        (runs[0][0], med(r[1] for r in runs), med(r[2] for r in runs))
        for runs in zip(*(r["parts"] for r in rebuilds), strict=False)
    ]


def main(argv: list[str]) -> int:
    runs_n = 3
    base: Path | None = None
    store: Path | None = None
    while argv[:1] and argv[0] in ("--runs", "--base", "--run-dir"):
        option, value, argv = argv[0], argv[1], argv[2:]
        if option == "--runs":
            runs_n = int(value)
        elif option == "--base":
            base = Path(value)
        else:
            store = Path(value)
    if store is not None:
        if base is None:
            raise SystemExit("--run-dir goes with --base: it only rebuilds")
        with tempfile.TemporaryDirectory() as tmp:
            against_base(base, store, runs_n, Path(tmp))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        walls: dict[bool, list[float]] = {True: [], False: []}
        said: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        for i in range(runs_n):
            for report in (True, False):
                runs = Path(tmp) / f"runs-{i}-{int(report)}"
                wall, figures = _run(runs, argv, report)
                walls[report].append(wall)
                said[report].append(figures)
        (run_dir,) = (Path(tmp) / f"runs-{runs_n - 1}-1").iterdir()
        if base is not None:
            against_base(base, run_dir, runs_n, Path(tmp))
        warm = build_reports(run_dir)
        shutil.rmtree(run_dir / "plots", ignore_errors=True)
        shutil.rmtree(run_dir / FOLDER, ignore_errors=True)
        cold = build_reports(run_dir)
    med = statistics.median
    report_s = med(f["report"] for f in said[True])
    session_with = med(f["session"] for f in said[True])
    report = cold.report
    print(
        f"default suite: {len(report.plans)} plans, {len(report.measurements)} measurements, "
        f"{len(cold.plots)} trip plots; report {cold.pages} pages in {cold.parts} parts; "
        f"verdict {report.verdict}; medians of {runs_n} runs each way"
    )
    print(
        f"report generation at the end of rig run: {report_s:.2f} s, "
        f"{report_s / session_with:.2f} of the test session ({session_with:.1f} s); runs: "
        + ", ".join(f"{f['report']:.1f}/{f['session']:.1f}" for f in said[True])
    )
    if all("parts" in f for f in said[True]):
        print(
            "PDF parts printed during the run: "
            + ", ".join(f"{f['parts early']:.0f} of {f['parts']:.0f}" for f in said[True])
        )
    store_with, store_without = (med(f["store"] for f in said[r]) for r in (True, False))
    print(
        f"run_start to run_end in the store, with the live printer / without any report: "
        f"{store_with:.2f} / {store_without:.2f} s = {store_with / store_without:.2f}"
    )
    print(
        f"whole rig run, with the report / without: {med(walls[True]):.1f} / "
        f"{med(walls[False]):.1f} s = {med(walls[True]) / med(walls[False]):.2f}: the report "
        f"adds {med(walls[True]) - med(walls[False]):.1f} s; runs with: "
        + ", ".join(f"{w:.1f}" for w in walls[True])
        + "; without: "
        + ", ".join(f"{w:.1f}" for w in walls[False])
    )
    print(
        f"rebuilt from the store alone (rig report), nothing printed before: {cold.total_s:.1f} s "
        f"({cold.total_s / session_with:.2f} of the session); plots "
        f"{cold.cpu_seconds['plots'] / max(1, len(cold.plots)) * 1000:.1f} ms CPU each, PDF "
        f"{cold.cpu_seconds['pdf'] / max(1, cold.pages) * 1000:.0f} ms CPU per page"
    )
    print(
        f"rebuilt with the plots drawn: {warm.total_s:.2f} s "
        f"({warm.total_s / session_with:.2f} of the session)"
    )
    print("stages, wall/CPU s:")
    for name, result in (("nothing drawn", cold), ("plots drawn", warm)):
        stages = ", ".join(
            f"{stage} {result.seconds[stage]:.2f}/{result.cpu_seconds[stage]:.2f}"
            for stage in result.seconds
        )
        print(f"  {name}: {stages}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
