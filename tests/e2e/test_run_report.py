"""`rig run` ends in the compliance report, written into the run folder from its store."""

from __future__ import annotations

import re
from pathlib import Path

from pypdf import PdfReader

from tests.e2e.conftest import run_rig


def test_the_default_run_writes_its_report(default_run):
    run_dir = default_run.run_dir
    assert run_dir is not None
    for name in ("report.pdf", "report.html", "junit.xml", "allure-results"):
        assert (run_dir / name).exists(), name
        assert str(run_dir / name) in default_run.output.replace("\n", "")
    assert re.search(
        r"report generation: [\d.]+ s, \d+ % of the run's [\d.]+ s", default_run.output
    )
    pages = [p.extract_text() for p in PdfReader(run_dir / "report.pdf").pages]
    text = " ".join(pages)
    dut = default_run.one("dut")
    assert dut["hardware"] in text and dut["firmware"] in text
    tests = {r["test"] for r in default_run.records if r["type"] == "test_result"}
    for test in tests:  # each plan's section, and each case in it
        story, _, case = test.split("::")[-1].removeprefix("test_").partition("[")
        assert story in text and case.rstrip("]") in text, test
    for instrument in (r for r in default_run.records if r["type"] == "instrument"):
        assert instrument["identity"].split(",")[2] in text  # serial of each instrument
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))
    assert "Overall verdict: PASS" in text
    # a plot of every trip: each waveform a measurement names is drawn, and the PDF draws it
    waveforms = [m["waveform"] for m in default_run.measurements() if m.get("waveform")]
    for waveform in waveforms:
        assert (run_dir / "plots" / (Path(waveform).stem + ".jpg")).stat().st_size > 0
    drawn = set()  # the images pages draw (the stamped page heads are forms, not images)
    for page in PdfReader(run_dir / "report.pdf").pages:
        xobjects = page["/Resources"]["/XObject"]
        for name in re.findall(rb"/([\w.+-]+) Do", page.get_contents().get_data()):
            key = "/" + name.decode()
            if xobjects[key]["/Subtype"] == "/Image":
                drawn.add(xobjects.raw_get(key).idnum)
    assert len(drawn) == len(waveforms)


def test_the_store_carries_what_the_report_needs(default_run):
    start = default_run.one("run_start")
    assert "tested_by" in start and "laboratory" in start
    starts = [r for r in default_run.records if r["type"] == "test_start"]
    assert starts and all(isinstance(r["mono"], float) and r["module_doc"] for r in starts)


def test_allure_results_carry_each_plans_transcripts(default_run):
    import json

    folder = default_run.run_dir / "allure-results"
    results = [json.loads(p.read_text()) for p in folder.glob("*-result.json")]
    assert len(results) == len({r["test"] for r in default_run.results()})
    for result in results:  # the link's own plans too: the cells are read before each plan
        names = {a["name"] for a in result.get("attachments", [])}
        assert {"BMS transcript", "SCPI transcript"} <= names, result["fullName"]
    texts = [
        (folder / a["source"]).read_text()
        for r in results
        for a in r["attachments"]
        if a["name"] == "SCPI transcript"
    ]
    # one transcript per plan, every instrument's lines in it, in time order
    assert any("cellsim" in text and "charger" in text for text in texts)


def test_the_default_report_reads_as_a_signatory_reads_it(default_run):
    """The real report's layout (tests/reports/test_layout.py has the synthetic one): no
    page but the last under a third full, no placeholder, nothing out of its cell on the
    front and back matter and on a sample of the chapters' pages, a DRAFT without a lab,
    tester and approver."""
    from reports.layout import read_pages
    from tests.reports.pdf_checks import nearly_empty, overlaps, placeholders, read_boxes

    pdf = default_run.run_dir / "report.pdf"
    pages = read_pages(pdf)
    assert nearly_empty(pages) == []
    texts = [p.extract_text() for p in PdfReader(pdf).pages]
    assert placeholders(texts) == []
    assert "DRAFT: not for signature" in texts[0] and "rig run --tested-by NAME" in texts[0]
    sample = sorted(
        {0, 1, 2, 3, *range(10, len(pages) - 4, 15), *range(len(pages) - 4, len(pages))}
    )
    assert overlaps(read_boxes(pdf, sample), pages[0].width) == []
    assert not (default_run.run_dir / "report-parts").exists()  # joined: the parts gone


def test_a_run_with_its_report_leaves_no_temporary_files(tmp_path):
    """WeasyPrint copies the report's fonts into a temporary folder per stylesheet (0.6
    MB); `rig run` ends by os._exit and kills its live printer once the report is
    joined, so neither may leave one behind."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run = run_rig(
        tmp_path / "runs",
        "-k",
        "test_charge_ot or test_discharge_oc",
        report=True,
        env={"TMPDIR": str(scratch)},
    )
    assert run.returncode == 0, run.output[-2000:]
    assert (run.run_dir / "report.pdf").exists()
    assert [p.name for p in scratch.iterdir() if p.name.startswith("weasyprint")] == []
    assert not (run.run_dir / "report-scratch").exists()
