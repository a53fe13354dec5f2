"""`rig report` and the report step at the end of `rig run`: build, then say where it is."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from reports.load import ReportError
from rig.config.errors import ConfigError

if TYPE_CHECKING:
    from reports.build import BuildResult
    from reports.live import LivePrinter

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def report_command(
    console: Console,
    run_dir: Path | None,
    compare: tuple[Path, Path] | None,
    tested_by: str | None = None,
    approved_by: str | None = None,
    pdf: bool = True,
    show_all: bool = False,
    lab: Path | None = None,
) -> int:
    from reports.compare import compare_runs, print_comparison
    from reports.model import Signatures

    try:
        if compare is not None:
            if run_dir is not None:
                console.print(
                    "give either RUN_DIR or --compare RUN_A RUN_B", style="bold red", soft_wrap=True
                )
                return EXIT_USAGE
            return print_comparison(compare_runs(*compare), console, show_all)
        if run_dir is None:
            console.print(
                "rig report RUN_DIR, or rig report --compare RUN_A RUN_B", style="bold red"
            )
            return EXIT_USAGE
        laboratory = None
        if lab is not None:
            from rig.config.lab import load_lab

            section = load_lab(lab).laboratory
            laboratory = None if section is None else {**section.record(), "file": str(lab)}
        result = _build_with_a_helper(
            run_dir, Signatures(tested_by or "", approved_by or ""), pdf=pdf,
            laboratory=laboratory,
        )  # fmt: skip
    except ConfigError as exc:
        console.print(escape(str(exc)), style="bold red", soft_wrap=True)
        return EXIT_USAGE
    except ReportError as exc:
        console.print(escape(str(exc)), style="bold red", soft_wrap=True)
        return EXIT_USAGE
    say_where(console, result)
    console.print(f"reports written in {result.total_s:.1f} s")
    return EXIT_OK


def _build_with_a_helper(
    run_dir: Path, signatures, *, pdf: bool, laboratory: dict | None = None
) -> BuildResult:
    """`build_reports`, with the PDF's chapters printed on two cores: a live printer
    prints them from the first while this process prints ahead of it."""
    from reports.build import build_reports
    from reports.live import LivePrinter

    helper = LivePrinter.start(run_dir) if pdf and (run_dir / "results.jsonl").exists() else None
    if helper is not None:
        helper.print_chapters()
    try:
        return build_reports(run_dir, signatures, pdf=pdf, laboratory=laboratory, helper=helper)
    finally:
        if helper is not None:
            helper.stop(timeout_s=30)


def report_after_run(
    console: Console, run_dir: Path, run_seconds: float, helper: LivePrinter | None = None
) -> bool:
    """The report step of `rig run`; False (and why, on the console) if it could not be
    built. `helper`: the live printer finishing the PDF beside it (`build_reports`)."""
    t0 = time.perf_counter()  # imports included: they are part of what the report costs
    try:
        from reports.build import build_reports

        result = build_reports(run_dir, helper=helper)
    except Exception as exc:  # the run's results are safe in the store: say so, and how to retry
        console.print(
            f"the report could not be built ({type(exc).__name__}: {escape(str(exc))}); the "
            f"results are in {run_dir / 'results.jsonl'}; retry with: rig report {run_dir}",
            style="bold red",
            soft_wrap=True,
        )
        return False
    elapsed = time.perf_counter() - t0
    say_where(console, result)
    share = (
        f", {100 * elapsed / run_seconds:.0f} % of the run's {run_seconds:.1f} s"
        if run_seconds > 0
        else ""
    )
    console.print(f"report generation: {elapsed:.1f} s{share}")
    if result.parts:
        console.print(
            f"  {result.parts_earlier} of {result.parts} PDF parts printed during the run"
        )
    return True


def say_where(console: Console, result: BuildResult) -> None:
    report = result.report
    state = "" if report.complete else " (the run did not reach its end: the report says so)"
    console.print(f"report {report.id}: verdict {report.verdict}{state}")
    if not report.complete:
        console.print(
            f"  it lists the {len(report.measurements)} measurement(s) taken in "
            f"{len(report.ran)} plan(s) before the run stopped"
            + (f"; {len(report.not_run)} selected plan(s) never started" if report.not_run else "")
        )
    for damage in result.run.damage:
        console.print(
            f"  results.jsonl line {damage.line}: {damage.kind}: {escape(damage.excerpt)}",
            style="yellow",
        )
    if result.pdf is not None:
        console.print(f"  {result.pdf}  ({result.pages} pages)")
    console.print(f"  {result.html}")
    if result.junit is not None:
        console.print(f"  {result.junit}")
    if result.allure is not None:
        console.print(f"  {result.allure}/  (allure generate {result.allure})", soft_wrap=True)
