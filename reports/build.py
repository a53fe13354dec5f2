"""Everything a run folder gets from its results store: the compliance report (HTML and
PDF), the trip plots, JUnit XML and Allure results. `rig run` calls this at its end and
`rig report RUN_DIR` calls it again at any time later; the outputs are rebuilt whole.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reports.allure import write_allure
from reports.engine import release
from reports.html import render_html
from reports.junit import write_junit
from reports.load import RunData, load_run
from reports.model import PlanSection, Report, Signatures, build_report
from reports.parts import printed
from reports.pdf import print_matter, write_pdf
from reports.plot_files import is_fresh, mark_of, plot_key, plot_path, plot_title

if TYPE_CHECKING:
    from reports.live import LivePrinter

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
    parts_earlier: int = 0  # PDF parts ready when the build began (the live printer's)
    parts: int = 0
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
    laboratory: dict | None = None,
    helper: LivePrinter | None = None,
) -> BuildResult:
    """The reports of the run in `run_dir`. `helper`: a live printer (`reports.live`)
    printing the PDF beside this process (`reports.pdf.write_pdf` shares the work); told
    to finish, it prints the front and back matter, the chapters left and joins them,
    for the minute of issue it was given."""
    run_dir = Path(run_dir)
    try:
        return _build(run_dir, signatures, pdf, junit, allure, laboratory, helper)
    finally:
        release()  # WeasyPrint's copies of the fonts: `rig run` leaves by os._exit


def _build(
    run_dir: Path,
    signatures: Signatures | None,
    pdf: bool,
    junit: bool,
    allure: bool,
    laboratory: dict | None,
    helper: LivePrinter | None,
) -> BuildResult:
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    t, c = time.perf_counter(), time.process_time()

    def lap(stage: str) -> None:
        nonlocal t, c
        now, now_cpu = time.perf_counter(), time.process_time()
        seconds[stage], cpu[stage] = now - t, now_cpu - c
        t, c = now, now_cpu

    ready = printed(run_dir)  # by the live printer during the run, or an earlier build
    run = load_run(run_dir)
    # a live printer finishing the run prints the front matter for the minute it was told
    finishing = helper is not None and helper.finishing
    issued = helper.issued if finishing and helper is not None else None
    report = build_report(run, signatures, laboratory, issued)
    lap("load")
    if pdf and not finishing:  # first: the chapters may need to know the front's length
        print_matter(report, run_dir)
        lap("front and back matter")
    # A live printer finishing the run shares the chapters left with a copy of itself
    # (WeasyPrint warm in both) while it prints the front and back matter; this process
    # writes HTML, JUnit and Allure meanwhile, and prints only what is still left then.
    # plots from the last backwards: a live printer finishing the run draws forwards
    ordered = report.run_order or report.plans
    plots = list(reversed(draw_plots(run, list(reversed(ordered)))))
    lap("plots")
    html = render_html(report, run_dir)
    html_path = run_dir / HTML
    _write_text(html_path, html)
    lap("html")
    result = BuildResult(run, report, html_path, None, None, None, plots, seconds=seconds,
                         cpu_seconds=cpu)  # fmt: skip
    if junit:
        result.junit = write_junit(run, report, run_dir / JUNIT)
        lap("junit")
    if allure:
        result.allure = write_allure(run, report, run_dir / ALLURE)
        lap("allure")
    if pdf:  # last: meanwhile a live printer prints what is left and joins it
        result.pdf = run_dir / PDF
        result.pages, keys = write_pdf(run, report, run_dir, result.pdf, helper=helper)
        result.parts, result.parts_earlier = len(keys), len(ready.intersection(keys))
        lap("pdf")
    return result


def chapter_plots(run: RunData, report: Report) -> Callable[[list[int]], object]:
    """`draw(indexes)`: the plots of the chapters at `indexes`, drawn or found drawn: what
    a part's HTML names must exist before it is printed (`reports.parts.segments`)."""
    chapters = report.chapters

    def draw(indexes: list[int]) -> object:
        if not chapters:
            return []
        return draw_plots(run, [p for i in indexes for sec in chapters[i] for p in sec.cases])

    return draw


def draw_plots(run: RunData, plans: Iterable[PlanSection]) -> list[Path]:
    """One image per measurement that names a waveform; a bad file is said, not hidden.

    An image already drawn from the same waveform and title (by the live printer during
    the run, or by an earlier build) is kept as it is.
    """
    drawn: list[Path] = []
    for plan in plans:
        for m in plan.measurements:
            if not m.waveform:
                continue
            image = plot_path(m.waveform)
            title = plot_title(plan.title, m.name)
            try:
                data, waveform = run.waveform_file(m.waveform)
                mark = mark_of(m.record)
                key = plot_key(title, data, mark)
                if not is_fresh(run.run_dir / image, key):
                    shared_plotter().draw(waveform, run.run_dir / image, title, key,
                                          plot_mark(mark))  # fmt: skip
            except ValueError as exc:
                m.plot_error = f"waveform could not be drawn: {exc}"
                continue
            m.plot = image
            drawn.append(run.run_dir / image)
    return drawn


def plot_mark(mark: tuple | None):
    if mark is None:
        return None
    from reports.plots import Mark

    return Mark(*mark)


_PLOTTER: list = []


def shared_plotter():
    """One plotter for the process: it keeps its fonts loaded between plots."""
    if not _PLOTTER:
        from reports.plots import Plotter  # only if a plot is to be drawn

        _PLOTTER.append(Plotter())
    return _PLOTTER[0]


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
