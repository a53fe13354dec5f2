"""The compliance report printed to PDF: its parts (`reports.parts`), joined and stamped
(`reports.stamp`).

Parts the live printer already printed during the run are taken as they are. What is
left is printed by whichever process gets to it first: at the end of `rig run` the live
printer prints the chapters left from the first forwards, then the front and back
matter, while this process writes HTML, JUnit and Allure and then prints from the last
chapter backwards; the two meet in the middle instead of queueing on the same part.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from reports.html import running_heads
from reports.load import RunData
from reports.model import Report
from reports.parts import (
    Part,
    back_part,
    chapter_part,
    clear_unused,
    front_part,
    locked,
    print_part,
)
from reports.stamp import KEY, join_and_stamp
from reports.stamp import VERSION as STAMP_VERSION


def write_pdf(
    run: RunData, report: Report, run_dir: Path, path: Path, *, backwards: bool = True,
    tidy: bool = True,
) -> tuple[int, list[str]]:  # fmt: skip
    """Print `path`; returns its page count and the keys of the parts it is joined from.

    A file at `path` joined from the very same parts under the very same heads (the key
    in its metadata says so) is kept: the live printer joins the report at the end of
    `rig run` while this process writes HTML, JUnit and Allure. `tidy` removes the parts
    no longer used; only the report builder does that, never the live printer.
    """
    parts = print_parts(run, report, run_dir, backwards=backwards)
    key = joined_key(list(parts), report)
    with locked(path.with_suffix(".lock")):
        pages = joined_pages(path, key)
        if pages is None:
            pages = join_and_stamp(list(parts.values()), report, path, run_dir, key)
    if tidy:
        clear_unused(run_dir, list(parts))
        with contextlib.suppress(OSError):
            path.with_suffix(".lock").unlink()
    return pages, [part.key for part in parts]


def joined_key(parts: list[Part], report: Report) -> str:
    digest = hashlib.sha256(STAMP_VERSION.encode())
    digest.update(json.dumps(running_heads(report), sort_keys=True).encode())
    for part in parts:
        digest.update(part.key.encode())
    return digest.hexdigest()[:24]


def joined_pages(path: Path, key: str) -> int | None:
    """The page count of the report at `path` if it was joined under `key`, else None."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        if (reader.metadata or {}).get(KEY) == key:
            return len(reader.pages)
    except (OSError, PyPdfError, ValueError):
        pass
    return None


def print_parts(
    run: RunData, report: Report, run_dir: Path, *, backwards: bool = False
) -> dict[Part, Path]:
    """Every part of the PDF and its file, printed where missing, in reading order. The
    chapters are taken first (each after its plots), from the last if `backwards`, then
    the front and back matter."""
    from reports.build import draw_plots

    chapters = report.chapters or [[]]
    done: dict[int, tuple[Part, Path]] = {}
    order = range(len(chapters))
    for index in reversed(order) if backwards else order:
        sections = chapters[index]
        draw_plots(run, [p for sec in sections for p in sec.cases])
        part = chapter_part(report, index, sections)
        done[index] = part, print_part(part, run_dir)
    front, back = front_part(report), back_part(report)
    return dict(
        [(front, print_part(front, run_dir)), *(done[i] for i in order),
         (back, print_part(back, run_dir))]
    )  # fmt: skip


def print_matter(report: Report, run_dir: Path) -> None:
    """The front and back matter: they wait for the run's end, the chapters do not."""
    print_part(front_part(report), run_dir)
    print_part(back_part(report), run_dir)
