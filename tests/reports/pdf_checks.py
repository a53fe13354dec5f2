"""What a reader would stumble on in a printed report, found from the PDF's text and its
positions (reports.layout): a word run into its neighbour or out of the page, an
identifier cut where it has no break, a page left nearly empty, a figure far from its
table, a placeholder where a fact belongs."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict

from reports.layout import MM, Page

RIGHT_MARGIN_MM = 15.0
BREAKS = "_/[:"  # an identifier may break after these (reports.html.ident)
PLACEHOLDERS = re.compile(
    r"not stated|not recorded|\bTBD\b|placeholder|\bN/A\b|\bNone\b|\bnan\b|"
    r"Laboratory: not|= None"
)


def _lines(page: Page) -> dict[float, list]:
    rows: dict[float, list] = defaultdict(list)
    for t in page.texts:
        if t.text.strip() and not t.rotated:
            rows[round(t.y * 2) / 2].append(t)
    return rows


def overlaps(page: Page, tolerance: float = 1.0) -> list[str]:
    """Text that runs into the text beside it on its line, or past the right margin:
    what a cell too narrow for its content looks like on the page."""
    found = []
    right = page.width - RIGHT_MARGIN_MM * MM
    for y, row in _lines(page).items():
        row.sort(key=lambda t: t.x)
        for a, b in itertools.pairwise(row):
            if a.x + a.width > b.x + tolerance and b.x > a.x + tolerance:
                found.append(f"p{page.number} y={y}: {a.text!r} runs into {b.text!r}")
        for t in row:
            if t.x + t.width > right + tolerance and page.body_bottom <= t.y <= page.body_top:
                found.append(f"p{page.number} y={y}: {t.text!r} runs past the margin")
    return found


def split_identifiers(pages: list[Page], identifiers: set[str]) -> list[str]:
    """Each identifier whole, or broken across lines only after `_`, `/`, `[` or `:`;
    and each found at least once."""
    text = "\n".join(_page_text(p) for p in pages)
    joined = text.replace("\n", "")
    where = [i for i, c in enumerate(text) if c != "\n"]  # joined index -> text index
    problems = []
    for ident in sorted(identifiers, key=len, reverse=True):
        hits = [m.start() for m in re.finditer(re.escape(ident), joined)]
        if not hits:
            problems.append(f"{ident!r} is nowhere whole in the report")
            continue
        for start in hits:
            for k in range(1, len(ident)):
                gap = text[where[start + k - 1] + 1 : where[start + k]]
                if "\n" in gap and ident[k - 1] not in BREAKS:
                    problems.append(f"{ident!r} is split after {ident[:k]!r}")
    return problems


def _page_text(page: Page) -> str:
    """The page's body text line by line, top to bottom, left to right."""
    rows = _lines(page)
    out = []
    for y in sorted(rows, reverse=True):
        if page.body_bottom - 2 <= y <= page.body_top + 2:
            out.append("".join(t.text for t in sorted(rows[y], key=lambda t: t.x)))
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
        tail = re.escape(name.rsplit("_", 1)[-1] + value)  # a long name may wrap in its cell
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
