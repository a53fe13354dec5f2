"""What the report costs next to the run it reports, measured in one run.

Runs the default suite with `rig run` as a user would (the report at its end, trip plots
drawn during the run by the live plotter) and reads the figure `rig run` prints. Then
rebuilds the reports from the run's store in this process, once as `rig report` does
with the plots already drawn and once drawing every plot anew, and prints the time of
each stage (wall and this process's CPU) next to the run's. Ratios, no thresholds.

    .venv/bin/python bench/report_cost.py [extra rig run arguments]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reports.build import build_reports  # noqa: E402


def _stages(result) -> str:
    return ", ".join(
        f"{stage} {result.seconds[stage]:.2f}/{result.cpu_seconds[stage]:.2f}"
        for stage in result.seconds
    )


def main(extra: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), *extra],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        process_wall = time.perf_counter() - t0
        (run_dir,) = runs.iterdir()
        said = re.search(
            r"report generation: ([\d.]+) s, (\d+) % of the run's ([\d.]+) s", proc.stdout
        )
        if said is None:
            print(proc.stdout[-2000:] + proc.stderr[-2000:])
            return 1
        report_s, run_s = float(said[1]), float(said[3])
        warm = build_reports(run_dir)
        shutil.rmtree(run_dir / "plots", ignore_errors=True)
        cold = build_reports(run_dir)
        report = warm.report
    print(
        f"default suite: {len(report.plans)} plans, {len(report.measurements)} measurements, "
        f"{len(warm.plots)} trip plots; report {warm.pages} pages; verdict {report.verdict}"
    )
    print(f"rig run: {process_wall:.1f} s wall in all; the test session {run_s:.1f} s")
    print(
        f"report at the end of rig run (plots drawn during the run): {report_s:.1f} s, "
        f"{report_s / run_s:.2f} of the session"
    )
    print(
        f"rebuilt, plots already drawn: {warm.total_s:.1f} s wall "
        f"({warm.total_s / run_s:.2f} of the session), "
        f"{sum(warm.cpu_seconds.values()):.1f} s CPU"
    )
    print(
        f"rebuilt, every plot drawn anew: {cold.total_s:.1f} s wall "
        f"({cold.total_s / run_s:.2f} of the session); plots "
        f"{cold.cpu_seconds['plots'] / max(1, len(cold.plots)) * 1000:.0f} ms CPU each"
    )
    print(f"stages, wall/CPU s: warm: {_stages(warm)}")
    print(f"                    cold: {_stages(cold)}")
    print(f"PDF: {warm.cpu_seconds['pdf'] / max(1, warm.pages) * 1000:.0f} ms CPU per page")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
