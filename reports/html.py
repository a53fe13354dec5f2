"""The compliance report as one HTML file: Jinja2 templates over the report model.

The same HTML is what a browser shows and what WeasyPrint prints, so the two can never
differ. The stylesheet is inlined and the fonts are matplotlib's DejaVu files (a
dependency already), so the PDF looks the same on any machine whatever fonts it has.
"""

from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reports.fonts import font_folder
from reports.model import Report


def css_string(value: object) -> str:
    """Text safe inside a CSS double-quoted string (page headers and footers)."""
    text = re.sub(r"[\r\n\t]+", " ", str(value))
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("<", "\\3c ").replace(">", "\\3e ")


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css_string"] = css_string
    return env


def render_html(report: Report) -> str:
    env = environment()
    dut = report.dut
    item = dut["model"] or report.dut_name or "DUT"
    footer = f"{item}, s/n {dut['serial'] or 'not reported'}, fw {dut['firmware'] or '?'}"
    css = env.get_template("report.css").render(
        r=report,
        fonts=font_folder().as_uri(),
        header_left=report.laboratory or f"Station {report.station}",
        footer_left=footer,
    )
    return env.get_template("report.html.j2").render(r=report, css=css)
