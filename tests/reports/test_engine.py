"""Loading WeasyPrint without a compiler run per library name (reports.engine)."""

from __future__ import annotations

import ast
import ctypes.util
import subprocess
import sys
from pathlib import Path

import pytest

from reports import engine

CACHE = ["libpango-1.0.so.0", "libpangoft2-1.0.so.0", "libgobject-2.0.so.0", "libc.so.6"]


def test_a_name_is_found_as_ctypes_finds_it_first():
    assert engine._soname(CACHE, "pango-1.0") == "libpango-1.0.so.0"
    assert engine._soname(CACHE, "c") == "libc.so.6"
    # WeasyPrint's Windows and macOS spellings: not here, and said at once
    assert engine._soname(CACHE, "libgobject-2.0-0") is None
    assert engine._soname(CACHE, "pango") is None  # not a prefix match of pango-1.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the loader cache is Linux's")
def test_the_lookup_is_the_caches_only_while_weasyprint_loads(monkeypatch):
    monkeypatch.setattr(engine, "_loader_cache", lambda: CACHE)
    original = ctypes.util.find_library
    with engine._libraries_from_the_loader_cache():
        assert ctypes.util.find_library("gobject-2.0") == "libgobject-2.0.so.0"
        assert ctypes.util.find_library("gobject-2.0-0") is None
    assert ctypes.util.find_library is original


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the loader cache is Linux's")
def test_the_cache_lists_the_libraries_weasyprint_needs():
    cache = engine._loader_cache()
    for name in ("gobject-2.0", "pango-1.0", "fontconfig"):
        assert engine._soname(cache, name), f"{name} not in `ldconfig -p`"


