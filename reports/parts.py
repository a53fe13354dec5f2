"""The PDF printed in parts: the front matter, one chapter of §7 per plan module, the back
matter; joined and stamped with the running heads by `reports.stamp`.

Why parts: WeasyPrint lays a dense page out in about 60 ms, six seconds for the default
suite's hundred pages, more than half of a run against simlab. A chapter's text depends
only on its own plans (sections and figures are numbered in run order), so the live
printer (`reports.live`) prints each chapter as soon as its module's plans have ended,
on the core the run leaves idle, and the end of the run prints only what is left.

A part is filed under the SHA-256 of its HTML: a part printed earlier from the same HTML
is the same part, and anything that changes a chapter (a later record, another template,
another WeasyPrint) changes its name, so a stale part is never joined. A lock per part
lets the live printer and the report builder share the work without printing a part
twice; a process that dies releases its locks with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no live printer runs beside the builder (reports.live)
    fcntl = None

from reports.engine import weasyprint
from reports.fonts import font_folder
from reports.html import environment
from reports.model import Report, ResultSection

FOLDER = "report-parts"
MIN_FILL = 1 / 3  # a page but the report's last is at least this full
# A report of fewer plans is printed whole, as one part, at the end: its few pages lay out
# in less time than printing its parts, reading how full their last pages are and joining.
WHOLE_BELOW = 5


def printed_whole(report: Report) -> bool:
    return len(report.ran) < WHOLE_BELOW


LOCK_WAIT_S = 120.0  # a chapter prints in about a second; this is a hung printer


@dataclass(frozen=True)
class Part:
    name: str  # what a log or an error needs: "front matter", "§7 test_cell_ov.py"
    html: str

    @property
    def key(self) -> str:
        digest = hashlib.sha256(self.html.encode())
        digest.update(_weasyprint_version().encode())
        return digest.hexdigest()[:24]

    def path(self, run_dir: Path) -> Path:
        return Path(run_dir) / FOLDER / f"{self.key}.pdf"


def front_part(report: Report) -> Part:
    return Part("front matter", _render(report, [{"kind": "front"}]))


def back_part(report: Report) -> Part:
    return Part("back matter", _render(report, [{"kind": "back"}]))


def chapter_part(report: Report, index: int, sections: list[ResultSection]) -> Part:
    """The chapter of §7 holding `sections` (one plan module's), the `index`-th; with no
    sections, §7 saying that no plan ran."""
    return group_part(report, [index], front=False, back=False)


def group_part(
    report: Report, indexes: list[int], *, front: bool, back: bool, heads: bool = False
) -> Part:
    """One part holding, in a row, the front matter (if `front`), the chapters at
    `indexes` (consecutive) and the back matter (if `back`); with `heads`, the running
    heads, page numbers and a DRAFT mark printed in it (a report printed whole)."""
    chapters = report.chapters
    pieces: list[dict] = [{"kind": "front"}] if front else []
    names = ["front matter"] if front else []
    for index in indexes:
        if not chapters:
            pieces.append({"kind": "empty"})
            names.append("§7 (no plan ran)")
            continue
        sections = chapters[index]
        pieces.append({"kind": "chapter", "sections": sections, "first": index == 0})
        names.append(f"§7 {sections[0].module.rsplit('/', 1)[-1]}")
    if back:
        pieces.append({"kind": "back"})
        names.append("back matter")
    return Part(" + ".join(names), _render(report, pieces, heads))


def whole_part(report: Report) -> Part:
    """The whole report in one part, heads and page numbers printed by WeasyPrint itself."""
    return group_part(
        report, list(range(max(1, len(report.chapters)))), front=True, back=True, heads=True
    )


def chapter_groups(
    report: Report,
    run_dir: Path,
    done: set[int] | None = None,
    before_print=None,
) -> list[tuple[list[int], Part, Path]]:
    """The chapters printed in groups, first to last, each group's part printed (or found
    printed): a chapter whose last page would stand less than a third full is printed
    together with the next one, so no page but the report's last stands nearly empty.
    The groups depend on the chapters alone, so the live printer and the builder make
    the same ones. `done` limits the walk to those chapters (the run is still going: a
    group waiting for a chapter not done is left for later); `before_print(indexes)` is
    called for each chapter before its group's HTML is made (its plots are drawn there)."""
    if printed_whole(report):
        return []  # printed whole at the end (reports.pdf.print_parts)
    count = max(1, len(report.chapters))
    groups = []
    k = 0
    while k < count:
        j = k
        while True:
            if done is not None and j not in done:
                return groups
            indexes = list(range(k, j + 1))
            if before_print is not None:
                before_print([j])  # the plots its HTML names, drawn or found drawn
            part = group_part(report, indexes, front=False, back=False)
            path = print_part(part, run_dir)
            if j == count - 1 or page_fill(path) >= MIN_FILL:
                break
            j += 1
        groups.append((indexes, part, path))
        k = j + 1
    return groups


