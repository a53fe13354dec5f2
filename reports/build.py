"""Everything a run folder gets from its results store: the compliance report (HTML and
PDF), the trip plots, JUnit XML and Allure results. `rig run` calls this at its end and
`rig report RUN_DIR` calls it again at any time later; the outputs are rebuilt whole.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from reports.allure import write_allure
from reports.html import render_html
from reports.junit import write_junit
from reports.load import RunData, load_run
from reports.model import Report, Signatures, build_report
from reports.pdf import write_pdf
from reports.plot_files import is_fresh, plot_key, plot_path, plot_title

HTML = "report.html"
PDF = "report.pdf"
JUNIT = "junit.xml"
ALLURE = "allure-results"


@dataclass
class BuildResult:
    run: RunData
    report: Report
    html: Path
    pdf: Path | None
    junit: Path | None
    allure: Path | None
    plots: list[Path] = field(default_factory=list)
    pages: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # this process's CPU per stage

    @property
    def total_s(self) -> float:
        return sum(self.seconds.values())


def build_reports(
    run_dir: Path,
    signatures: Signatures | None = None,
    *,
    pdf: bool = True,
    junit: bool = True,
    allure: bool = True,
) -> BuildResult:
    run_dir = Path(run_dir)
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    t, c = time.perf_counter(), time.process_time()

    def lap(stage: str) -> None:
        nonlocal t, c
        now, now_cpu = time.perf_counter(), time.process_time()
        seconds[stage], cpu[stage] = now - t, now_cpu - c
        t, c = now, now_cpu

    run = load_run(run_dir)
    report = build_report(run, signatures)
    lap("load")
    plots = draw_plots(run, report)
    lap("plots")
    html = render_html(report)
    html_path = run_dir / HTML
    _write_text(html_path, html)
    lap("html")
    result = BuildResult(
        run, report, html_path, None, None, None, plots, seconds=seconds, cpu_seconds=cpu
    )
    if pdf:
        result.pdf = run_dir / PDF
        result.pages = write_pdf(html, run_dir, result.pdf)
        lap("pdf")
    if junit:
        result.junit = write_junit(run, report, run_dir / JUNIT)
        lap("junit")
    if allure:
        result.allure = write_allure(run, report, run_dir / ALLURE)
        lap("allure")
    return result


def draw_plots(run: RunData, report: Report) -> list[Path]:
    """One image per measurement that names a waveform; a bad file is said, not hidden.

    An image already drawn from the same waveform and title (by the live plotter during
    the run, or by an earlier build) is kept as it is.
    """
    drawn: list[Path] = []
    plotter = None
    for plan in report.plans:
        for m in plan.measurements:
            if not m.waveform:
                continue
            image = plot_path(m.waveform)
            title = plot_title(plan.title, m.name)
            try:
                data, waveform = run.waveform_file(m.waveform)
                key = plot_key(title, data)
                if not is_fresh(run.run_dir / image, key):
                    if plotter is None:
                        from reports.plots import Plotter  # matplotlib: ~0.3 s, only if needed

                        plotter = Plotter()
                    plotter.draw(waveform, run.run_dir / image, title, key)
            except ValueError as exc:
                m.plot_error = f"waveform could not be drawn: {exc}"
                continue
            m.plot = image
            drawn.append(run.run_dir / image)
    return drawn


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
