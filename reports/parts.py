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
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no live printer runs beside the builder (reports.live)
    fcntl = None

from reports.engine import ANCHOR, collector_paused, lay_out
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
class Resume:
    """Where a part starts inside a chapter, after the page before it ended: at a section
    (its heading first), at a case of a section (the section's heading and method on that
    page), or at a figure of a case (the case's table on that page). `figure` is the
    figure's number in the report."""

    chapter: int
    section: int
    case: int | None = None
    figure: int | None = None

    def as_list(self) -> list[int | None]:
        return [self.chapter, self.section, self.case, self.figure]


@dataclass(frozen=True)
class Part:
    name: str  # what a log or an error needs: "front matter", "§7 test_cell_ov.py"
    html: str
    # the HTML ids of what a page may start with, and where a part would resume there
    starts: dict[str, Resume] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        digest = hashlib.sha256(self.html.encode())
        digest.update(_weasyprint_version().encode())
        return digest.hexdigest()[:24]

    def path(self, run_dir: Path) -> Path:
        return Path(run_dir) / FOLDER / f"{self.key}.pdf"


@dataclass(frozen=True)
class PageNote:
    """What the joining needs to know of a printed part: how full its last page is, its
    page count, and, where its last page starts cleanly with a section, a case or a
    figure of §7, where a part carrying that page's content on would resume."""

    fill: float
    pages: int
    resume: Resume | None = None


@dataclass(frozen=True)
class Segment:
    """A printed part as the report takes it: all its pages, or all but its last (that
    page's content is carried into the next part, which starts at `resume`)."""

    part: Part
    path: Path
    chapters: list[int]  # the chapters it holds, whole or in part
    pages: int | None = None  # how many of its pages the report takes; None: all


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
    return segment_part(report, indexes[0], indexes[-1], front=front, back=back, heads=heads)


def segment_part(
    report: Report,
    first: int,
    last: int,
    *,
    resume: Resume | None = None,
    front: bool = False,
    back: bool = False,
    heads: bool = False,
) -> Part:
    """One part holding the front matter (if `front`), the chapters `first` to `last`, the
    first of them from `resume` on (the rest of it was printed on the page before), and
    the back matter (if `back`). `last` may be the chapter count: the back matter only."""
    chapters = report.chapters
    pieces: list[dict] = [{"kind": "front"}] if front else []
    names = ["front matter"] if front else []
    starts: dict[str, Resume] = {}
    for index in range(first, min(last, max(1, len(chapters)) - 1) + 1):
        if not chapters:
            pieces.append({"kind": "empty"})
            names.append("§7 (no plan ran)")
            continue
        sections = chapters[index]
        here = resume if resume is not None and index == resume.chapter else None
        pieces.append(
            {
                "kind": "chapter",
                "sections": sections,
                "first": index == 0 and here is None,
                "resume": here,
            }
        )
        name = f"§7 {sections[0].module.rsplit('/', 1)[-1]}"
        names.append(name if here is None else f"{name} (continued)")
        starts |= _starts(index, sections)
    if back:
        pieces.append({"kind": "back"})
        names.append("back matter")
    return Part(" + ".join(names), _render(report, pieces, heads), starts)


def _starts(index: int, sections: list[ResultSection]) -> dict[str, Resume]:
    """The ids of a chapter's sections, cases and figures, and where each resumes."""
    out: dict[str, Resume] = {}
    for s, sec in enumerate(sections):
        out[sec.anchor] = Resume(index, s)
        for c, case in enumerate(sec.cases):
            out[case.anchor] = Resume(index, s, c)
            for m in case.measurements:
                if m.figure:
                    out[f"fig-{m.figure}"] = Resume(index, s, c, m.figure)
    return out


def whole_part(report: Report) -> Part:
    """The whole report in one part, heads and page numbers printed by WeasyPrint itself."""
    return group_part(
        report, list(range(max(1, len(report.chapters)))), front=True, back=True, heads=True
    )


