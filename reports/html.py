"""The compliance report as one HTML file: Jinja2 templates over the report model.

The templates are the same ones the PDF's parts are printed from (`reports.parts`: the
same front matter, sections and back matter, one part at a time), so the browser's page
and the PDF can never say different things. The stylesheet is inlined and the fonts are
matplotlib's DejaVu files, so the PDF looks the same on any machine whatever fonts it has.
"""

from __future__ import annotations

import base64
import functools
import re
import urllib.parse
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from reports.fonts import font_folder
from reports.model import Report


def css_string(value: object) -> str:
    """Text safe inside a CSS double-quoted string (page headers and footers)."""
    text = re.sub(r"[\r\n\t]+", " ", str(value))
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("<", "\\3c ").replace(">", "\\3e ")


@functools.cache
def environment() -> Environment:
    """One per process: it keeps the compiled templates (a report prints in many parts)."""
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css_string"] = css_string
    env.filters["ident"] = ident
    env.filters["idn"] = idn
    env.filters["doc"] = doc
    env.filters["clause"] = clause_marked
    return env


def ident(value: object) -> Markup:
    """An identifier (a plan, a measurement, a module) that may break only after its
    underscores, slashes and `::`, never inside a word: a narrow column wraps
    `discharge_oc_delays_and_recovery` as `discharge_oc_delays_and_` / `recovery`."""
    text = str(escape(str(value)))
    return Markup(re.sub(r"(_|/|::|\[)", r"\1<wbr>", text))


def idn(value: object) -> Markup:
    """An `*IDN?` answer, breaking only after its commas."""
    return Markup(str(escape(str(value))).replace(",", ",<wbr>"))


def doc(value: object) -> Markup:
    """A docstring as text: ``code`` and `code` become code, identifiers in it break at
    their underscores."""
    text = str(escape(" ".join(str(value).split())))
    return Markup(
        re.sub(
            r"``(.+?)``|`([^`]+?)`",
            lambda m: f"<code>{ident(Markup(m[1] or m[2]).unescape())}</code>",
            text,
        )
    )


def clause_marked(value: object) -> str:
    from reports.clauses import marked

    return marked(str(value))


def running_heads(report: Report) -> dict[str, str]:
    """What every page says at its top and bottom, besides its number."""
    dut = report.dut
    item = dut["model"] or report.dut_name or "DUT"
    return {
        "watermark": "DRAFT" if report.draft else "",
        "header_left": report.laboratory or f"Station {report.station}",
        "header_right": f"Report {report.id}",
        "footer_left": (
            f"{item}, s/n {dut['serial'] or 'not reported'}, fw {dut['firmware'] or '?'}"
        ),
    }


def render_html(report: Report, run_dir: Path | None = None) -> str:
    """The whole report as one file for a browser (and its print dialog): its fonts and
    figures inside it as data, so it loads nothing from anywhere and can be sent as it is."""
    env = environment()
    css = env.get_template("report.css").render(
        fonts=font_folder().as_uri(), heads=running_heads(report), stamped=False
    )
    css = re.sub(r'url\("(file://[^"]+)"\)', lambda m: f'url("{_data_uri(m[1])}")', css)
    html = env.get_template("report.html.j2").render(r=report, css=css, links=True)
    if run_dir is None:
        return html
    return re.sub(
        r'<img src="([^":]+)"',
        lambda m: f'<img src="{_data_uri(Path(run_dir) / m[1])}"',
        html,
    )


_MIME = {".ttf": "font/ttf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def _data_uri(location: str | Path) -> str:
    """A file as a data: URI (a file: URI or a path); a file that cannot be read stays a
    reference, and the report's checks say so."""
    path = (
        Path(urllib.parse.unquote(urllib.parse.urlparse(str(location)).path))
        if str(location).startswith("file:")
        else Path(location)
    )
    try:
        data = path.read_bytes()
    except OSError:
        return str(location)
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
