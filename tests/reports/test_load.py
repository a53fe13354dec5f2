"""Loading a run: a torn last line or a corrupt line is reported, never silently dropped."""

from __future__ import annotations

import json

import pytest

from reports.load import ReportError, load_run, parse_store


def test_torn_last_line_and_corrupt_line_are_reported():
    raw = b'{"type": "run_start"}\nnot json\n{"type": "dut"}\n{"type": "measu'
    records, damage = parse_store(raw)
    assert [r["type"] for r in records] == ["run_start", "dut"]
    assert [(d.line, d.kind) for d in damage] == [(2, "not JSON"), (4, "torn last line")]
    assert damage[1].excerpt == '{"type": "measu'


def test_a_whole_store_has_no_damage(tmp_path):
    (tmp_path / "results.jsonl").write_text(json.dumps({"type": "run_start", "run_id": "x"}) + "\n")
    run = load_run(tmp_path)
    assert run.damage == [] and run.run_id == "x" and len(run.digest) == 64


def test_not_a_run_folder(tmp_path):
    with pytest.raises(ReportError, match="not a run folder"):
        load_run(tmp_path)


def test_a_waveform_outside_the_run_folder_is_refused(tmp_path):
    (tmp_path / "results.jsonl").write_text("")
    with pytest.raises(ValueError, match="outside the run folder"):
        load_run(tmp_path).waveform("../elsewhere.json")
