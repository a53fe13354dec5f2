"""What a reader would stumble on in a printed report, found from the PDF's text and its
positions (reports.layout): a word run into its neighbour or out of the page, an
identifier cut where it has no break, a page left nearly empty, a figure far from its
table, a placeholder where a fact belongs."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from reports.layout import MM, Page

RIGHT_MARGIN_MM = 15.0
BREAKS = "_/[:"  # an identifier may break after these (reports.html.ident)
PLACEHOLDERS = re.compile(
    r"not stated|not recorded|\bTBD\b|placeholder|\bN/A\b|\bNone\b(?!:)|\bnan\b|"
    r"Laboratory: not|= None"
)


LINE_SLACK = 2.5  # points: cells of one table row set in different sizes sit this close


def _lines(page: Page) -> dict[float, list]:
    """The page's text by line: pieces whose baselines lie within LINE_SLACK of the
    line's first piece (a row's cells in different font sizes) form one line."""
    rows: dict[float, list] = defaultdict(list)
    texts = sorted((t for t in page.texts if t.text.strip() and not t.rotated),
                   key=lambda t: -t.y)  # fmt: skip
    current = None
    for t in texts:
        if current is None or current - t.y > LINE_SLACK:
            current = t.y
        rows[current].append(t)
    return rows


@dataclass
class Box:
    """One block of text as pdfminer finds it (a table cell, a paragraph): its lines."""

    page: int
    lines: list  # pdfminer LTTextLine, top to bottom

    @property
    def text(self) -> str:
        return "\n".join(line.get_text().rstrip("\n") for line in self.lines)


def read_boxes(pdf: Path, pages: list[int] | None = None) -> list[Box]:
    """Every text block of the pages (0-based numbers; all if None), in reading order."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextBox

    params = LAParams(line_margin=0.5, char_margin=1.0)
    boxes = []
    for n, layout in enumerate(extract_pages(pdf, page_numbers=pages, laparams=params)):
        number = (pages[n] if pages is not None else n) + 1
        for item in layout:
            if isinstance(item, LTTextBox):
                boxes.append(Box(number, list(item)))
    return boxes


def overlaps(boxes: list[Box], page_width: float, tolerance: float = 0.8) -> list[str]:
    """Text that runs into the text beside it, or past the right margin: what a cell too
    narrow for its content looks like on the page. Lines on one baseline must not share
    any width; within a line, no letter may stand on the one before it."""
    from pdfminer.layout import LTChar

    found = []
    right = page_width - RIGHT_MARGIN_MM * MM
    by_page: dict[int, list] = defaultdict(list)
    for box in boxes:
        by_page[box.page] += [line for line in box.lines if line.get_text().strip()]
    for page, lines in by_page.items():
        lines.sort(key=lambda ln: (round(ln.y0), ln.x0))
        for a, b in itertools.combinations(lines, 2):
            if abs(a.y0 - b.y0) < 2 and min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance:
                found.append(f"page {page}: {a.get_text().strip()!r} runs into "
                             f"{b.get_text().strip()!r}")  # fmt: skip
        for line in lines:
            if line.x1 > right + tolerance and abs(line.y0 - line.y1) < 30:
                found.append(f"page {page}: {line.get_text().strip()!r} runs past the margin")
            chars = [c for c in line if isinstance(c, LTChar) and c.get_text().strip()]
            for c1, c2 in itertools.pairwise(chars):
                if c2.x0 < c1.x1 - max(tolerance, 0.3 * c1.width) and abs(c2.y0 - c1.y0) < 2:
                    found.append(f"page {page}: letters overlap in {line.get_text().strip()!r}")
                    break
    return found


def split_identifiers(boxes: list[Box], identifiers: set[str]) -> list[str]:
    """Each identifier whole, or broken across lines only after `_`, `/`, `[` or `:`,
    and each found at least once."""
    texts = [(box.page, box.text) for box in boxes]
    problems = []
    for ident in sorted(identifiers):
        allowed = "".join(re.escape(c) + ("\n?" if c in BREAKS else "") for c in ident)
        anywhere = "\n?".join(re.escape(c) for c in ident)
        if any(re.search(allowed, text) for _, text in texts):
            for page, text in texts:  # found as it should be; but nowhere cut elsewhere?
                for m in re.finditer(anywhere, text):
                    if not re.fullmatch(allowed, m[0]):
                        problems.append(f"page {page}: {ident!r} is split as {m[0]!r}")
            continue
        cut = [(p, m[0]) for p, t in texts for m in re.finditer(anywhere, t)]
        if cut:
            problems += [f"page {p}: {ident!r} is split as {c!r}" for p, c in cut]
        else:
            problems.append(f"{ident!r} is nowhere in the report")
    return problems


def _page_text(page: Page) -> str:
    """The page's body text line by line, top to bottom, left to right."""
    rows = _lines(page)
    out = []
    for y in sorted(rows, reverse=True):
        if page.body_bottom - 2 <= y <= page.body_top + 2:
            out.append(" ".join(t.text for t in sorted(rows[y], key=lambda t: t.x)))
    return "\n".join(out)


def nearly_empty(pages: list[Page], least: float = 1 / 3) -> list[str]:
    return [f"page {p.number} is {p.fill:.0%} full" for p in pages[:-1] if p.fill < least]


def figures_far_from_tables(pages: list[Page], figures: dict[int, tuple[str, str]]) -> list[str]:
    """Each figure (number -> (measurement name, value)) on the page of its table row or
    the next one."""
    texts = [_page_text(p) for p in pages]
    problems = []
    for number, (name, value) in figures.items():
        fig = next((i for i, t in enumerate(texts) if f"Figure {number}:" in t), None)
        if fig is None:
            problems.append(f"figure {number} is not in the report")
            continue
        tail = re.escape(name.rsplit("_", 1)[-1] + value.replace(" ", ""))  # a name may wrap
        rows = [i for i, t in enumerate(texts[: fig + 1])
                if re.search(rf"(?m)^\S*{tail}", t.replace(" ", ""))]  # fmt: skip
        if not rows or fig - rows[-1] > 1:
            problems.append(f"figure {number} ({name}) is on page {fig + 1}, its table on "
                            f"{rows[-1] + 1 if rows else 'no page'}")  # fmt: skip
    return problems


def placeholders(pages_text: list[str]) -> list[str]:
    found = []
    for n, text in enumerate(pages_text, 1):
        for m in PLACEHOLDERS.finditer(text):
            found.append(f"page {n}: {text[max(0, m.start() - 30) : m.end() + 30]!r}")
    return found
