"""The printed parts joined into the report's PDF, each page stamped with the running
heads: laboratory, report ID, the item tested and "Page N of M".

The heads are printed last because only then is M known, and the report ID (a digest of
the whole store) and the DUT's identity with it. They are printed by WeasyPrint as well,
in the report's own fonts: what every page says alike once, as a blank page in the
report's @page boxes, and the page numbers as lines on a tall strip. Both are laid over
the parts' pages as form XObjects, the strip clipped to the page's own line: the parts'
content streams are wrapped, never parsed, so a stamp costs the same on a page of tables
as on a blank one.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports.fonts import font_folder
from reports.html import environment, running_heads
from reports.model import Report

if TYPE_CHECKING:  # pikepdf is imported where a report is joined, not by every importer
    import pikepdf

KEY = "/RigJoinedFrom"  # metadata: what the file was joined from (reports.pdf.joined_key)
VERSION = "5"  # part of that key: bump it when the joining or the stamping changes
LINE_MM = 4.0  # one "Page N of M" line on a number strip
STRIP_LINES = 200  # lines a strip holds (800 mm: well inside a PDF page's 5 m limit)
PAGE_W_MM, RIGHT_MM = 210.0, 15.0  # A4, and the report's right margin (report.css)
FOOTER_TOP_MM = 16.0  # the footer line's top, from the page's foot: 19 mm margin, 3 mm pad


def join_and_stamp(
    parts: list[tuple[Path, int | None]], report: Report, path: Path, base_dir: Path, key: str = ""
) -> int:
    """Write `path` from the parts' PDFs in order, each its first `n` pages (None: all
    of them); returns its page count."""
    import pikepdf

    with contextlib.ExitStack() as opened:  # qpdf reads a copied page's streams on save
        sources = [(opened.enter_context(pikepdf.open(part)), n) for part, n in parts]
        pdf = opened.enter_context(pikepdf.new())
        _join(pdf, sources, report.title)
        total = len(pdf.pages)
        heads = opened.enter_context(pikepdf.open(io.BytesIO(_heads_pdf(report, base_dir))))
        strips = opened.enter_context(pikepdf.open(io.BytesIO(_numbers_pdf(total, base_dir))))
        if len(strips.pages) != -(-total // STRIP_LINES):
            raise ValueError(
                f"the page numbers came out on {len(strips.pages)} strips for {total} pages"
            )
        shared = _form(pdf, heads.pages[0])  # one form for what every page says alike
        lines = [line for strip in strips.pages for line in _lines(pdf, strip)]
        if len(lines) != total:  # WeasyPrint wrote the strip some other way: say so, loudly
            raise ValueError(f"the page numbers came out as {len(lines)} lines, not {total}")
        for i, (page, number) in enumerate(zip(pdf.pages, lines, strict=True)):
            strip = strips.pages[i // STRIP_LINES]
            _stamp(pdf, page, shared, number, strip, i % STRIP_LINES, f"/RigNumber{i}")
        pdf.docinfo["/Title"] = f"{report.title} · {report.id}"
        pdf.docinfo["/Subject"] = report.id
        pdf.docinfo[KEY] = key
        tmp = path.with_suffix(f".{os.getpid()}.tmp.pdf")
        # no random /ID: the same parts join into the same bytes
        version = max((src.pdf_version for src, _ in sources), default="1.7")
        pdf.save(tmp, deterministic_id=True, min_version=version)
    os.replace(tmp, path)
    return total


def _join(pdf: pikepdf.Pdf, sources: list[tuple[pikepdf.Pdf, int | None]], title: str = "") -> None:
    """The sources' pages (each its first `n`) appended to `pdf`, with their bookmarks
    and named destinations on the pages taken. A name two parts define goes to the first
    (a part carrying a page's content on repeats what the page before it held); a link
    whose target the joined file lacks is dropped, as is a bookmark left with neither a
    page nor a bookmark under it."""
    import pikepdf

    named = [_names(src) for src, _ in sources]
    taken = [{p.obj.objgen for p in src.pages[:n]} for src, n in sources]
    dests: dict[str, tuple[int, pikepdf.Array]] = {}  # name: (its part, its target there)
    for k, names in enumerate(named):
        for name, dest in names.items():
            if name not in dests and dest[0].objgen in taken[k]:
                dests[name] = (k, dest)
    joined: list[dict] = []  # per part: a source page's objgen -> the joined page
    for k, (src, n) in enumerate(sources):
        here = {}
        for page in src.pages[:n]:
            _drop_dead_links(page, dests, taken[k])  # first: a link copies its target page
            pdf.pages.append(page)  # not extend, which warns that it carries no names
            here[page.obj.objgen] = pdf.pages[-1].obj
        joined.append(here)
    if dests:
        tree = pikepdf.NameTree.new(pdf)
        for name, (k, dest) in dests.items():
            tree[name] = _retarget(dest, joined[k])
        pdf.Root.Names = pikepdf.Dictionary(Dests=tree.obj)
    with pdf.open_outline() as outline:
        tops = []
        for k, (src, _) in enumerate(sources):
            top = src.Root.get("/Outlines")
            if top is not None:
                tops += _bookmarks(top.get("/First"), joined[k], named[k], set())
        outline.root.extend(_nested(tops, title))


def _names(src: pikepdf.Pdf) -> dict[str, pikepdf.Array]:
    """The named destinations of `src` (WeasyPrint's anchors): name -> target array."""
    import pikepdf

    found = {}
    names = src.Root.get("/Names")
    if names is not None and "/Dests" in names:
        for name, dest in pikepdf.NameTree(names.Dests).items():
            if isinstance(dest, pikepdf.Dictionary):
                dest = dest.get("/D")
            if isinstance(dest, pikepdf.Array) and len(dest) > 0:
                found[name] = dest
    return found


def _retarget(dest: pikepdf.Array, pages: dict[tuple, pikepdf.Object]) -> pikepdf.Array:
    """`dest`, a target array of a part, aimed at the joined file's page."""
    import pikepdf

    _, *where = dest  # the page, then how to show it: /XYZ left top zoom, /Fit...
    return pikepdf.Array([pages[dest[0].objgen], *where])


def _target(item: pikepdf.Dictionary) -> pikepdf.Object | None:
    """What a link or a bookmark points at: a name, a target array or None."""
    import pikepdf

    target = item.get("/Dest")
    action = item.get("/A")
    if target is None and action is not None and action.get("/S") == pikepdf.Name.GoTo:
        target = action.get("/D")
    return target


def _drop_dead_links(page: pikepdf.Page, dests: dict, here: set[tuple]) -> None:
    """Remove from `page` the links to a name the joined file does not define, or to a
    page of its part not taken."""
    import pikepdf

    annots = page.obj.get("/Annots")
    if annots is None:
        return
    kept = []
    for annot in annots:
        target = _target(annot) if annot.get("/Subtype") == pikepdf.Name.Link else None
        if isinstance(target, pikepdf.Array):
            if len(target) > 0 and target[0].objgen in here:
                kept.append(annot)
        elif target is None or str(target) in dests:
            kept.append(annot)
    if len(kept) != len(annots):
        page.obj.Annots = pikepdf.Array(kept)


def _bookmarks(
    node: pikepdf.Dictionary | None, pages: dict, names: dict, seen: set[tuple]
) -> list[pikepdf.OutlineItem]:
    """The bookmarks from `node` on (and under it) on the pages taken, as pikepdf's
    outline items aimed at the joined file's pages; one on a page not taken is kept
    (with no target) only for bookmarks under it that are."""
    import pikepdf
    from pikepdf import OutlineItem

    items = []
    while node is not None and not (node.is_indirect and node.objgen in seen):
        seen.add(node.objgen)
        target = _target(node)
        if not isinstance(target, pikepdf.Array) and target is not None:
            target = names.get(str(target))
        children = _bookmarks(node.get("/First"), pages, names, seen)
        page = None if target is None or len(target) == 0 else target[0].objgen
        if page in pages or children:
            title = bookmark_title(str(node.Title))
            item = OutlineItem(title, _retarget(target, pages) if page in pages else None)
            item.children.extend(children)
            item.is_closed = int(node.get("/Count", 0)) < 0
            items.append(item)
        node = node.get("/Next")
    return items


SUBSECTION = re.compile(r"^\d+\.\d+\s")  # "7.3 cell_ov_...": a section of §7 (an h3)


def _nested(tops: list, title: str) -> list:
    """The parts' top bookmarks as one tree: WeasyPrint nests a part's headings only
    within the part, so a part that begins with §7's sections has them at its top. The
    report's title (its h1) holds the numbered sections, the annexes and the statement
    (h2); a section of §7 ("7.3 ...", h3) goes under the h2 before it."""
    roots: list = []
    open_: list[tuple[int, Any]] = []  # (level, item) from the root down
    for item in tops:
        level = 1 if item.title == title else 3 if SUBSECTION.match(item.title) else 2
        while open_ and open_[-1][0] >= level:
            open_.pop()
        (open_[-1][1].children if open_ else roots).append(item)
        open_.append((level, item))
    return roots


def bookmark_title(printed: str) -> str:
    """A bookmark's title without the zero-width spaces the printed parts mark break
    points with (`reports.parts`): in the viewer's outline they are no break, and a title
    holding them is not found by a search for the identifier it names."""
    return printed.replace("\u200b", "")


def plain_bookmarks(items: list) -> None:
    """`bookmark_title` for every item of a pikepdf outline (a report printed whole)."""
    for item in items:
        item.title = bookmark_title(item.title)
        plain_bookmarks(item.children)


def _heads_pdf(report: Report, base_dir: Path) -> bytes:
    """One blank page with what every page says alike, in the report's own @page boxes."""
    from reports.engine import lay_out

    css = (
        environment()
        .get_template("report.css")
        .render(fonts=font_folder().as_uri(), heads=running_heads(report), numbers=False)
    )
    mark = '<div class="watermark">DRAFT</div>' if report.draft else ""
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{css}</style></head>"
        f"<body>{mark}</body></html>"
    )
    return lay_out(html, base_dir.resolve().as_uri() + "/").write_pdf()


def _numbers_pdf(total: int, base_dir: Path) -> bytes:
    """ "Page N of M" for every page, one line each, on tall strips of STRIP_LINES lines:
    a margin box costs a few milliseconds a page, a line of a strip next to nothing. Each
    page shows its own line, clipped and moved into the footer (`_stamp`)."""
    from reports.engine import lay_out

    css = environment().get_template("report.css").render(fonts=font_folder().as_uri(), heads=None)
    lines = [f'<div class="n">Page {n} of {total}</div>' for n in range(1, total + 1)]
    strips = [lines[k : k + STRIP_LINES] for k in range(0, total, STRIP_LINES)]
    body = "".join(f'<section style="page: s{len(s)}">{"".join(s)}</section>' for s in strips)
    sizes = "".join(
        f"@page s{n} {{ size: {PAGE_W_MM}mm {n * LINE_MM}mm; margin: 0 }}"
        for n in sorted({len(s) for s in strips})
    )
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{css}\n{sizes}\n"
        f"body {{ margin: 0 }} section + section {{ break-before: page }}\n"
        f".n {{ height: {LINE_MM}mm; line-height: {LINE_MM}mm; text-align: right; "
        f"padding-right: {RIGHT_MM}mm; white-space: nowrap; overflow: hidden; "
        f'font: bold 7.5pt "Report Sans", sans-serif; color: #333 }}</style></head>'
        f"<body>{body}</body></html>"
    )
    return lay_out(html, base_dir.resolve().as_uri() + "/").write_pdf()