def test_a_fresh_interpreter_loads_weasyprint_without_running_a_compiler(tmp_path):
    """The import as a report process does it, counting the programs it starts."""
    script = (
        "import subprocess, sys\n"
        "started = []\n"
        "real = subprocess.Popen.__init__\n"
        "def counted(self, args, *a, **k):\n"
        "    started.append(args[0] if isinstance(args, (list, tuple)) else args)\n"
        "    real(self, args, *a, **k)\n"
        "subprocess.Popen.__init__ = counted\n"
        "from reports.engine import weasyprint\n"
        "weasyprint().HTML(string='<p>x</p>').write_pdf()\n"
        "print(started)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path,
        env={"PYTHONPATH": str(engine.__file__).rsplit("/reports/", 1)[0], "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    started = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    assert all(program.endswith("ldconfig") for program in started), started


def test_a_page_laid_out_with_its_stylesheet_parsed_once_is_the_same_page(tmp_path):
    css = (
        "@page { size: A5; margin: 10mm } p { font-size: 20pt; margin-top: 30mm } .x { color: red }"
    )
    html = (
        f"<html><head><style>{css}</style></head><body><p class=x>one</p><p>two</p></body></html>"
    )
    base = tmp_path.as_uri() + "/"
    plain = engine.weasyprint().HTML(string=html, base_url=base).render()
    engine._SHEETS.clear()
    shared = [engine.lay_out(html, base) for _ in range(2)]
    assert len(engine._SHEETS) == 1  # parsed once
    for doc in shared:
        assert [p.width for p in doc.pages] == [p.width for p in plain.pages]  # A5 from @page
        assert doc.write_pdf() is not None

    def tops(doc):
        page = doc.pages[0]._page_box
        body = page.children[0].children[0]
        return [(round(b.position_y, 2), b.style["font_size"]) for b in body.children]

    assert tops(shared[0]) == tops(plain) == tops(shared[1])


def test_release_removes_the_font_folders_whatever_became_of_the_fonts(tmp_path):
    """A `rig run` ends by os._exit: nothing is collected, so `release` removes the
    folders WeasyPrint copied the fonts into itself."""
    from reports.fonts import font_folder

    fonts = font_folder().as_uri()
    face = f'@font-face {{ font-family: "R"; src: url("{fonts}/DejaVuSans.ttf") }}'
    css = face + " p { font-family: R }"
    html = f"<html><head><style>{css}</style></head><body><p>x</p></body></html>"
    engine.release()
    kept = engine.lay_out(html, tmp_path.as_uri() + "/")  # still referenced: not collected
    folders = list(engine._FOLDERS)
    assert folders and any(Path(f).iterdir() for f in folders)  # the font copied there
    engine.release()
    assert not any(Path(f).exists() for f in folders) and kept is not None


SAMPLE = """<html><head><style>@page {{ size: A6; margin: 10mm;
  @top-right {{ content: "Report 7"; text-align: right; vertical-align: bottom }}
  @bottom-left {{ content: "Page " counter(page); text-align: left; vertical-align: top }} }}
body {{ font-size: 9pt }} .case {{ margin-top: 4mm }} td {{ padding: 1mm }}
figure {{ margin: 3mm 0; break-inside: avoid }} img {{ width: 40mm; display: block }}
.turn {{ transform: rotate(-20deg) }}</style></head><body>
<h2 id="s1">1 Summary</h2><ul><li>one</li><li id="li-2">two</li></ul>
<section id="sec">{cases}</section>
<div class="turn"><span id="turned">turned</span></div>
</body></html>"""
CASE = """<div class="case" id="case-{i}"><table><tr><td>cell {i}</td><td>value</td></tr>
<tr><td><span id="span-{i}">inline</span></td><td>x</td></tr></table>
<figure id="fig-{i}"><img src="plot.png"><figcaption>Figure {i}</figcaption></figure></div>"""


def _sample(tmp_path) -> tuple[str, str]:
    from PIL import Image

    Image.new("RGB", (200, 120), "white").save(tmp_path / "plot.png")
    return SAMPLE.format(cases="".join(CASE.format(i=i) for i in range(6))), tmp_path.as_uri() + "/"


def _texts(doc) -> list[tuple]:
    from weasyprint.formatting_structure import boxes

    out = []

    def walk(box, page):
        if isinstance(box, boxes.TextBox):
            out.append((page, box.text, round(box.position_x, 3), round(box.position_y, 3)))
        for child in box.all_children():
            walk(child, page)

    for n, page in enumerate(doc.pages):
        walk(page._page_box, n)
    return out


def _marker_styles(doc) -> list[tuple]:
    found = []

    def walk(box):
        if box.element_tag == "li::marker" and hasattr(box, "text"):
            found.append((box.style["font_variant_numeric"], box.style["text_transform"]))
        for child in box.all_children():
            walk(child)

    walk(doc.pages[0]._page_box)
    return found


def test_the_report_engine_lays_a_page_out_as_weasyprint_does(tmp_path):
    """`lay_out` trims WeasyPrint's user-agent stylesheet and lays ids out as data
    attributes: the same pages, text boxes (margin boxes' too), list markers, anchors (the
    PDF's named destinations) and bookmarks as WeasyPrint's own rendering of the HTML."""
    html, base = _sample(tmp_path)
    plain = engine.weasyprint().HTML(string=html, base_url=base).render()
    ours = engine.lay_out(html, base)
    assert len(ours.pages) == len(plain.pages) > 1
    assert _texts(ours) == _texts(plain)
    assert any(text == "• " for _, text, _, _ in _texts(ours))  # the list's markers
    assert (1, "Report 7") in [(page, text) for page, text, _, _ in _texts(ours)]
    assert len(_marker_styles(ours)) == 2 and _marker_styles(ours) == _marker_styles(plain)
    assert [p.anchors for p in ours.pages] == [p.anchors for p in plain.pages]
    assert "fig-5" in ours.pages[-1].anchors and "turned" in ours.pages[-1].anchors
    assert [p.bookmarks for p in ours.pages] == [p.bookmarks for p in plain.pages]


def test_cells_under_elements_with_ids_share_their_style(tmp_path):
    """Why ids are laid out as data attributes: WeasyPrint gives an element with an id a
    style of its own, and every element inside it too."""
    from weasyprint.formatting_structure import boxes

    html, base = _sample(tmp_path)

    def cell_styles(doc) -> set[int]:
        found = set()

        def walk(box):
            if isinstance(box, boxes.TableCellBox):
                found.add(id(box.style))
            for child in box.all_children():
                walk(child)

        for page in doc.pages:
            walk(page._page_box)
        return found

    plain = engine.weasyprint().HTML(string=html, base_url=base).render()
    assert len(cell_styles(plain)) >= 6  # one per case at least
    assert len(cell_styles(engine.lay_out(html, base))) == 1


def test_the_collector_is_paused_while_a_part_prints_and_left_as_it_was():
    import gc

    assert gc.isenabled()
    with engine.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with engine.collector_paused():
            pass
        assert not gc.isenabled()  # a caller's own pause is not undone
    finally:
        gc.enable()
