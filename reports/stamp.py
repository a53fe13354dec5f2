"""The printed parts joined into the report's PDF, each page stamped with the running
heads: laboratory, report ID, the item tested and "Page N of M".

The heads are printed last because only then is M known, and the report ID (a digest of
the whole store) and the DUT's identity with it. They are printed by WeasyPrint as well,
as blank pages in the report's own fonts and @page rules, and laid over the parts' pages
as form XObjects: the parts' content streams are wrapped, never parsed, so a stamp costs
the same on a page of tables as on a blank one.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from reports.fonts import font_folder
from reports.html import environment, running_heads
from reports.model import Report

KEY = "/RigJoinedFrom"  # metadata: what the file was joined from (reports.pdf.joined_key)


def join_and_stamp(
    parts: list[Path], report: Report, path: Path, base_dir: Path, key: str = ""
) -> int:
    """Write `path` from the parts' PDFs in order; returns its page count."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(part))  # pages, links and the parts' bookmarks (h2, h3)
    total = len(writer.pages)
    fixed = PdfReader(io.BytesIO(_heads_pdf(report, 1, base_dir, numbers=False))).pages[0]
    numbers = PdfReader(io.BytesIO(_heads_pdf(report, total, base_dir, fixed=False))).pages
    if len(numbers) != total:
        raise ValueError(f"the page numbers came out {len(numbers)} pages, not {total}")
    shared = _form(writer, fixed)  # one form for what every page says alike
    for i, (page, number) in enumerate(zip(writer.pages, numbers, strict=True)):
        _stamp(writer, page, {"/RigHeads": shared, f"/RigPage{i}": _form(writer, number)})
    writer.add_metadata(
        {"/Title": f"{report.title} · {report.id}", "/Subject": report.id, KEY: key}
    )
    tmp = path.with_suffix(f".{os.getpid()}.tmp.pdf")
    with tmp.open("wb") as f:
        writer.write(f)
    os.replace(tmp, path)
    return total


def _heads_pdf(
    report: Report, pages: int, base_dir: Path, *, fixed: bool = True, numbers: bool = True
) -> bytes:
    """Blank pages with the running heads: those alike on every page (`fixed`), and the
    page number. Printed apart, the fixed ones once: a margin box costs a few ms a page."""
    from reports.parts import weasyprint

    heads = running_heads(report)
    if not fixed:
        heads = {k: "" for k in heads}
    env = environment()
    css = env.get_template("report.css").render(
        fonts=font_folder().as_uri(), heads=heads, numbers=numbers
    )
    body = '<div class="blank"></div>' * pages
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{css}\n"
        ".blank { height: 1px; } .blank + .blank { break-before: page; }</style></head>"
        f"<body>{body}</body></html>"
    )
    return weasyprint().HTML(string=html, base_url=base_dir.resolve().as_uri() + "/").write_pdf()


def _form(writer, page):
    """A page of the heads as a form XObject of the joined file."""
    from pypdf.generic import DecodedStreamObject, NameObject

    form = DecodedStreamObject()
    form.set_data(page.get_contents().get_data())
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = page.mediabox
    form[NameObject("/Resources")] = page["/Resources"].get_object().clone(writer)
    return writer._add_object(form)  # pypdf has no public name for this (pinned < 8)


def _stamp(writer, page, forms: dict) -> None:
    """Draw `forms` over `page`: its own content wrapped in q/Q, so no state leaks."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    resources = page["/Resources"].get_object()
    if "/XObject" not in resources:
        resources[NameObject("/XObject")] = DictionaryObject()
    xobjects = resources["/XObject"].get_object()
    for name, ref in forms.items():
        xobjects[NameObject(name)] = ref
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    after.set_data(b"\nQ\n" + b"".join(b"q " + n.encode() + b" Do Q\n" for n in forms))
    contents = page.raw_get("/Contents")
    body = contents.get_object()
    body = list(body) if isinstance(body, ArrayObject) else [contents]
    page[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(before), *body, writer._add_object(after)]
    )