def segments(
    report: Report,
    run_dir: Path,
    done: set[int] | None = None,
    before_print=None,
    *,
    front: bool = False,
    back: bool = False,
    ahead: bool = False,
) -> list[Segment]:
    """The chapters printed in parts, first to last, each part printed (or found printed),
    so that no page but the report's last stands less than a third full. A part whose
    last page would stand nearly empty either hands that page's content on (its last
    page starts with a section, a case or a figure: the next part resumes there and
    takes the next chapter with it) or, where the page starts inside a table, is printed
    again together with the next chapter. The parts depend on the chapters alone, so the
    live printer and the builder make the same ones.

    `front` puts the front matter in the first part; `back` ends the walk with the back
    matter (the builder's, at the end). `done` limits the walk to those chapters (the run
    is still going: a part waiting for a chapter not done is left for later);
    `before_print(indexes)` is called for each chapter before a part holding it is made
    (its plots are drawn there).

    With `ahead`, a part another process is printing is not waited for: the walk goes on
    as if its last page stood full enough (the next part then starts with the next
    chapter, as it does for about half of them) and prints what follows, so two processes
    at the end of a run share the parts left instead of queueing on the same one. What it
    returns then is a guess; a part printed on a wrong guess is simply not joined."""
    if printed_whole(report):
        return []  # printed whole at the end (reports.pdf.print_parts)
    count = max(1, len(report.chapters))
    end = count + 1 if back else count  # index `count`: the back matter alone
    out: list[Segment] = []
    first, resume, reach = 0, None, 0
    while first < end:
        last = max(first, reach)
        while True:
            if done is not None and any(
                i not in done for i in range(first, min(last, count - 1) + 1)
            ):
                return out
            if before_print is not None and last < count:
                before_print([last])  # the plots its HTML names, drawn or found drawn
            part = segment_part(
                report,
                first,
                last,
                resume=resume,
                front=front and first == 0 and resume is None,
                back=last == count,
            )
            if ahead and not _print_unless_held(part, run_dir):
                first, resume, reach = last + 1, None, last + 1  # guessed: see above
                break
            path = print_part(part, run_dir)
            held = list(range(first, min(last, count - 1) + 1))
            if last == end - 1:
                out.append(Segment(part, path, held))
                return out
            note = page_note(path)
            if note.fill >= MIN_FILL:
                out.append(Segment(part, path, held))
                first, resume, reach = last + 1, None, last + 1
                break
            if note.resume is not None and note.pages > 1:
                out.append(Segment(part, path, held, note.pages - 1))
                # the carried page's content is not enough on its own: take the next one
                first, resume, reach = note.resume.chapter, note.resume, last + 1
                break
            last += 1
    return out


def _print_unless_held(part: Part, run_dir: Path) -> bool:
    """Print the part unless it is printed (True) or another process holds it (False)."""
    path = part.path(run_dir)
    if path.exists():
        return True
    path.parent.mkdir(exist_ok=True)
    with path.with_suffix(".lock").open("a") as lock:
        if not _try_lock(lock):
            return False
        if not path.exists():
            _write(part, run_dir, path)
    return True


def page_fill(path: Path) -> float:
    """How full the last page of a printed part is (0 to 1), remembered beside it."""
    return page_note(path).fill


def page_note(path: Path) -> PageNote:
    """What the joining needs to know of a printed part (`PageNote`), written beside it
    when it was printed; read from the PDF where a note is missing (no place to resume
    is known then: the part is printed again with the next chapter if it must be)."""
    note = path.with_suffix(".note")
    try:
        data = json.loads(note.read_text())
        resume = Resume(*data["resume"]) if data.get("resume") else None
        return PageNote(float(data["fill"]), int(data["pages"]), resume)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from pypdf import PdfReader

    from reports.layout import last_page_fill

    found = PageNote(last_page_fill(path), len(PdfReader(path).pages))
    _write_note(note, found)
    return found


def _write_note(note: Path, found: PageNote) -> None:
    tmp = note.with_suffix(f".{os.getpid()}.note-tmp")
    resume = found.resume.as_list() if found.resume else None
    tmp.write_text(
        json.dumps({"fill": round(found.fill, 4), "pages": found.pages, "resume": resume})
    )
    os.replace(tmp, note)


def print_part(part: Part, run_dir: Path) -> Path:
    """The part's PDF, printed unless a process already printed it (or is printing it)."""
    path = part.path(run_dir)
    path.parent.mkdir(exist_ok=True)
    with locked(path.with_suffix(".lock")):
        if not path.exists():
            _write(part, run_dir, path)
    return path


def _write(part: Part, run_dir: Path, path: Path) -> None:
    """Print the part; its note first, so a part's PDF never stands without it. How full
    its last page is comes from the layout (`reports.layout.laid_out_page`), as the PDF
    would say it."""
    from reports.layout import laid_out_page

    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with collector_paused():
        document = lay_out(part.html, Path(run_dir).resolve().as_uri() + "/")
        document.write_pdf(tmp)
    pages = len(document.pages)
    fill = laid_out_page(document.pages[-1], pages).fill
    resume = resume_point(document, part.starts)
    _write_note(path.with_suffix(".note"), PageNote(fill, pages, resume))
    os.replace(tmp, path)


def resume_point(document, starts: dict[str, Resume]) -> Resume | None:
    """Where a part carrying the last page's content on would resume: the outermost box
    at the top of that page that begins there (its id is not on the page before) and is
    a section, a case or a figure of §7. None where the page begins inside anything else
    (a table's rows, a paragraph) or the part has one page."""
    pages = document.pages
    if len(pages) < 2 or not starts:
        return None
    before = set(pages[-2].anchors)
    box = getattr(pages[-1], "_page_box", None)  # WeasyPrint's layout of the page
    seen: set[str] = set()
    while box is not None:
        children = getattr(box, "children", None)
        if not children:
            return None
        box = children[0]
        element = getattr(box, "element", None)
        name = (element.get("id") or element.get(ANCHOR)) if element is not None else None
        if not name or name in seen:
            continue
        seen.add(name)
        if name not in before:
            return starts.get(name)  # begins on this page
        if name not in starts:
            return None  # a continued block the report cannot resume inside
    return None


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
        if path.suffix in (".pdf", ".note") and path.name.split(".", 1)[0] in keep:
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
