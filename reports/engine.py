"""WeasyPrint, the PDF engine, loaded once per process and quietly.

Loading it costs about half a second, half of that in finding its C libraries: WeasyPrint
tries several names per library (Pango, GObject, HarfBuzz, fontconfig: Windows, macOS
and Linux spellings) and cffi asks `ctypes.util.find_library` for each name that does not
open as it stands. On Linux that runs `ldconfig -p` and then gcc and ld, about two
hundred programs per import, 0.25 s on a 2-core machine and more on a busy one; the live
printer, and the report builder for the running heads, each pay it at the run's end.
Every list ends in the library's soname (`libpango-1.0.so.0`), which the dynamic loader
opens by itself, so during the import a name is looked up in the loader's cache (one
`ldconfig -p`, as ctypes does first) and not by compiling a test program.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes.util
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_SHEETS: dict[tuple[str, str], tuple[Any, Any]] = {}
_HTML: list[type] = []
ANCHOR = "data-anchor"  # an element's id while WeasyPrint lays it out (`lay_out`)
_ID = re.compile(r"(<[A-Za-z][^<>]*?\s)id=([\"'])")
# Rules of WeasyPrint's user-agent stylesheet that give every element of a document
# pseudo-elements the report never has: footnote and note calls and markers (nothing is
# floated to a footnote or a note) and a list marker (only `li` is a list item here).
_UNUSED_PSEUDO = re.compile(r"^::(?:footnote|note)-[a-z]+ \{[^}]*\}\n", re.MULTILINE)
# Its rules for the sixteen page-margin boxes and the footnote and note areas, inside its
# @page rule: every page of a document is a page type of its own, styled with each of
# them. The report's stylesheet says what its four margin boxes are, with their alignment.
_MARGIN_BOXES = re.compile(r"^  @[a-z-]+ +\{[^}]*\}\n", re.MULTILINE)
_FOLDERS: list[str] = []


def weasyprint() -> ModuleType:
    with warnings.catch_warnings():
        # Without the HarfBuzz subsetter WeasyPrint falls back to fontTools and says so,
        # at import and for every font of every part; the report's fonts are cut down
        # beforehand for that case (reports.fonts).
        warnings.filterwarnings("ignore", message=".*HarfBuzz-Subset.*")
        if "weasyprint" in sys.modules:
            import weasyprint as module
        else:
            with _libraries_from_the_loader_cache():
                import weasyprint as module  # here: it costs ~0.3 s, only a PDF needs it
    logger = logging.getLogger("weasyprint")
    if _no_subsetter_note not in logger.filters:
        logger.addFilter(_no_subsetter_note)
    return module


def lay_out(html: str, base_url: str) -> Any:
    """The document laid out (a WeasyPrint `Document`), its first `<style>` block parsed
    once per process: every printed part of a report carries the same stylesheet, and
    parsing it with its five `@font-face` fonts costs about 30 ms a part, a quarter of a
    one-page chapter's printing. The stylesheet is given as the user's (no author sheet is
    left in the page to outrank it), which cascades as the same rules in the page would.

    Ids are laid out as `data-anchor` attributes and made anchors afterwards, where
    WeasyPrint would have put them (`_anchors_restored`): WeasyPrint gives an element
    with an id a style of its own, and with it every element inside it, so that each of a
    chapter's cases had its table's rows and cells styled anew (an eighth of its layout)."""
    module = weasyprint()
    html = _ID.sub(rf"\1{ANCHOR}=\2", html)
    match = _STYLE.search(html)
    if match is None:
        return _anchors_restored(_html_class(module)(string=html, base_url=base_url).render())
    key = (match[1], base_url)
    if key not in _SHEETS:
        from weasyprint.text.fonts import FontConfiguration

        fonts = FontConfiguration()
        with _fonts_copied_into_a_folder_of_ours():  # WeasyPrint copies them as it parses
            sheet = module.CSS(string=match[1], base_url=base_url, font_config=fonts)
        _SHEETS[key] = (sheet, fonts)
    sheet, fonts = _SHEETS[key]
    bare = html[: match.start()] + html[match.end() :]
    document = _html_class(module)(string=bare, base_url=base_url).render(
        stylesheets=[sheet], font_config=fonts
    )
    return _anchors_restored(document)


def _anchors_restored(document: Any) -> Any:
    """Each page's anchors as WeasyPrint finds them for ids (`weasyprint.anchors.
    gather_anchors`), from the `data-anchor` attributes `lay_out` gave the ids: on each
    page, the first box in tree order that an element with one makes (not an anonymous
    box, nor a pseudo-element's), its border box, through the transforms above it. The
    PDF's named destinations and `reports.parts.resume_point` read them."""
    from weasyprint.css import AnonymousStyle
    from weasyprint.formatting_structure import boxes

    def gather(box: Any, found: dict, matrix: Any) -> None:
        if box.style["transform"] and not isinstance(box, boxes.InlineBox):
            own = box.transformation_matrix  # set as WeasyPrint gathered the page
            matrix = own @ matrix if matrix else own
        element = box.element
        if (
            element is not None
            and not isinstance(box.style, AnonymousStyle)
            and box.style.pseudo_type is None
        ):
            name = element.get(ANCHOR)
            if name and name not in found:
                x, y, width, height = box.hit_area()
                x2, y2 = x + width, y + height
                if matrix:
                    x, y = matrix.transform_point(x, y)
                    x2, y2 = matrix.transform_point(x2, y2)
                found[name] = (x, y, x2, y2)
        for child in box.all_children():
            gather(child, found, matrix)

    for page in document.pages:
        found: dict[str, tuple] = {}
        gather(page._page_box, found, None)
        if found:
            page.anchors = found | page.anchors  # a name's own anchor (<a name>) first
    return document


def _html_class(module: ModuleType) -> type:
    """WeasyPrint's `HTML`, its user-agent stylesheet without the rules for pseudo-elements
    the report never has (`_UNUSED_PSEUDO`). WeasyPrint makes a style of each
    pseudo-element a rule names for every element it matches, and `::marker` and the five
    footnote and note rules match every element: six styles per element, computed and
    thrown away, about a fifth of the time a chapter takes to lay out. Nor the rules for
    the page's margin boxes (`_MARGIN_BOXES`): sixteen styles a page, 3 % of a chapter's
    layout. Without them the pages are the same. A WeasyPrint that keeps its stylesheet
    elsewhere gets its own."""
    if not _HTML:
        _HTML.append(module.HTML)
        try:
            from weasyprint import html as ua
            from weasyprint.css.counters import CounterStyle

            text = _UNUSED_PSEUDO.sub("", _MARGIN_BOXES.sub("", ua.UA))
            text = text.replace("\n::marker {", "\nli::marker {")
            # its @counter-style rules fill a table of their own, not the one WeasyPrint uses
            sheet = module.CSS(string=text, counter_style=CounterStyle())
        except (ImportError, AttributeError):
            return _HTML[0]

        class ReportHTML(module.HTML):
            def _ua_stylesheets(self, forms: bool = False) -> list:
                return [sheet] if not forms else super()._ua_stylesheets(forms)

        _HTML[0] = ReportHTML
    return _HTML[0]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a part is laid out and written, as it
    was before afterwards. WeasyPrint allocates millions of objects for a part, and the
    collector scanned the process's heap again and again while they lived, to free little
    that reference counting does not: 3-4 % of a rebuild's CPU (five of five alternated
    default rebuilds), for 14 MB more at the peak (the largest part's cycles, freed at
    the next collection)."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def release() -> None:
    """Let the parsed stylesheets go, and remove the folders WeasyPrint copied their fonts
    into (about 0.6 MB each, under the temporary directory): at the end of a build, and at
    exit. WeasyPrint removes such a folder when its font configuration is collected,
    which a process that ends by `os._exit` (`rig run`) or a kill never does, so the
    folders are this module's own; the live printer, killed once the report is joined,
    keeps its temporary files in the run folder (`reports.live`)."""
    _SHEETS.clear()
    while _FOLDERS:
        shutil.rmtree(_FOLDERS.pop(), ignore_errors=True)


@contextlib.contextmanager
def _fonts_copied_into_a_folder_of_ours() -> Iterator[None]:
    """Where WeasyPrint makes its temporary font folder (`tempfile.mkdtemp`): in one of
    ours, which `release` removes whatever became of the font configuration."""
    folder = tempfile.mkdtemp(prefix="bms-rig-fonts-")
    _FOLDERS.append(folder)
    before, tempfile.tempdir = tempfile.tempdir, folder
    try:
        yield
    finally:
        tempfile.tempdir = before


atexit.register(release)  # while WeasyPrint is whole, not at the interpreter's teardown


def _no_subsetter_note(record: logging.LogRecord) -> bool:
    return "HarfBuzz-Subset" not in record.getMessage()


@contextlib.contextmanager
def _libraries_from_the_loader_cache() -> Iterator[None]:
    """While WeasyPrint loads, `find_library` answers from the loader's cache alone."""
    if not sys.platform.startswith("linux"):
        yield  # macOS and Windows look names up without a compiler
        return
    cache = _loader_cache()
    if not cache:  # no ldconfig here: ctypes's own search, slow or not
        yield
        return
    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: _soname(cache, name)
    try:
        yield
    finally:
        ctypes.util.find_library = original


def _loader_cache() -> list[str]:
    """The sonames `ldconfig -p` lists ("libpango-1.0.so.0"), or none if it cannot run."""
    for ldconfig in ("/sbin/ldconfig", "ldconfig"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [ldconfig, "-p"],
                capture_output=True,
                text=True,
                check=False,
                timeout=10,
                env={"LC_ALL": "C", "LANG": "C"},
            ).stdout
            return re.findall(r"^\s+(lib\S+\.so\S*)\s", out, re.MULTILINE)
    return []


def _soname(cache: list[str], name: str) -> str | None:
    """What ctypes finds first for `name` on Linux: `lib<name>.so...` in the cache."""
    prefix = f"lib{name}.so"
    return next((so for so in cache if so == prefix or so.startswith(prefix + ".")), None)
