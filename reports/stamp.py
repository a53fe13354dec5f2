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

import io
import os
import re
from pathlib import Path

from reports.fonts import font_folder
from reports.html import environment, running_heads
from reports.model import Report

KEY = "/RigJoinedFrom"  # metadata: what the file was joined from (reports.pdf.joined_key)
VERSION = "4"  # part of that key: bump it when the joining or the stamping changes
LINE_MM = 4.0  # one "Page N of M" line on a number strip
STRIP_LINES = 200  # lines a strip holds (800 mm: well inside a PDF page's 5 m limit)
PAGE_W_MM, RIGHT_MM = 210.0, 15.0  # A4, and the report's right margin (report.css)
FOOTER_TOP_MM = 16.0  # the footer line's top, from the page's foot: 19 mm margin, 3 mm pad


def join_and_stamp(
    parts: list[tuple[Path, int | None]], report: Report, path: Path, base_dir: Path, key: str = ""
) -> int:
    """Write `path` from the parts' PDFs in order, each its first `n` pages (None: all
    of them); returns its page count."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part, n in parts:
        # pages, links and the parts' bookmarks (h2, h3) on the pages taken
        writer.append(PdfReader(part), pages=None if n is None else (0, n))
    total = len(writer.pages)
    heads = PdfReader(io.BytesIO(_heads_pdf(report, base_dir))).pages[0]
    strips = PdfReader(io.BytesIO(_numbers_pdf(total, base_dir))).pages
    if len(strips) != -(-total // STRIP_LINES):
        raise ValueError(f"the page numbers came out on {len(strips)} strips for {total} pages")
    shared = _form(writer, heads)  # one form for what every page says alike
    lines = [line for strip in strips for line in _lines(writer, strip)]
    if len(lines) != total:  # WeasyPrint wrote the strip some other way: say so, loudly
        raise ValueError(f"the page numbers came out as {len(lines)} lines, not {total}")
    for i, (page, number) in enumerate(zip(writer.pages, lines, strict=True)):
        strip = strips[i // STRIP_LINES]
        _stamp(writer, page, shared, number, strip, i % STRIP_LINES, f"/RigNumber{i}")
    writer.add_metadata(
        {"/Title": f"{report.title} · {report.id}", "/Subject": report.id, KEY: key}
    )
    tmp = path.with_suffix(f".{os.getpid()}.tmp.pdf")
    with tmp.open("wb") as f:
        writer.write(f)
    os.replace(tmp, path)
    return total


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


def _form(writer, page, content: bytes | None = None, resources=None):
    """`page` (or `content` drawn in its space) as a form XObject of the joined file."""
    from pypdf.generic import DecodedStreamObject, NameObject

    form = DecodedStreamObject()
    form.set_data(page.get_contents().get_data() if content is None else content)
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = page.mediabox
    form[NameObject("/Resources")] = (
        page["/Resources"].get_object().clone(writer) if resources is None else resources
    )
    return writer._add_object(form)  # pypdf has no public name for this (pinned < 8)


def _lines(writer, strip) -> list:
    """The strip's lines, each a form of its own holding its text alone, so a page's
    text (a search, a screen reader, a test) holds its own number and no other."""
    data = strip.get_contents().get_data()
    first = data.find(b"BT")
    prefix = b"\n".join(re.findall(rb"(?m)^[-\d. ]+ cm$", data[: max(first, 0)]))
    resources = strip["/Resources"].get_object().clone(writer)
    blocks = re.finditer(rb"(?ms)^(/[\w.]+ gs\n)?([-\d. ]+ (?:rg|g)\n)?BT\n.*?^ET$", data)
    return [_form(writer, strip, prefix + b"\n" + b[0] + b"\n", resources) for b in blocks]


def _stamp(writer, page, heads, number, strip, line: int, name: str) -> None:
    """Draw the heads over `page`, and its own line of the number strip in the footer;
    the page's content is wrapped in q/Q, so no graphics state leaks into the stamp. The
    line goes under a name of the page's own: a part's pages share one resource dict."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    resources = page["/Resources"].get_object()
    if "/XObject" not in resources:
        resources[NameObject("/XObject")] = DictionaryObject()
    xobjects = resources["/XObject"].get_object()
    xobjects[NameObject("/RigHeads")] = heads
    xobjects[NameObject(name)] = number
    mm = 72 / 25.4
    width = float(page.mediabox.width)
    strip_top = float(strip.mediabox.top) - line * LINE_MM * mm  # this page's line
    footer_top = FOOTER_TOP_MM * mm
    clip = (width - 70 * mm, footer_top - LINE_MM * mm, 70 * mm, LINE_MM * mm)
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    after.set_data(
        b"\nQ\nq /RigHeads Do Q\n"
        + (
            f"q {clip[0]:.3f} {clip[1]:.3f} {clip[2]:.3f} {clip[3]:.3f} re W n "
            f"1 0 0 1 0 {footer_top - strip_top:.3f} cm {name} Do Q\n"
        ).encode()
    )
    contents = page.raw_get("/Contents")
    body = contents.get_object()
    body = list(body) if isinstance(body, ArrayObject) else [contents]
    page[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(before), *body, writer._add_object(after)]
    )
