"""Issue #6's cases, both ways: each lie the old verdicts told is now caught.

Each case changes the simulated bench or firmware exactly as a user would (`--sim-set`,
`--sim-defect`) and selects the few plans it concerns, so the suite stays fast.
"""

from __future__ import annotations

import pytest

NEVER_PASS = ("fail", "conditional")


def test_welded_charge_fet_is_caught_on_the_power_path(rig_run):
    run = rig_run("--sim-defect", "welded_charge_fet", "-k", "cell_ov and cell3]")
    assert run.returncode != 0
    assert run.verdicts("cell_ov_threshold") == ["fail"]
    assert run.verdicts("cell_ov_trip_delay") == ["fail"]
    # the BMS's own word is right: it says it opened the FET and raised the flag
    assert run.verdicts("cell_ov_reported_flag") == ["pass"]
    assert run.verdicts("cell_ov_reported_fet_off") == ["pass"]
    (m,) = run.measurements("cell_ov_threshold")
    assert "charger current never stopped" in m["note"]


def test_welded_discharge_fet_is_caught_on_the_power_path(rig_run):
    run = rig_run("--sim-defect", "welded_discharge_fet", "-k", "cell_uv and cell3]")
    assert run.returncode != 0
    assert run.verdicts("cell_uv_threshold") == ["fail"]
    assert run.verdicts("cell_uv_trip_delay") == ["fail"]
    assert run.verdicts("cell_uv_reported_fet_off") == ["pass"]


def test_an_unreported_flag_fails_only_the_report(rig_run):
    run = rig_run(
        "--sim-defect", "unreported_flag:protection=cell_ov", "-k", "cell_ov_threshold and cell3]"
    )
    assert run.returncode != 0
    assert run.verdicts("cell_ov_reported_flag") == ["fail"]
    assert run.verdicts("cell_ov_threshold") == ["pass"]
    assert run.verdicts("cell_ov_release") == ["pass"]
    assert run.verdicts("cell_ov_reported_fet_off") == ["pass"]


def test_swapped_wiring_stops_the_run_naming_the_positions(rig_run):
    run = rig_run("--sim-defect", "swapped_wiring:a=1,b=5", "-k", "cell1]")
    assert run.returncode != 0
    assert run.measurements() == []
    (pin,) = [r for r in run.records if r["type"] == "station_check" and r["check"] == "pin"]
    assert not pin["ok"]
    assert "position 1 (cellsim_a:1) is read by the BMS as cell 5" in pin["message"]
    assert "position 5 (cellsim_b:1) is read by the BMS as cell 1" in pin["message"]
    assert "read by the BMS as cell 5" in run.output


@pytest.mark.parametrize(
    ("setting", "name", "allowed"),
    [
        # U is about 2.7 mV: 7 mV inside the band passes, 1.5 mV outside never does
        ("firmware.cell_ov.threshold_v=3.632", "cell_ov_threshold", ("pass",)),
        ("firmware.cell_ov.threshold_v=3.6235", "cell_ov_threshold", NEVER_PASS),
        ("firmware.cell_ov.threshold_v=3.6775", "cell_ov_threshold", NEVER_PASS),
        ("firmware.cell_uv.threshold_v=2.4735", "cell_uv_threshold", NEVER_PASS),
        # delays: scan 0.1 s, poll 0.05 s, U about 0.03 s
        ("firmware.cell_ov.delay_s=1.6", "cell_ov_trip_delay", ("pass",)),
        ("firmware.cell_ov.delay_s=1.35", "cell_ov_trip_delay", NEVER_PASS),
        ("firmware.cell_uv.delay_s=2.45", "cell_uv_trip_delay", NEVER_PASS),
    ],
    ids=[
        "ov-inside",
        "ov-just-below-low",
        "ov-just-above-high",
        "uv-just-below-low",
        "delay-inside",
        "delay-short",
        "delay-long",
    ],
)
def test_near_limit_values_are_never_a_plain_pass(rig_run, setting, name, allowed):
    run = rig_run("--sim-set", setting, "-k", f"{name.rsplit('_', 1)[0]} and cell2]")
    verdicts = run.verdicts(name)
    assert verdicts and set(verdicts) <= set(allowed), (verdicts, run.output[-2000:])
    assert (run.returncode == 0) == (allowed == ("pass",))


def test_a_missing_release_fails_only_the_plan_it_breaks(rig_run):
    run = rig_run("--sim-defect", "no_ov_release", "-k", "(cell_ov or cell_uv) and cell1]")
    outcomes = {
        r["test"].split("::")[-1]: r["outcome"]
        for r in run.records
        if r["type"] == "test_result" and r["when"] == "call"
    }
    assert outcomes == {
        "test_cell_ov_threshold_and_release[cell1]": "failed",
        "test_cell_ov_trip_delay[cell1]": "passed",
        "test_cell_uv_threshold_and_release[cell1]": "passed",
        "test_cell_uv_trip_delay[cell1]": "passed",
    }, run.output[-3000:]
    failed = [m["name"] for m in run.measurements() if m["verdict"] != "pass"]
    assert failed == ["cell_ov_release"]
    recoveries = [r for r in run.records if r["type"] == "recovery"]
    assert any(r["method"] == "power_cycle" and r["ready"] for r in recoveries)
    assert all(r["ready"] for r in recoveries)
