"""The printed parts joined into one PDF and stamped (reports.stamp): the pages taken in
order, the parts' bookmarks and named destinations aimed at the joined file's pages,
links that still lead where they led, and every page's heads and its own number. Read
back with pypdf, not with the library that wrote the file."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from reports.engine import weasyprint
from reports.load import load_run
from reports.model import build_report
from reports.pdf import _copy_with_key, joined_pages
from reports.stamp import join_and_stamp

BREAK = '<div style="break-before: page"></div>'


def _part(path, body: str):
    """A part as WeasyPrint prints one: h2/h3 bookmarks, ids as named destinations,
    `href="#..."` as links to them."""
    html = f"<!doctype html><html><body>{body}</body></html>"
    weasyprint().HTML(string=html).write_pdf(path)
    return path


def _outline(reader: PdfReader, items=None, level: int = 0) -> list:
    """(level, title, page number) of each bookmark, in order."""
    found = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            found += _outline(reader, item, level + 1)
        else:
            found.append((level, item.title, reader.get_destination_page_number(item)))
    return found


@pytest.fixture(scope="module")
def joined(tmp_path_factory, make_run):
    tmp = tmp_path_factory.mktemp("stamp")
    run_dir = tmp / "20261125T140000-00021"
    make_run(run_dir)
    report = build_report(load_run(run_dir))
    a = _part(  # its last page is carried on by the next part: taken without it
        tmp / "a.pdf",
        '<h2 id="alpha">Alpha</h2><p id="a1">alpha one</p>'
        '<a href="#a1">to a1</a> <a href="#a2">to a2</a>'
        f'{BREAK}<h3 id="a2">Alpha dropped</h3><p>on the page not taken</p>',
    )
    b = _part(
        tmp / "b.pdf",
        '<h2 id="beta">Beta</h2><p id="twice">first of two</p><a href="#b2">to b2</a>'
        f'{BREAK}<h3 id="b2">Beta two</h3><a href="https://example.com/">away</a>',
    )
    c = _part(  # a heading with a break point marked as the parts mark them
        tmp / "c.pdf", '<h2 id="gamma">gam_\u200bma</h2><p id="twice">second of two</p>'
    )
    path = tmp / "report.pdf"
    total = join_and_stamp([(a, 1), (b, None), (c, None)], report, path, run_dir, key="k1")
    return total, path, report


def test_the_pages_taken_in_order_each_with_the_heads_and_its_own_number(joined):
    total, path, report = joined
    pages = [p.extract_text() for p in PdfReader(path).pages]
    assert total == len(pages) == 4
    for n, text in enumerate(pages, start=1):
        assert re.findall(r"Page \d+ of \d+", text) == [f"Page {n} of 4"]
        assert report.id in text
    for n, words in enumerate(["alpha one", "first of two", "Beta two", "second of two"]):
        assert words in pages[n]
    assert "not taken" not in "".join(pages)


def test_bookmarks_lead_to_the_joined_pages_and_none_to_a_page_not_taken(joined):
    _, path, _ = joined
    assert _outline(PdfReader(path)) == [
        (0, "Alpha", 0),
        (0, "Beta", 1),
        (1, "Beta two", 2),
        (0, "gam_ma", 3),  # no zero-width space: a search for the name finds it
    ]


def test_named_destinations_lead_to_the_joined_pages_the_first_of_a_name_kept(joined):
    _, path, _ = joined
    reader = PdfReader(path)
    pages = {
        name: reader.get_destination_page_number(dest)
        for name, dest in reader.named_destinations.items()
    }
    assert pages == {"alpha": 0, "a1": 0, "beta": 1, "twice": 1, "b2": 2, "gamma": 3}


def test_links_lead_where_they_led_and_a_link_to_a_page_not_taken_is_dropped(joined):
    _, path, _ = joined
    reader = PdfReader(path)
    names = reader.named_destinations
    links = []
    for n, page in enumerate(reader.pages):
        for annot in page.get("/Annots", []):
            annot = annot.get_object()
            if "/Dest" in annot:
                links.append((n, reader.get_destination_page_number(names[annot["/Dest"]])))
            else:
                links.append((n, annot["/A"]["/URI"]))
    assert links == [(0, 0), (1, 2), (2, "https://example.com/")]


def test_the_key_is_in_the_metadata_for_the_next_process_to_find(joined):
    total, path, report = joined
    assert joined_pages(path, "k1") == total
    assert joined_pages(path, "k2") is None
    assert joined_pages(path.with_name("missing.pdf"), "k1") is None
    info = PdfReader(path).metadata
    assert info["/Subject"] == report.id and info["/Title"].endswith(report.id)


def test_a_report_printed_whole_is_copied_with_its_key_and_all_it_holds(joined, tmp_path):
    _, path, _ = joined
    printed = path.with_name("b.pdf")  # as a report printed whole: heads and all
    copy = tmp_path / "report.pdf"
    assert _copy_with_key(printed, copy, "k3") == 2
    assert joined_pages(copy, "k3") == 2 and joined_pages(printed, "k3") is None
    before, after = PdfReader(printed), PdfReader(copy)
    assert [p.extract_text() for p in after.pages] == [p.extract_text() for p in before.pages]
    assert _outline(after) == _outline(before) == [(0, "Beta", 0), (1, "Beta two", 1)]
    assert sorted(after.named_destinations) == sorted(before.named_destinations) != []
    assert after.metadata["/Producer"] == before.metadata["/Producer"]


def test_a_report_printed_whole_has_bookmark_titles_without_break_marks(joined, tmp_path):
    _, path, _ = joined
    printed = path.with_name("c.pdf")
    assert "\u200b" in _outline(PdfReader(printed))[0][1]  # as WeasyPrint printed it
    copy = tmp_path / "whole.pdf"
    _copy_with_key(printed, copy, "k4")
    assert _outline(PdfReader(copy)) == [(0, "gam_ma", 0)]


def test_the_parts_bookmarks_are_one_tree_under_the_report_title(joined, tmp_path):
    """WeasyPrint nests headings only within a part: a part that begins with §7's
    sections has them at its top. Joined, they go under "7 Results", and the numbered
    sections and annexes under the report's title, as in a report printed whole."""
    _, _, report = joined
    front = _part(
        tmp_path / "front.pdf", f"<h1>{report.title}</h1><h2>1 Summary</h2><h2>6 Method</h2>"
    )
    first = _part(tmp_path / "first.pdf", "<h2>7 Results</h2><h3>7.1 balance_current</h3>")
    more = _part(tmp_path / "more.pdf", "<h3>7.2 cell_ov_trip_delay</h3><h3>7.3 soc</h3>")
    back = _part(tmp_path / "back.pdf", "<h2>8 Deviations</h2><h2>Annex A: uncertainty</h2>")
    path = tmp_path / "tree.pdf"
    join_and_stamp(
        [(front, None), (first, None), (more, None), (back, None)], report, path, tmp_path
    )
    assert [(level, title) for level, title, _ in _outline(PdfReader(path))] == [
        (0, report.title),
        (1, "1 Summary"),
        (1, "6 Method"),
        (1, "7 Results"),
        (2, "7.1 balance_current"),
        (2, "7.2 cell_ov_trip_delay"),
        (2, "7.3 soc"),
        (1, "8 Deviations"),
        (1, "Annex A: uncertainty"),
    ]
