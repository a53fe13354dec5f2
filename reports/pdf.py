"""The compliance report printed to PDF: its parts (`reports.parts`), joined and stamped
(`reports.stamp`).

Parts the live printer already printed during the run are taken as they are. What is
left is printed by whichever process gets to it first: at the end of `rig run` the live
printer prints the front and back matter (for the minute of issue this process states
too) and shares the chapters left with a fork of itself, each printing ahead of the part
the other holds (`reports.parts.segments` with `ahead`) instead of queueing on it, and
joins the report; meanwhile this process writes HTML, JUnit and Allure, then finds the
report joined from the very same parts (it prints only what the live printer left).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from reports.html import running_heads
from reports.load import RunData
from reports.model import Report
from reports.parts import (
    FOLDER,
    MIN_FILL,
    Part,
    Segment,
    back_part,
    front_part,
    locked,
    page_fill,
    print_part,
    printed_whole,
    segments,
    whole_part,
)
from reports.stamp import KEY, join_and_stamp, plain_bookmarks
from reports.stamp import VERSION as STAMP_VERSION

if TYPE_CHECKING:
    from reports.live import LivePrinter


def write_pdf(
    run: RunData,
    report: Report,
    run_dir: Path,
    path: Path,
    *,
    tidy: bool = True,
    helper: LivePrinter | None = None,
    parts_ready: Callable[[], None] | None = None,
) -> tuple[int, list[str]]:
    """Print `path`; returns its page count and the keys of the parts it is joined from.

    A file at `path` joined from the very same parts under the very same heads (the key
    in its metadata says so) is kept: the live printer joins the report at the end of
    `rig run` while this process writes HTML, JUnit and Allure. `tidy` removes the parts
    once joined; only the report builder does that, never the live printer. With a
    `helper` beside it (the builder's live printer), a report printed whole is left to a
    helper finishing the run: it has WeasyPrint loaded, this process would load it
    first; a larger one it waits for while the helper and its fork print and join it.
    `parts_ready` is called once every part the report joins is printed, before the
    joining.
    """
    if helper is not None and helper.finishing and not printed_whole(report):
        # two warm processes print what is left and join it; this one would load
        # WeasyPrint first and take parts from them: it prints only what they did not
        helper.wait_for(path, timeout_s=300.0)
    parts = print_parts(run, report, run_dir, helper)
    if parts_ready is not None:  # every part joined is printed: nothing else is needed
        parts_ready()
    key = joined_key(parts, report)
    with locked(path.with_suffix(".lock")):
        pages = joined_pages(path, key)
        if pages is None and printed_whole(report):  # heads and numbers printed in it
            (whole,) = parts
            pages = _copy_with_key(whole.path, path, key)
        elif pages is None:
            taken = [(s.path, s.pages) for s in parts]
            pages = join_and_stamp(taken, report, path, run_dir, key)
    if tidy:  # joined: the parts would only duplicate it (a rebuild prints them again)
        shutil.rmtree(run_dir / FOLDER, ignore_errors=True)
        with contextlib.suppress(OSError):
            path.with_suffix(".lock").unlink()
    return pages, [s.part.key for s in parts]


def _copy_with_key(printed: Path, path: Path, key: str) -> int:
    """The report printed whole, written where the report goes with its key."""
    import pikepdf

    tmp = path.with_suffix(f".{os.getpid()}.tmp.pdf")
    with pikepdf.open(printed) as pdf:
        with pdf.open_outline() as outline:
            plain_bookmarks(outline.root)
        pdf.docinfo[KEY] = key
        pdf.save(tmp, deterministic_id=True)  # the same part, the same bytes
        pages = len(pdf.pages)
    os.replace(tmp, path)
    return pages


def joined_key(parts: list[Segment], report: Report) -> str:
    digest = hashlib.sha256(STAMP_VERSION.encode())
    digest.update(json.dumps(running_heads(report), sort_keys=True).encode())
    for segment in parts:
        digest.update(f"{segment.part.key}:{segment.pages}".encode())
    return digest.hexdigest()[:24]


def joined_pages(path: Path, key: str) -> int | None:
    """The page count of the report at `path` if it was joined under `key`, else None."""
    import pikepdf

    try:  # a damaged file is joined again, not repaired
        with pikepdf.open(path, attempt_recovery=False) as pdf:
            info = pdf.trailer.get("/Info")
            if info is not None and str(info.get(KEY, "")) == key:
                return len(pdf.pages)
    except (OSError, pikepdf.PdfError, ValueError):
        pass
    return None


def print_parts(
    run: RunData, report: Report, run_dir: Path, helper: LivePrinter | None = None
) -> list[Segment]:
    """Every part of the PDF and its file, printed where missing, in reading order, with
    how many of its pages the report takes: the front matter, the chapters in their parts
    (`reports.parts.segments`, each chapter after its plots) and the back matter, which
    ends the last of them or stands alone. A front matter whose last page would stand
    less than a third full is printed with the first chapter."""
    from reports.build import chapter_plots

    plots = chapter_plots(run, report)
    if printed_whole(report):
        everything = list(range(len(report.chapters)))
        plots(everything)
        whole = whole_part(report)
        if helper is not None and helper.finishing:
            helper.wait_for(whole.path(run_dir))
        return [Segment(whole, print_part(whole, run_dir), everything)]
    front, front_path, with_front = _front(report, run_dir)
    walked = segments(report, run_dir, before_print=plots, front=with_front, back=True)
    return walked if with_front else [Segment(front, front_path, []), *walked]


def _front(report: Report, run_dir: Path) -> tuple[Part, Path, bool]:
    """The front matter printed, and whether it goes with the first chapter (its last
    page would stand less than a third full)."""
    front = front_part(report)
    path = print_part(front, run_dir)
    return front, path, page_fill(path) < MIN_FILL


def print_matter(report: Report, run_dir: Path) -> None:
    """The front and back matter: they wait for the run's end, the chapters do not."""
    if printed_whole(report):
        return  # all of it at once, in print_parts
    print_part(front_part(report), run_dir)
    print_part(back_part(report), run_dir)


def print_ahead(run: RunData, report: Report, run_dir: Path) -> None:
    """Beside a live printer walking through the chapters left: the parts after the one
    it holds, guessing that one's last page stands full enough (`reports.parts.segments`
    with `ahead`). What it printed on a wrong guess is not joined."""
    from reports.build import chapter_plots

    if printed_whole(report):
        return
    front = front_part(report).path(run_dir)
    # the live printer prints the front matter first: guess it stands alone (4 pages of
    # tables, it does) rather than wait for it; a wrong guess costs parts not joined
    with_front = front.exists() and page_fill(front) < MIN_FILL
    plots = chapter_plots(run, report)
    segments(report, run_dir, before_print=plots, front=with_front, back=True, ahead=True)
