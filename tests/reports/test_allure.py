"""Allure results in allure-pytest's own format, rebuilt from the store."""

from __future__ import annotations

import json


def _results(folder):
    out = {}
    for path in folder.glob("*-result.json"):
        data = json.loads(path.read_text())
        out[data["fullName"]] = data
    return out


def _labels(result, name):
    return [label["value"] for label in result["labels"] if label["name"] == name]


def test_one_result_per_plan_with_labels(synthetic_run):
    results = _results(synthetic_run.result.allure)
    assert len(results) == 9
    delay = results["test_plans/test_cell_ov.py::test_cell_ov_trip_delay[cell1]"]
    assert _labels(delay, "epic") == ["IEC 62619", "UL 1973", "UL 2271"]
    assert _labels(delay, "feature") == ["cell_ov"]
    assert _labels(delay, "story") == ["cell_ov_trip_delay"]
    assert delay["status"] == "passed"
    assert delay["parameters"] == [{"name": "case", "value": "cell1"}]
    assert delay["description"].startswith("Step cell 1")


def test_only_verdict_failures_are_failed(synthetic_run):
    results = _results(synthetic_run.result.allure)
    status = {k.split("::")[-1]: v["status"] for k, v in results.items()}
    assert status["test_cell_uv_trip_delay[cell16]"] == "failed"
    assert status["test_charge_oc_trip"] == "failed"
    assert status["test_discharge_ot_threshold"] == "broken"
    assert status["test_can_heartbeat"] == "broken"
    assert status["test_passive_balancing"] == "skipped"
    msg = results["test_plans/test_charge_oc.py::test_charge_oc_trip"]["statusDetails"]["message"]
    assert msg.startswith("Did not trip:")


def test_steps_and_attachments(synthetic_run):
    folder = synthetic_run.result.allure
    results = _results(folder)
    delay = results["test_plans/test_cell_ov.py::test_cell_ov_trip_delay[cell1]"]
    step = delay["steps"][0]
    names = [s["name"] for s in step["steps"]]
    assert names[0].startswith("stimulus: cell_voltage: 3.725 V commanded")
    assert names[1].startswith("measure: cell_ov_trip_delay = 2.050 s ± 0.029 s")
    assert names[2].startswith("verdict: PASS")
    kinds = {a["type"] for a in step["attachments"]}
    assert kinds == {"image/jpg", "application/json"}
    for a in step["attachments"]:
        assert (folder / a["source"]).stat().st_size > 0
    (source,) = [a["source"] for a in step["attachments"] if a["type"] == "application/json"]
    record = json.loads((folder / source).read_text())
    assert record["name"] == "cell_ov_trip_delay" and record["value"] == 2.0500000000000114


def test_transcripts_of_the_plans_own_window(synthetic_run):
    folder = synthetic_run.result.allure
    results = _results(folder)
    test = "test_plans/test_cell_ov.py::test_cell_ov_trip_delay[cell1]"
    attached = {a["name"]: (folder / a["source"]).read_text() for a in results[test]["attachments"]}
    assert set(attached) == {"SCPI transcript", "BMS transcript"}
    assert test in attached["SCPI transcript"]
    assert "charge_oc" not in attached["SCPI transcript"]  # another plan's window
    assert "charger" in attached["SCPI transcript"]  # each line names its instrument
    assert "dd a5 03 00 ff fd 77" in attached["BMS transcript"]


def test_environment_and_categories(synthetic_run):
    folder = synthetic_run.result.allure
    env = dict(
        line.split("=", 1) for line in (folder / "environment.properties").read_text().splitlines()
    )
    assert env["dut.serial"] == "JBD2403150042"
    assert env["dut.firmware"] == "1.0.7"
    assert env["station"] == "bench-3"
    categories = {c["name"]: c for c in json.loads((folder / "categories.json").read_text())}
    for name in ("Did not trip", "Out of tolerance", "Instrument fault", "DUT communication fault"):
        assert name in categories
    assert categories["Instrument fault"]["matchedStatuses"] == ["broken"]
    assert categories["Did not trip"]["matchedStatuses"] == ["failed"]


def test_session_container_holds_every_plan(synthetic_run):
    folder = synthetic_run.result.allure
    (container,) = [json.loads(p.read_text()) for p in folder.glob("*-container.json")]
    assert len(container["children"]) == 9
    assert container["afters"][0]["status"] == "broken"  # a safe-state step failed


def test_a_torn_transcript_line_is_skipped_not_fatal(tmp_path):
    from reports.allure import _read_transcript

    path = tmp_path / "charger.jsonl"
    path.write_text(
        '{"dir": "tx", "data": "VOLT?", "t": 2.0}\n'
        '{"dir": "rx", "data": "+3.3", "t": 1.0}\n'
        '{"dir": "tx", "data": "OUTP'  # the run was killed mid-line
    )
    times, entries = _read_transcript(path)
    assert times == [1.0, 2.0] and [e["data"] for e in entries] == ["+3.3", "VOLT?"]
