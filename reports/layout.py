"""Where things landed on the printed pages: the text with its position, the images,
and how full each page is. The report's own printing uses `fill` (a part whose last
page would stand nearly empty is printed together with the next, `reports.parts`); the
tests use the rest to check the layout a reader sees.

Read with pypdf's content visitor: each piece of text with its transformation, each
image drawn (`Do` of an image XObject) with the matrix it is drawn in. Positions are in
PDF points from the page's lower left corner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MM = 72 / 25.4
_PAGE_NUMBER = re.compile(r"Page \d+ of \d+")  # stamped in the footer from a taller strip
TOP_MM, BOTTOM_MM = 21.0, 19.0  # the report's @page margins (report.css)


@dataclass(frozen=True)
class Text:
    text: str
    x: float
    y: float  # baseline
    size: float
    font: str = ""  # the PDF's base font name, without its subset prefix
    rotated: bool = False  # set at an angle (the DRAFT watermark): not part of the layout

    @property
    def width(self) -> float:
        """The text's advance width in points, from the font it is set in."""
        return _font_width(self.font, self.text) * self.size


@dataclass(frozen=True)
class Image:
    name: str
    x: float
    y: float  # lower edge
    width: float
    height: float


@dataclass
class Page:
    number: int  # 1-based
    width: float
    height: float
    texts: list[Text]
    images: list[Image]

    @property
    def body_top(self) -> float:
        return self.height - TOP_MM * MM

    @property
    def body_bottom(self) -> float:
        return BOTTOM_MM * MM

    def in_body(self) -> tuple[list[Text], list[Image]]:
        """What stands between the margins: not the running heads stamped on every page."""
        texts = [
            t
            for t in self.texts
            if t.text.strip()
            and not t.rotated
            and self.body_bottom - 2 <= t.y <= self.body_top + 2
            and not _PAGE_NUMBER.fullmatch(t.text.strip())
        ]
        images = [i for i in self.images if i.y + i.height >= self.body_bottom - 2]
        return texts, images

    @property
    def fill(self) -> float:
        """How much of the text area is used: from its top to the lowest text or image."""
        texts, images = self.in_body()
        lows = [t.y - 0.3 * t.size for t in texts] + [i.y for i in images]
        if not lows:
            return 0.0
        used = self.body_top - max(self.body_bottom, min(lows))
        return max(0.0, min(1.0, used / (self.body_top - self.body_bottom)))


def _mult(m: list[float], n: list[float]) -> list[float]:
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


def read_page(page, number: int) -> Page:
    texts: list[Text] = []
    images: list[Image] = []
    xobjects = {}
    resources = page.get("/Resources")
    if resources is not None and "/XObject" in resources.get_object():
        xobjects = resources.get_object()["/XObject"].get_object()

    def on_text(text, cm, tm, font, size) -> None:
        if not text:
            return
        m = _mult(list(tm), list(cm))
        scale = (m[2] ** 2 + m[3] ** 2) ** 0.5 or 1.0
        name = str((font or {}).get("/BaseFont", "")).lstrip("/").split("+")[-1]
        name = name.replace("Report-Sans", "DejaVuSans").replace("Report-Mono", "DejaVuSansMono")
        for line in text.split("\n"):  # pypdf hands a line break inside a chunk as "\n"
            if line:
                rotated = abs(m[1]) > 1e-3 or abs(m[2]) > 1e-3
                texts.append(Text(line, m[4], m[5], (size or 1.0) * scale, name, rotated))

    def on_operand(op, args, cm, tm) -> None:
        if op != b"Do" or not args:
            return
        name = str(args[0])
        obj = xobjects.get(name) if hasattr(xobjects, "get") else None
        if obj is None or obj.get_object().get("/Subtype") != "/Image":
            return
        images.append(Image(name, cm[4], cm[5], cm[0], cm[3]))

    page.extract_text(visitor_text=on_text, visitor_operand_before=on_operand)
    box = page.mediabox
    return Page(number, float(box.width), float(box.height), texts, images)


def read_pages(path: Path | str, first: int = 0, last: int | None = None) -> list[Page]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    pages = reader.pages[first:last]
    return [read_page(p, first + i + 1) for i, p in enumerate(pages)]


def last_page_fill(path: Path | str) -> float:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return read_page(reader.pages[-1], len(reader.pages)).fill


PX = 0.75  # a CSS pixel in PDF points: WeasyPrint lays out in CSS pixels


def laid_out_page(page, number: int) -> Page:
    """What `read_page` would read from the printed page, taken from WeasyPrint's layout
    of it (a `Document`'s page) instead: each line of text with its baseline and size,
    each image with its box, in PDF points from the lower left corner. Printing a part
    then needs no second pass over its PDF to know how full its last page is (reading
    it back costs a tenth of writing it)."""
    from weasyprint.formatting_structure import boxes

    height = page.height * PX
    texts: list[Text] = []
    images: list[Image] = []

    def walk(box, turned: bool) -> None:
        turned = turned or bool(box.style["transform"])
        if isinstance(box, boxes.TextBox):
            if box.text and box.style["visibility"] == "visible":
                y = height - (box.position_y + box.baseline) * PX
                size = box.style["font_size"] * PX
                texts.append(Text(box.text, box.position_x * PX, y, size, "", turned))
            return
        if isinstance(box, boxes.ReplacedBox) and box.width and box.height:
            bottom = height - (box.content_box_y() + box.height) * PX
            x = box.content_box_x() * PX
            images.append(Image("", x, bottom, box.width * PX, box.height * PX))
        for child in box.all_children():
            walk(child, turned)

    walk(page._page_box, False)
    return Page(number, page.width * PX, height, texts, images)


_FONTS: dict[str, object] = {}


def _font_width(font: str, text: str) -> float:
    """Width of `text` at size 1 in the report's font of that name (DejaVu, as embedded)."""
    from PIL import ImageFont

    from reports.fonts import font_folder

    file = {
        "DejaVuSans": "DejaVuSans.ttf",
        "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique": "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
        "DejaVuSansMono": "DejaVuSansMono.ttf",
    }.get(font, "DejaVuSans.ttf")
    if file not in _FONTS:
        _FONTS[file] = ImageFont.truetype(str(font_folder() / file), 1000)
    return _FONTS[file].getlength(text) / 1000
