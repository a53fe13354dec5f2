"""The printed report read as a signatory reads it, from the PDF's text and positions:
nothing runs out of its cell, identifiers break only at their underscores, no page but
the last stands nearly empty, each figure stands with its table, no placeholder; and the
HTML is one file that loads nothing from anywhere else. The checks themselves are shown
to catch each fault on a page made to have it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from reports.engine import lay_out
from reports.layout import laid_out_page, read_pages
from tests.reports.pdf_checks import (
    figures_far_from_tables,
    nearly_empty,
    overlaps,
    placeholders,
    read_boxes,
    split_identifiers,
)


@pytest.fixture(scope="module")
def layout(synthetic_run):
    return read_pages(synthetic_run.result.pdf)


@pytest.fixture(scope="module")
def boxes(synthetic_run):
    return read_boxes(synthetic_run.result.pdf)


def test_no_text_runs_out_of_its_cell(boxes, layout):
    assert len(boxes) > 100 and overlaps(boxes, layout[0].width) == []


def test_identifiers_break_only_at_their_underscores(synthetic_run, boxes):
    report = synthetic_run.result.report
    names = {m.name for m in report.measurements} | {p.title for p in report.plans}
    assert split_identifiers(boxes, names) == []


def test_identifiers_break_by_a_zero_width_space_in_print_and_wbr_in_the_html(synthetic_run):
    """The printed parts mark break points with a character (WeasyPrint lays out an
    element per <wbr>, a third of a chapter's time), which the PDF's text does not hold;
    the HTML keeps <wbr>, so a copied identifier has no stray character in it."""
    from reports.parts import group_part

    report = synthetic_run.result.report
    html = group_part(report, [0], front=True, back=False).html
    assert "<wbr>" not in html and "\u200b" in html
    assert "<wbr>" in synthetic_run.result.html.read_text()
    text = "".join(p.extract_text() for p in PdfReader(synthetic_run.result.pdf).pages)
    assert "\u200b" not in text


def test_no_page_but_the_last_is_less_than_a_third_full(layout):
    assert len(layout) > 5 and nearly_empty(layout) == []


def test_each_figure_stands_with_its_table(synthetic_run, layout):
    figures = {
        m.figure: (m.name, m.value if m.value != "—" else "no value")
        for m in synthetic_run.result.report.measurements
        if m.plot
    }
    assert len(figures) == 5 and figures_far_from_tables(layout, figures) == []


def test_no_placeholder_where_a_fact_belongs(synthetic_run, synthetic_pages):
    assert placeholders(synthetic_pages) == []
    text = " ".join(synthetic_pages)
    assert "Tested by: A. Tester" in text and "Approved by: B. Manager" in text
    assert "DRAFT" not in text  # laboratory, tester and approver all named


def test_a_report_missing_its_approver_is_a_draft_that_says_what_is_missing(killed_run):
    report = killed_run.result.report
    assert report.draft == ["who approved it (rig report RUN --approved-by NAME)"]
    reader = PdfReader(killed_run.result.pdf)
    first = read_pages(killed_run.result.pdf, 0, 1)[0]
    assert any(t.rotated and t.text == "DRAFT" for t in first.texts)  # the watermark
    assert all("DRAFT" in page.extract_text() for page in reader.pages)
    assert "rig report RUN --approved-by NAME" in reader.pages[0].extract_text()
    assert placeholders([p.extract_text() for p in reader.pages]) == []


class _Sources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster") and value:
                self.found.append(value)


def test_the_html_loads_nothing_from_outside_itself(synthetic_run):
    html = synthetic_run.result.html.read_text()
    parser = _Sources()
    parser.feed(html)
    outside = [v for v in parser.found if not v.startswith(("#", "data:"))]
    outside += [
        u for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", html) if not u.startswith("data:")
    ]
    outside += re.findall(r"@import[^;]+;", html)
    assert outside == []
    assert html.count('src="data:image/jpeg;base64,') == 5  # the figures, inside
    assert html.count('url("data:font/ttf;base64,') == 5  # the fonts, inside
    toc = re.search(r'<nav class="toc">(.*?)</nav>', html, re.S)
    assert toc is not None
    targets = re.findall(r'href="#([^"]+)"', toc[1])
    assert len(targets) > 15 and all(f'id="{t}"' in html for t in targets)


FAULTY = """<!doctype html><html><head><meta charset="utf-8"><style>{css}
table {{ table-layout: fixed; width: 100%; border-collapse: collapse }}
td.a {{ width: 12mm; white-space: nowrap }}
td.b {{ width: 20mm; overflow-wrap: anywhere }}
</style></head><body>
<table><tr><td class="a">charge_oc_delay_and_recovery</td><td>next cell</td></tr></table>
<table><tr><td class="b">discharge_oc_delays_and_recovery</td><td>x</td></tr></table>
<p>Laboratory: not stated in the station file</p>
<figure><p>Figure 1: plan, cell_ov_threshold</p></figure>
<p style="break-before: page">one line</p>
<p style="break-before: page">cell_ov_threshold 3.6506 (its table, two pages after)</p>
<p style="break-before: page">the last page</p>
</body></html>"""


def test_the_checks_find_each_fault_on_a_page_made_to_have_it(tmp_path):
    from reports.fonts import font_folder
    from reports.html import environment

    css = environment().get_template("report.css").render(fonts=font_folder().as_uri(), heads=None)
    pdf = tmp_path / "faulty.pdf"
    lay_out(FAULTY.format(css=css), tmp_path.as_uri() + "/").write_pdf(pdf)
    pages, boxes = read_pages(pdf), read_boxes(pdf)
    assert any("runs into 'next cell'" in o for o in overlaps(boxes, pages[0].width))
    split = split_identifiers(boxes, {"discharge_oc_delays_and_recovery"})
    assert split and "split as" in split[0]
    assert [m.split(" is")[0] for m in nearly_empty(pages)] == ["page 1", "page 2", "page 3"]
    far = figures_far_from_tables(pages, {1: ("cell_ov_threshold", "3.6506")})
    assert far and "its table on no page" in far[0]
    assert placeholders([p.extract_text() for p in PdfReader(pdf).pages])


def test_a_page_laid_out_is_as_full_as_its_printed_page_reads(tmp_path):
    """A part's last page fill comes from WeasyPrint's layout (`laid_out_page`), not from
    its PDF: the same figure on pages ending in text, in an image, or nearly empty."""
    from PIL import Image

    Image.new("RGB", (300, 200), "white").save(tmp_path / "plot.png")
    rows = "".join(f"<tr><td>row {i}</td><td>3.6{i:02d}</td></tr>" for i in range(60))
    html = (
        "<html><head><style>@page { size: A4; margin: 21mm 15mm 19mm 15mm }"
        " img { width: 120mm; display: block } .big { font-size: 14pt }</style></head><body>"
        f"<table>{rows}</table><p class=big>after the table</p>"
        '<img src="plot.png" style="break-before: page"><p style="break-before: page">x</p>'
        "</body></html>"
    )
    document = lay_out(html, tmp_path.as_uri() + "/")
    document.write_pdf(tmp_path / "fill.pdf")
    printed = read_pages(tmp_path / "fill.pdf")
    laid = [laid_out_page(page, n + 1) for n, page in enumerate(document.pages)]
    assert len(laid) == len(printed) >= 4
    for mine, theirs in zip(laid, printed, strict=True):
        assert mine.fill == pytest.approx(theirs.fill, abs=1e-4)
    assert [round(p.fill, 1) for p in laid[-2:]] == [round(printed[-2].fill, 1), 0.0]
    assert laid[-2].images and not laid[-2].texts  # the page of the image alone
