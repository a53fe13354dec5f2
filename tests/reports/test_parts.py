"""The PDF printed in parts (reports.parts): a part whose last page would stand nearly
empty hands that page's content on to the next part, which resumes at the section, case
or figure the page began with; nothing is lost, repeated or printed twice."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from reports import parts
from reports.build import draw_plots
from reports.engine import weasyprint
from reports.load import load_run
from reports.model import build_report
from reports.parts import Resume, group_part, page_note, resume_point, segments


def _squashed(pages: list[str]) -> str:
    return re.sub(r"\s+", "", "".join(pages))


def _taken(walked: list[parts.Segment]) -> list[str]:
    out = []
    for segment in walked:
        pages = PdfReader(segment.path).pages
        out += [p.extract_text() for p in pages[: segment.pages]]
    return out


@pytest.fixture
def synthetic(tmp_path, make_run):
    run_dir = tmp_path / "20261125T130000-00011"
    make_run(run_dir)
    run = load_run(run_dir)
    report = build_report(run)
    draw_plots(run, report.plans)
    return run_dir, report


def test_a_nearly_empty_last_page_is_carried_on_and_nothing_is_lost_or_repeated(
    synthetic, monkeypatch
):
    """With every last page counted nearly empty, each part hands its last page on where
    it can (and is printed again with the next chapter where it cannot): the chapters'
    text, joined, is the text of each chapter printed alone, in order."""
    run_dir, report = synthetic
    monkeypatch.setattr(parts, "MIN_FILL", 0.99)
    printed: list[str] = []
    write = parts._write
    monkeypatch.setattr(
        parts, "_write", lambda part, d, path: (printed.append(part.name), write(part, d, path))
    )
    walked = segments(report, run_dir)
    assert any(s.pages is not None for s in walked), "no part handed its last page on"
    assert any("(continued)" in s.part.name for s in walked)
    alone = []
    for i in range(len(report.chapters)):
        path = parts.print_part(group_part(report, [i], front=False, back=False), run_dir)
        alone += [p.extract_text() for p in PdfReader(path).pages]
    assert _squashed(_taken(walked)) == _squashed(alone)
    assert len(printed) == len(set(printed)), "a part was printed twice"
    # each chapter heading and figure once in what the report takes
    joined = "".join(_taken(walked))
    for sec in report.sections:
        assert joined.count(f"7.{sec.number} ") == 1, sec.story


def test_carried_pages_stand_as_they_would_in_one_part(synthetic, monkeypatch):
    """With every last page carried on (or its part printed again with the next chapter),
    the parts joined lay every line where one part holding every chapter lays it: the
    resumed block's top margin is truncated as after a page break."""
    from reports.layout import read_pages

    run_dir, report = synthetic
    monkeypatch.setattr(parts, "MIN_FILL", 0.99)
    walked = segments(report, run_dir)
    assert sum(s.pages is not None for s in walked) >= 2

    def lines(path, upto=None):
        return [
            [(t.text, round(t.x, 1), round(t.y, 1)) for t in page.texts]
            for page in read_pages(path)[:upto]
        ]

    joined = [page for s in walked for page in lines(s.path, s.pages)]
    everything = list(range(len(report.chapters)))
    one = parts.print_part(group_part(report, everything, front=False, back=False), run_dir)
    assert joined == lines(one)


def test_a_resumed_section_carries_no_heading_and_no_repeated_id(synthetic):
    _, report = synthetic
    chapter = next(i for i, c in enumerate(report.chapters) if any(len(s.cases) for s in c))
    sec = report.chapters[chapter][0]
    case = sec.cases[0]
    figure = next(m.figure for m in case.measurements if m.figure)
    whole = group_part(report, [chapter], front=False, back=False).html
    tail = parts.segment_part(report, chapter, chapter, resume=Resume(chapter, 0, 0, figure)).html
    assert f'id="{sec.anchor}"' in whole and f'id="{sec.anchor}"' not in tail
    assert f'id="{case.anchor}"' not in tail  # the case goes on, its table printed before
    assert f'id="fig-{figure}"' in tail
    assert f"7.{sec.number} " not in tail  # no heading
    assert '<table class="measurements' not in tail.split(f'id="fig-{figure}"')[0]


def _render(body: str):
    css = "@page { size: A4; margin: 20mm } figure { height: 120mm; margin: 0 }"
    html = f"<html><head><style>{css}</style></head><body>{body}</body></html>"
    return weasyprint().HTML(string=html).render()


STARTS = {
    "sec": Resume(0, 0),
    "case-1": Resume(0, 0, 0),
    "case-2": Resume(0, 0, 1),
    "fig-1": Resume(0, 0, 0, 1),
    "fig-2": Resume(0, 0, 1, 2),
}


def test_the_place_to_resume_is_what_the_last_page_begins_with():
    tall = '<div style="height: 200mm">case 1</div>'
    # the second case's figure does not fit under its table: the last page begins with it
    doc = _render(
        f'<section id="sec"><h3>7.1 plan</h3><div id="case-1">{tall}</div>'
        f'<div id="case-2"><table><tr><td>row</td></tr></table>'
        f'<figure id="fig-2">figure</figure></div></section>'
    )
    assert len(doc.pages) == 2
    assert resume_point(doc, STARTS) == Resume(0, 0, 1, 2)
    # a new case at the top of the page
    doc = _render(
        '<section id="sec"><h3>7.1 plan</h3><div id="case-1">'
        '<div style="height: 100mm">case 1</div><figure id="fig-1">figure</figure></div>'
        '<div id="case-2"><div style="height: 50mm; break-inside: avoid">case 2</div></div>'
        "</section>"
    )
    assert len(doc.pages) == 2
    assert resume_point(doc, STARTS) == Resume(0, 0, 1)
    # a new section: the page begins with its heading
    doc = _render(
        '<section id="other"><div style="height: 240mm">before</div></section>'
        '<section id="sec"><h3>7.2 plan</h3><div style="height: 50mm">after</div></section>'
    )
    assert resume_point(doc, {**STARTS, "other": Resume(9, 9)}) == Resume(0, 0)


def test_no_place_to_resume_inside_a_table_or_on_a_single_page():
    rows = "".join(f"<tr><td>row {i}</td></tr>" for i in range(120))
    doc = _render(f'<section id="sec"><div id="case-1"><table>{rows}</table></div></section>')
    assert len(doc.pages) >= 2
    assert resume_point(doc, STARTS) is None
    assert resume_point(_render('<section id="sec"><p>short</p></section>'), STARTS) is None


def test_a_part_without_its_note_is_read_from_its_pdf(synthetic):
    run_dir, report = synthetic
    path = parts.print_part(group_part(report, [0], front=False, back=False), run_dir)
    noted = page_note(path)
    path.with_suffix(".note").unlink()
    found = page_note(path)
    assert found.fill == pytest.approx(noted.fill, abs=1e-4) and found.pages == noted.pages
    assert found.resume is None
    assert path.with_suffix(".note").exists()