def chapters_from_the_end(report: Report, run_dir: Path, before_print=None) -> int:
    """Print chapters alone from the last backwards, until one is printed or being
    printed (the live printer walks forwards from the first): at the end of a run the
    two processes then share the chapters left instead of queueing on the same part.
    A chapter that `chapter_groups` joins to the one before it was printed alone for
    nothing, on a core that would otherwise wait. Returns how many it printed."""
    if printed_whole(report) or not report.chapters:
        return 0
    made = 0
    for j in reversed(range(len(report.chapters))):
        part = group_part(report, [j], front=False, back=False)
        path = part.path(run_dir)
        if path.exists():
            return made
        path.parent.mkdir(exist_ok=True)
        with path.with_suffix(".lock").open("a") as lock:
            if not _try_lock(lock):
                return made  # the other process is on it: it walks on from here
            if path.exists():
                return made
            if before_print is not None:
                before_print([j])
            _write(part, run_dir, path)
            made += 1
    return made


def page_fill(path: Path) -> float:
    """How full the last page of a printed part is (0 to 1), remembered beside it."""
    note = path.with_suffix(".fill")
    try:
        return float(note.read_text())
    except (OSError, ValueError):
        pass
    from reports.layout import last_page_fill

    fill = last_page_fill(path)
    tmp = note.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(f"{fill:.4f}")
    os.replace(tmp, note)
    return fill


def print_part(part: Part, run_dir: Path) -> Path:
    """The part's PDF, printed unless a process already printed it (or is printing it)."""
    path = part.path(run_dir)
    path.parent.mkdir(exist_ok=True)
    with locked(path.with_suffix(".lock")):
        if not path.exists():
            _write(part, run_dir, path)
    return path


def _write(part: Part, run_dir: Path, path: Path) -> None:
    document = weasyprint().HTML(string=part.html, base_url=Path(run_dir).resolve().as_uri() + "/")
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    document.write_pdf(tmp)
    os.replace(tmp, path)


def is_printed(part: Part, run_dir: Path) -> bool:
    return part.path(run_dir).exists()


def printed(run_dir: Path) -> set[str]:
    """The keys of the parts printed so far."""
    return {p.name.split(".", 1)[0] for p in (Path(run_dir) / FOLDER).glob("*.pdf")}


def clear_unused(run_dir: Path, used: list[Part]) -> None:
    """Remove the parts no report uses any more (a part's HTML changed, or a run grew),
    and the locks: only the report builder calls this, once every part is printed."""
    folder = Path(run_dir) / FOLDER
    keep = {p.key for p in used}
    for path in folder.glob("*"):
        if path.suffix in (".pdf", ".fill") and path.name.split(".", 1)[0] in keep:
            continue
        with contextlib.suppress(OSError):
            path.unlink()


def _render(report: Report, pieces: list[dict], heads: bool = False) -> str:
    from reports.html import running_heads

    env = environment()
    css = env.get_template("report.css").render(
        fonts=font_folder().as_uri(), heads=running_heads(report) if heads else None
    )
    title = report.title if pieces[0]["kind"] in ("front", "back") else "Results"
    html = env.get_template("part.html.j2").render(
        r=report, css=css, pieces=pieces, links=False, title=title, mark=heads and report.draft
    )
    # The same break opportunities as a character: WeasyPrint makes a box of every <wbr>
    # element, and a chapter has hundreds (identifiers break at their underscores); the
    # zero-width space lays out a third faster, looks the same and is not in the PDF's
    # text. The HTML report keeps <wbr>: a copied identifier holds no stray character.
    return html.replace("<wbr>", "\u200b")


def _try_lock(f) -> bool:
    """The lock on the open file `f`, if no other process holds it (no wait)."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the part's lock; released when the file closes or its process dies. A holder
    that neither prints nor dies within LOCK_WAIT_S is passed by: the part is printed
    twice rather than the report waiting on it for ever (a write is atomic either way)."""
    with path.open("a") as f:
        deadline = time.monotonic() + LOCK_WAIT_S
        while fcntl is not None:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)  # real time: another process prints this part
        yield


_VERSION: list[str] = []


def _weasyprint_version() -> str:
    if not _VERSION:
        try:
            _VERSION.append(importlib.metadata.version("weasyprint"))
        except importlib.metadata.PackageNotFoundError:
            _VERSION.append("?")
    return _VERSION[0]
