"""The compliance report as one HTML file: Jinja2 templates over the report model.

The templates are the same ones the PDF's parts are printed from (`reports.parts`: the
same front matter, sections and back matter, one part at a time), so the browser's page
and the PDF can never say different things. The stylesheet is inlined and the fonts are
matplotlib's DejaVu files, so the PDF looks the same on any machine whatever fonts it has.
"""

from __future__ import annotations

import functools
import re

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

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
    return env


def running_heads(report: Report) -> dict[str, str]:
    """What every page says at its top and bottom, besides its number."""
    dut = report.dut
    item = dut["model"] or report.dut_name or "DUT"
    return {
        "header_left": report.laboratory or f"Station {report.station}",
        "header_right": f"Report {report.id}",
        "footer_left": (
            f"{item}, s/n {dut['serial'] or 'not reported'}, fw {dut['firmware'] or '?'}"
        ),
    }


def render_html(report: Report) -> str:
    """The whole report as one page for a browser (and its print dialog)."""
    env = environment()
    css = env.get_template("report.css").render(
        fonts=font_folder().as_uri(), heads=running_heads(report), stamped=False
    )
    return env.get_template("report.html.j2").render(r=report, css=css, links=True)