def _form(
    pdf: pikepdf.Pdf,
    page: pikepdf.Page,
    content: bytes | None = None,
    resources: pikepdf.Dictionary | None = None,
) -> pikepdf.Stream:
    """`page` (or `content` drawn in its space) as a form XObject of the joined file."""
    import pikepdf

    if content is None:
        page.contents_coalesce()
        content = page.obj.Contents.read_bytes()
    form = pikepdf.Stream(pdf, content)
    form.Type = pikepdf.Name.XObject
    form.Subtype = pikepdf.Name.Form
    form.BBox = pikepdf.Array(page.mediabox)
    form.Resources = _copied(pdf, page.obj.Resources) if resources is None else resources
    return form


def _copied(pdf: pikepdf.Pdf, obj: pikepdf.Object) -> pikepdf.Object:
    """`obj` of another file, copied into `pdf` with what it refers to."""
    return pdf.copy_foreign(obj if obj.is_indirect else obj.owner.make_indirect(obj))


def _lines(pdf: pikepdf.Pdf, strip: pikepdf.Page) -> list[pikepdf.Stream]:
    """The strip's lines, each a form of its own holding its text alone, so a page's
    text (a search, a screen reader, a test) holds its own number and no other."""
    strip.contents_coalesce()
    data = strip.obj.Contents.read_bytes()
    first = data.find(b"BT")
    prefix = b"\n".join(re.findall(rb"(?m)^[-\d. ]+ cm$", data[: max(first, 0)]))
    resources = _copied(pdf, strip.obj.Resources)
    blocks = re.finditer(rb"(?ms)^(/[\w.]+ gs\n)?([-\d. ]+ (?:rg|g)\n)?BT\n.*?^ET$", data)
    return [_form(pdf, strip, prefix + b"\n" + b[0] + b"\n", resources) for b in blocks]


