"""Comparing two runs: differences beyond the combined uncertainty stand out."""

from __future__ import annotations

import json

from rich.console import Console

from reports.compare import compare_runs, print_comparison


def _run(path, firmware, values):
    path.mkdir(parents=True)
    records = [{"type": "run_start", "run_id": path.name}, {"type": "dut", "firmware": firmware}]
    for name, value, u, verdict in values:
        records.append(
            {"type": "measurement", "test": "t.py::test_x", "name": name, "value": value,
             "unit": "V", "uncertainty": u, "verdict": verdict}
        )  # fmt: skip
    records.append({"type": "run_end"})
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_changes_beyond_combined_uncertainty(tmp_path):
    a = _run(tmp_path / "a", "1.0", [("thr", 3.650, 0.003, "pass"), ("rel", 3.400, 0.003, "pass"),
                                     ("gone", 1.0, 0.1, "pass")])  # fmt: skip
    b = _run(tmp_path / "b", "1.1", [("thr", 3.653, 0.003, "pass"), ("rel", 3.390, 0.003, "fail"),
                                     ("new", 2.0, 0.1, "pass")])  # fmt: skip
    c = compare_runs(a, b)
    rows = {r.name: r for r in c.rows}
    assert rows["thr"].status == "within U"  # 3 mV apart, U of the difference 4.2 mV
    assert rows["rel"].status == "changed beyond U" and rows["rel"].verdict_change == "pass → fail"
    assert rows["gone"].status == "only in A" and rows["new"].status == "only in B"
    assert ("DUT firmware", "1.0", "1.1") in c.identity
    console = Console(record=True, width=120)
    assert print_comparison(c, console) == 1
    text = console.export_text()
    assert "1 changed beyond their combined uncertainty" in text
    assert "-0.0100 ± 0.0042 V" in text


def test_identical_runs_exit_zero(tmp_path):
    a = _run(tmp_path / "a", "1.0", [("thr", 3.650, 0.003, "pass")])
    b = _run(tmp_path / "b", "1.0", [("thr", 3.650, 0.003, "pass")])
    assert print_comparison(compare_runs(a, b), Console(record=True)) == 0


def test_old_runs_without_uncertainty_use_the_resolution(tmp_path):
    a = _run(tmp_path / "a", "1.0", [("thr", 3.650, 0.0, "pass")])
    b = _run(tmp_path / "b", "1.0", [("thr", 3.651, 0.0, "pass")])
    for path in (a, b):  # add the resolution these old records carried
        lines = (path / "results.jsonl").read_text().splitlines()
        lines[2] = json.dumps({**json.loads(lines[2]), "resolution": 0.002})
        (path / "results.jsonl").write_text("\n".join(lines) + "\n")
    (row,) = compare_runs(a, b).rows
    assert row.status == "within U" and 0.0016 < row.u < 0.0017
