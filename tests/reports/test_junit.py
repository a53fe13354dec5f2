"""JUnit XML: one case per plan, measurements as properties, failed vs broken kept apart."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def _cases(path):
    root = ET.parse(path).getroot()
    return root, {c.get("name"): c for c in root.iter("testcase")}


def test_counts_and_outcomes(synthetic_run):
    root, cases = _cases(synthetic_run.result.junit)
    suite = root.find("testsuite")
    assert suite.get("tests") == "9"
    assert suite.get("failures") == "3"  # two out-of-spec plans and the conditional one
    assert suite.get("errors") == "2"  # instrument timeout and DUT timeout: broken
    assert suite.get("skipped") == "1"
    assert cases["test_charge_oc_trip"].find("failure").get("type") == "Did not trip"
    assert (
        cases["test_cell_uv_trip_delay[cell16]"].find("failure").get("type") == "Out of tolerance"
    )
    assert cases["test_discharge_ot_threshold"].find("error").get("type") == "Instrument fault"
    assert cases["test_can_heartbeat"].find("error").get("type") == "DUT communication fault"
    assert cases["test_passive_balancing"].find("skipped") is not None
    passed = cases["test_cell_ov_trip_delay[cell1]"]
    assert passed.find("failure") is None and passed.find("error") is None
    assert passed.get("classname") == "test_plans.test_cell_ov"


def test_measurements_are_properties(synthetic_run):
    root, cases = _cases(synthetic_run.result.junit)
    props = {
        p.get("name"): p.get("value")
        for p in cases["test_cell_ov_trip_delay[cell1]"].iter("property")
    }
    assert props["cell_ov_trip_delay.value"] == "2.05"  # SI unit, float noise cut
    assert props["cell_ov_trip_delay.unit"] == "s"
    assert props["cell_ov_trip_delay.low"] == "1.5"
    assert props["cell_ov_trip_delay.high"] == "2.5"
    assert props["cell_ov_trip_delay.decision_rule"] == "guarded"
    assert props["cell_ov_trip_delay.verdict"] == "pass"
    assert float(props["cell_ov_trip_delay.uncertainty"]) > 0
    suite_props = {p.get("name"): p.get("value") for p in root.find("testsuite/properties")}
    assert suite_props["dut_serial"] == "JBD2403150042"
    assert suite_props["run_verdict"] == "FAIL"


def test_a_killed_run_never_shows_green(killed_run):
    _, cases = _cases(killed_run.result.junit)
    assert cases["run completion"].find("error") is not None
    assert "torn" in cases["run completion"].find("error").text
    assert cases["test_cell_ov_trip_delay[cell16]"].find("error").get("type") == "Interrupted"


def test_the_suites_time_is_the_sessions(synthetic_run):
    import xml.etree.ElementTree as ET

    root = ET.parse(synthetic_run.result.junit).getroot()
    assert float(root.get("time")) == float(root[0].get("time")) == 600.0  # run_start..run_end