def _stamp(
    pdf: pikepdf.Pdf,
    page: pikepdf.Page,
    heads: pikepdf.Stream,
    number: pikepdf.Stream,
    strip: pikepdf.Page,
    line: int,
    name: str,
) -> None:
    """Draw the heads over `page`, and its own line of the number strip in the footer;
    the page's content is wrapped in q/Q, so no graphics state leaks into the stamp. The
    line goes under a name of the page's own: a part's pages share one resource dict."""
    import pikepdf

    resources = page.obj.Resources
    if "/XObject" not in resources:
        resources.XObject = pikepdf.Dictionary()
    xobjects = resources.XObject
    xobjects.RigHeads = heads
    xobjects[name] = number
    mm = 72 / 25.4
    width = float(pikepdf.Rectangle(page.mediabox).width)
    strip_top = float(pikepdf.Rectangle(strip.mediabox).ury) - line * LINE_MM * mm  # its line
    footer_top = FOOTER_TOP_MM * mm
    clip = (width - 70 * mm, footer_top - LINE_MM * mm, 70 * mm, LINE_MM * mm)
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    page.contents_add(
        pikepdf.Stream(
            pdf,
            b"\nQ\nq /RigHeads Do Q\n"
            + (
                f"q {clip[0]:.3f} {clip[1]:.3f} {clip[2]:.3f} {clip[3]:.3f} re W n "
                f"1 0 0 1 0 {footer_top - strip_top:.3f} cm {name} Do Q\n"
            ).encode(),
        )
    )
