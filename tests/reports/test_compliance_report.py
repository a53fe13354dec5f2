"""The compliance report, checked from the PDF's own text and the files written beside it."""

from __future__ import annotations

import re

from pypdf import PdfReader

from reports.model import STATEMENT


def _flat(pages: list[str]) -> str:
    return re.sub(r"\s+", " ", " ".join(pages))


def test_every_page_carries_the_report_id_and_page_n_of_m(synthetic_run, synthetic_pages):
    report = synthetic_run.result.report
    total = len(synthetic_pages)
    assert total == synthetic_run.result.pages >= 3
    for n, text in enumerate(synthetic_pages, start=1):
        # its own number and no other (the numbers are stamped from one strip)
        assert re.findall(r"Page \d+ of \d+", text) == [f"Page {n} of {total}"]
        assert text.count(report.id) >= 1
        assert "JBD2403150042" in text  # the DUT's serial in the footer


def test_item_lab_dates_and_spec_are_identified(synthetic_pages):
    text = _flat(synthetic_pages)
    for expected in (
        "JBD-SP16S020-L16S-100A",  # model as read from the DUT
        "JBD2403150042",
        "1.0.7",  # firmware as read from the DUT
        "Example Battery Lab, 1 Test Street, Springfield",
        "Lab 2, bench 3",
        "2026-11-25",
        "specs/jbd-16s-lfp.yaml",
        "IEC 62619",
        "UL 1973",
        "IEC 62133-2",
        "UN 38.3",
        "Simulated station",
    ):
        assert expected in text, expected


def test_every_plan_and_its_outcome_is_listed(synthetic_run, synthetic_pages):
    text = _flat(synthetic_pages)
    for plan in synthetic_run.expected["plans"]:
        name = plan.test.split("::")[-1].removeprefix("test_")
        story, _, case = name.partition("[")
        assert story in text, story  # the plan's section
        assert case.rstrip("]") in text, name  # and its case
        assert plan.doc.split(",")[0][:40] in text  # the method, from test_start.doc
    for word in ("PASS", "FAIL", "ERROR", "SKIPPED", "CONDITIONAL"):
        assert word in text
    assert "Overall verdict: FAIL" in text


def test_equipment_with_identity_and_calibration(synthetic_pages):
    text = _flat(synthetic_pages)
    for expected in ("Keysight E36234A", "MY59000101", "Rigol DL3021", "DL3A204800938",
                     "DSOX1204G", "2027-06-30", "no date in the station file"):  # fmt: skip
        assert expected in text, expected
    assert re.search(r"2025-03-31\s*EXPIRED", text)
    assert "DL3021,DL3A204800938" in text.replace(" ", "")  # *IDN?, wrapped in its cell


def test_measurements_are_rounded_to_their_uncertainty(synthetic_run, synthetic_pages):
    text = _flat(synthetic_pages)
    html = synthetic_run.result.html.read_text()
    assert "2.0500000000000114" not in text + html
    assert "3.4000000000000004" not in text + html
    assert "2.050 0.029 s" in text  # value and U (k=2) to the same decimal place
    assert "180.00 0.29 µs" in text  # a short-circuit time shown in µs, not 0.00018 s
    assert "[2.000, 2.050]" in text  # the bracket
    assert "guarded" in text and "simple" in text


def test_failures_come_first(synthetic_run):
    report = synthetic_run.result.report
    outcomes = [p.outcome for p in report.plans]
    assert outcomes[:2] == ["failed", "failed"]
    assert outcomes.index("error") < outcomes.index("passed")
    assert outcomes[-1] == "passed"
    assert [p.title for p in report.findings][:2] == [
        "cell_uv_trip_delay[cell16]",
        "charge_oc_trip",
    ]


def test_findings_first_then_sections_in_run_order(synthetic_run, synthetic_pages):
    """The failures lead page one, each pointing at its section; the sections follow the
    order the plans ran in, so a section's number never depends on a later plan."""
    report = synthetic_run.result.report
    ran = [p.test for p in report.run_order if p.outcome != "not run"]
    in_sections = [p.test for sec in report.sections for p in sec.cases]
    assert sorted(in_sections, key=ran.index) == in_sections  # run order, not worst first
    assert [sec.number for sec in report.sections] == list(range(1, len(report.sections) + 1))
    text = _flat(synthetic_pages)
    first_finding = report.findings[0]
    bare = text.replace(" ", "")  # a narrow column wraps a long plan name at its "_"
    assert f"{first_finding.title}§7.{first_finding.section}" in bare
    findings_at = text.index("Findings: plans that did not pass")
    assert findings_at < text.index("7 Results")
    sec = next(s for s in report.sections if first_finding in s.cases)
    assert f"7.{sec.number} {sec.story}" in text


def test_findings_say_what_kind_of_failure(synthetic_run, synthetic_pages):
    text = _flat(synthetic_pages)
    for category in ("Out of tolerance", "Did not trip", "Instrument fault",
                     "DUT communication fault", "Conditional"):  # fmt: skip
        assert category in text, category
    findings = {p.title: p.category for p in synthetic_run.result.report.findings}
    assert findings["charge_oc_trip"] == "Did not trip"
    assert findings["discharge_ot_threshold"] == "Instrument fault"
    assert findings["can_heartbeat"] == "DUT communication fault"


def test_deviations_skips_and_signatures(synthetic_pages):
    text = _flat(synthetic_pages)
    assert "spec has no balancing section" in text
    assert "Safe state not fully reached" in text and "load off" in text
    assert "parameter set: firmware.cell_uv.delay_s=2.6" in text
    assert "calibration expired before the test" in text
    assert "Not applicable to this DUT" in text and "balancing_flags" in text
    assert "Tested by: A. Tester" in text  # recorded in run_start
    assert "Approved by: B. Manager" in text  # from the command line
    assert _flat([STATEMENT]) in text
    assert "End of report" in text


def test_a_plot_for_every_trip_measurement(synthetic_run):
    result = synthetic_run.result
    trips = [m for m in result.report.measurements if m.waveform]
    assert len(trips) == 5
    html = result.html.read_text()
    for m in trips:
        assert m.plot is not None and (synthetic_run.run_dir / m.plot).stat().st_size > 10_000
        assert f'id="fig-{m.figure}"' in html
    assert html.count('<img src="data:image/jpeg;base64,') == len(trips)  # inside the file
    drawn = set()  # images a page's content actually draws, not just its resources
    for page in PdfReader(result.pdf).pages:
        xobjects = page["/Resources"]["/XObject"]
        for name in re.findall(rb"/([\w.+-]+) Do", page.get_contents().get_data()):
            ref = xobjects.raw_get("/" + name.decode())
            if xobjects[("/" + name.decode())]["/Subtype"] == "/Image":
                drawn.add(ref.idnum)  # the page heads are forms, stamped on every page
    assert len(drawn) == len(trips)


def test_killed_run_is_reported_incomplete_with_what_was_measured(killed_run, killed_pages):
    text = _flat(killed_pages)
    assert "Overall verdict: INCOMPLETE" in text
    assert "Incomplete report" in text
    assert "torn" in text  # the torn last line is reported, not dropped
    assert "did not end normally" in text
    for name in ("cell_ov_trip_delay", "cell_ov_threshold", "cell_ov_release"):
        assert name in text
    assert "NOT FINISHED" in text  # the plan that was cut off
    assert "Plans not run" in text and "7 of 10 selected" in text
    assert "short_circuit_trip" in text  # named, though it never started
    assert "NOT RUN" in text
    assert not killed_run.result.report.complete
