"""The report model from stores the rig does not write today: old, minimal, or newer."""

from __future__ import annotations

import json

from reports.build import build_reports
from reports.load import load_run
from reports.model import build_report


def _store(path, records, tail=""):
    path.mkdir(parents=True, exist_ok=True)
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


def test_minimal_old_records_and_unknown_types(tmp_path):
    run_dir = _store(
        tmp_path / "old",
        [
            {"type": "run_start", "run_id": "old"},
            {"type": "measurement", "test": "t.py::test_a", "name": "a", "value": 1.0,
             "unit": "V", "low": 0, "high": 2, "verdict": "pass"},
            {"type": "test_result", "test": "t.py::test_a", "outcome": "passed"},
            {"type": "telemetry", "whatever": [1, 2, 3]},
            {"type": "run_end"},
        ],
    )  # fmt: skip
    result = build_reports(run_dir, pdf=False)
    report = result.report
    assert report.verdict == "PASS" and report.complete
    (plan,) = report.plans
    assert plan.protection == "a" or plan.protection == "t"  # from the module name
    assert plan.measurements[0].value == "1" and plan.measurements[0].rule == "simple"
    assert report.record_counts["telemetry"] == 1
    html = result.html.read_text()
    assert "carries no description of its method" in html
    assert "telemetry 1" in html


def test_a_plan_recording_nothing_is_not_a_pass(tmp_path):
    run_dir = _store(
        tmp_path / "empty",
        [
            {"type": "run_start", "run_id": "e"},
            {"type": "test_start", "test": "t.py::test_b", "doc": "Does nothing.",
             "protection": ["cell_ov"], "clause": ["IEC 62619 8.2.2"]},
            {"type": "test_result", "test": "t.py::test_b", "when": "call", "outcome": "passed"},
            {"type": "run_end"},
        ],
    )  # fmt: skip
    report = build_report(load_run(run_dir))
    assert report.verdict == "INCOMPLETE"
    assert report.plans[0].protection == "cell_ov"  # a list of protections from markers
    assert [d.kind for d in report.deviations] == ["No measurement recorded"]


def test_interrupted_run(tmp_path):
    run_dir = _store(
        tmp_path / "int",
        [
            {"type": "run_start", "run_id": "i"},
            {"type": "test_start", "test": "t.py::test_c"},
            {"type": "test_result", "test": "t.py::test_c", "when": "call",
             "outcome": "interrupted", "reason": "interrupted by SIGINT during call"},
            {"type": "run_end", "interrupted": True, "reason": "SIGINT", "verdict": "INTERRUPTED"},
        ],
    )  # fmt: skip
    report = build_report(load_run(run_dir))
    assert report.verdict == "INTERRUPTED" and not report.complete
    kinds = {d.kind: d.detail for d in report.deviations}
    assert kinds["Run interrupted"] == "SIGINT"
    assert "SIGINT" in kinds["Plan interrupted"]


def test_serial_mismatch_and_calibration_flags(tmp_path):
    run_dir = _store(
        tmp_path / "eq",
        [
            {"type": "run_start", "run_id": "q", "started": 1795600000.0},
            {"type": "instrument", "name": "psu", "model": "M", "identity": "V,M,SN2,1",
             "serial_expected": "SN1", "calibration_due": "2026-12-31"},
            {"type": "instrument", "name": "old", "model": "M", "identity": "V,M,SN3,1",
             "calibration_due": "2026-11-24"},
            {"type": "run_end"},
        ],
    )  # fmt: skip
    report = build_report(load_run(run_dir))
    psu, old = report.equipment
    assert psu.calibration_status == "valid" and "SN2" in psu.flags[0] and "SN1" in psu.flags[0]
    assert old.calibration_status == "expired"  # due the day before the run


def test_what_a_report_lacks_before_it_can_be_signed():
    from reports.model import Signatures, draft_reasons

    lab = {"name": "Lab", "signatories": [{"name": "B. Manager", "role": "Head"}]}
    assert draft_reasons(lab, Signatures("A. Tester", "B. Manager")) == []
    assert draft_reasons({}, Signatures("A. Tester", "B. Manager"))[0].startswith("the laboratory")
    missing = draft_reasons(lab, Signatures("", "Someone Else"))
    assert missing[0].startswith("who tested")
    assert "Someone Else is not one of B. Manager" in missing[1]
