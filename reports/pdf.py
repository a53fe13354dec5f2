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
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from reports.html import running_heads
from reports.load import RunData
from reports.model import Report
from reports.parts import (
    FOLDER,
    MIN_FILL,
    Part,
    back_part,
    chapter_groups,
    chapters_from_the_end,
    front_part,
    group_part,
    locked,
    page_fill,
    print_part,
    printed_whole,
    whole_part,
)
from reports.stamp import KEY, join_and_stamp
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
) -> tuple[int, list[str]]:
    """Print `path`; returns its page count and the keys of the parts it is joined from.

    A file at `path` joined from the very same parts under the very same heads (the key
    in its metadata says so) is kept: the live printer joins the report at the end of
    `rig run` while this process writes HTML, JUnit and Allure. `tidy` removes the parts
    once joined; only the report builder does that, never the live printer. With a
    `helper` beside it (the builder's live printer) the chapters are printed from the
    last backwards while the helper walks forwards (`reports.parts.chapters_from_the_end`),
    and a report printed whole is left to a helper finishing the run: it has WeasyPrint
    loaded, this process would load it first.
    """
    parts = print_parts(run, report, run_dir, helper)
    key = joined_key(list(parts), report)
    with locked(path.with_suffix(".lock")):
        pages = joined_pages(path, key)
        if pages is None and printed_whole(report):  # heads and numbers printed in it
            (printed,) = parts.values()
            pages = _copy_with_key(printed, path, key)
        elif pages is None:
            pages = join_and_stamp(list(parts.values()), report, path, run_dir, key)
    if tidy:  # joined: the parts would only duplicate it (a rebuild prints them again)
        shutil.rmtree(run_dir / FOLDER, ignore_errors=True)
        with contextlib.suppress(OSError):
            path.with_suffix(".lock").unlink()
    return pages, [part.key for part in parts]


def _copy_with_key(printed: Path, path: Path, key: str) -> int:
    """The report printed whole, written where the report goes with its key."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=printed)
    writer.add_metadata({KEY: key})
    tmp = path.with_suffix(f".{os.getpid()}.tmp.pdf")
    with tmp.open("wb") as f:
        writer.write(f)
    os.replace(tmp, path)
    return len(writer.pages)


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
    run: RunData, report: Report, run_dir: Path, helper: LivePrinter | None = None
) -> dict[Part, Path]:
    """Every part of the PDF and its file, printed where missing, in reading order: the
    chapters in their groups (`reports.parts.chapter_groups`, each after its plots), the
    front matter before them and the back matter after them. A front matter whose last
    page would stand less than a third full is printed with the first group of chapters,
    and the last group with the back matter if its own last page would."""
    from reports.build import draw_plots

    chapters = report.chapters

    def plots(indexes: list[int]) -> None:
        if chapters:
            draw_plots(run, [p for i in indexes for sec in chapters[i] for p in sec.cases])

    if printed_whole(report):
        plots(list(range(len(chapters))))
        whole = whole_part(report)
        if helper is not None and helper.finishing:
            helper.wait_for(whole.path(run_dir))
        return {whole: print_part(whole, run_dir)}
    front = front_part(report)
    front_path = print_part(front, run_dir)
    if helper is not None:
        chapters_from_the_end(report, run_dir, before_print=plots)
    walked = chapter_groups(report, run_dir, before_print=plots)
    groups = [(indexes, False, False) for indexes, _, _ in walked]
    with_front = page_fill(front_path) < MIN_FILL
    if with_front:
        groups[0] = (groups[0][0], True, False)
    out: dict[Part, Path] = {} if with_front else {front: front_path}
    for n, (indexes, has_front, _) in enumerate(groups):
        part = group_part(report, indexes, front=has_front, back=False)
        path = print_part(part, run_dir)
        if n == len(groups) - 1 and page_fill(path) < MIN_FILL:
            part = group_part(report, indexes, front=has_front, back=True)
            out[part] = print_part(part, run_dir)
            return out
        out[part] = path
    back = back_part(report)
    out[back] = print_part(back, run_dir)
    return out


def print_matter(report: Report, run_dir: Path) -> None:
    """The front and back matter: they wait for the run's end, the chapters do not."""
    if printed_whole(report):
        return  # all of it at once, in print_parts
    print_part(front_part(report), run_dir)
    print_part(back_part(report), run_dir)
