"""`rig run` end to end on the simulated lab: the default suite, judged against simlab's truth.

The default run covers every cell position. Every trip measurement must carry its
evidence (the power-path instrument, the stimulus read-back, a waveform file), its
bracket and an uncertainty budget, and the bracket must hold the simulation's truth.
"""

from __future__ import annotations

import pytest

from rig.results import read_waveform

ADC_V = 0.0025  # BMS ADC per cell: 1 mV quantisation + 3 sigma of 0.5 mV noise


def test_default_suite_passes(default_run):
    assert default_run.returncode == 0, default_run.output[-3000:]
    ms = default_run.measurements()
    assert all(m["verdict"] == "pass" for m in ms), [m for m in ms if m["verdict"] != "pass"]
    assert "Overall verdict: PASS" in default_run.output
    results = [r for r in default_run.records if r["type"] == "test_result"]
    assert results and all(r["outcome"] == "passed" for r in results)


def test_each_plan_starts_from_the_ready_dut_the_plan_before_left(default_run):
    """Between one plan's recovery and the next plan's start only the safe state is sent
    again: the next plan takes the DUT as that recovery found it (noted `as_of`), and
    the first plan runs the procedure itself."""
    records = default_run.records
    plans = [r["test"] for r in records if r["type"] == "test_start"]
    before = [r for r in records if r["type"] == "recovery" and r["reason"].startswith("before")]
    assert [r["test"] for r in before] == plans
    assert "as_of" not in before[0]
    for previous, record in zip(plans, before[1:], strict=False):
        assert record["as_of"] == f"after {previous.split('::')[-1]}", record
        assert (record["ready"], record["waited_s"]) == (True, 0.0)


def test_a_default_run_lands_in_the_sqlite_file_beside_its_runs_folder(default_run):
    assert default_run.run_dir is not None
    database = default_run.run_dir.parent.parent / "runs.sqlite"
    assert database.is_file()
    measured = len(default_run.measurements())
    assert f"database: run {default_run.run_dir.name} added ({measured} measurements" in (
        default_run.output
    )


def test_every_cell_position_is_tested(default_run):
    for name in ("cell_ov_threshold", "cell_uv_threshold", "cell_ov_trip_delay"):
        cells = sorted(m["context"]["cell"] for m in default_run.measurements(name))
        assert cells == list(range(1, 17)), name
    for name in ("pack_ov_threshold", "pack_uv_release", "pack_ov_trip_delay"):
        assert len(default_run.measurements(name)) == 1


def test_a_default_run_prints_no_warnings_and_fits_80_columns(default_run):
    """The README's first command: nothing from our code, pytest or a dependency warns.
    Each measurement is printed once, as it is taken, under its plan; the summary (from
    the "Run ..." line on) is laid out for an 80-column terminal and does not repeat them."""
    lowered = default_run.output.lower()
    assert "warning" not in lowered and "deprecat" not in lowered, default_run.output
    out = default_run.output
    summary = out[out.index("\nRun ") : out.index("results: ")]  # the paths after it are paths
    assert max(len(line) for line in summary.splitlines()) <= 80, summary
    lines = default_run.output.splitlines()
    thresholds = [ln for ln in lines if " cell_ov_threshold " in ln]
    assert len(thresholds) == 16 and all(ln.lstrip().startswith("PASS ") for ln in thresholds)
    taken = [ln for ln in lines if ln.lstrip().startswith(("PASS ", "FAIL ", "COND "))]
    assert max(len(ln) for ln in taken) <= 80, max(taken, key=len)  # live lines too
    plan = "test_cell_ov.py::test_cell_ov_threshold_and_release[cell1]"
    assert lines.index(plan) < lines.index(thresholds[0])
    assert "PASSED" not in default_run.output and "Traceback" not in default_run.output
    assert len(lines) < len(default_run.measurements()) + 150


def test_long_plans_are_announced_and_the_run_tells_its_simulated_time(default_run):
    """Before the first plan: the long plans with their bench time from the spec (the
    standby plan: two idle timers); after the run, simulated time against wall time."""
    out = default_run.output
    announced = out.index("long plans: ")
    assert announced < out.index("test_balancing.py::")
    line = " ".join(out[announced : out.index("test_balancing.py::")].split())  # wrapped at 80
    assert all(len(ln) <= 80 for ln in out[announced:].splitlines()[:3])
    assert "test_standby_and_sleep 2.2 h" in line and "test_soc_charge 10.0 h" in line
    estimate = default_run.one("duration_estimate")
    assert estimate["total_s"] > 24 * 3600
    assert "\nsimulated " in out and " x real time)" in out


def test_plans_the_bench_or_the_protocol_cannot_serve_are_not_applicable(default_run):
    reasons = {
        r["test"].split("::")[-1]: r["reason"]
        for r in default_run.records
        if r["type"] == "not_applicable"
    }
    assert "the bench cannot carry it: heating" in reasons["test_fet_heating"]
    assert "charge_limits" in reasons["test_inverter_lost_link"]


def test_run_metadata_and_station_checks(default_run):
    start = default_run.one("run_start")
    assert start["station"] == "sim-16s" and start["simulated"]
    instruments = [r for r in default_run.records if r["type"] == "instrument"]
    assert {i["model"] for i in instruments} == {
        "Keysight E36234A",
        "Rigol DL3021",
        "Keysight N6705C",
        "Fluke 5522A",
        "Powertek MC642",
        "Rigol DS1104Z",
        "Keysight DAQ970A",
        "Keysight 33522B",
    }
    assert all(len(i["identity"].split(",")) == 4 for i in instruments)
    dut = default_run.one("dut")
    assert dut["protocol"] == "jbd" and dut["hardware"] and dut["cell_count"] == 16
    checks = [r for r in default_run.records if r["type"] == "station_check"]
    kinds = {c["check"] for c in checks}
    assert {"identity", "modules", "calibration", "cell_count", "pin"} <= kinds
    assert all(c["ok"] for c in checks if c["severity"] == "error"), checks


def test_trip_measurements_carry_their_evidence(default_run):
    run_dir = default_run.run_dir
    trips = [
        m
        for m in default_run.measurements()
        if m["name"].endswith(("_threshold", "_release", "_trip_delay", "_trip_time"))
    ]
    # cells and pack; charge OC and two discharge OC levels; 4 temperatures x 2 NTCs; short
    # circuit trip time and threshold; cell imbalance threshold, release and delay
    assert len(trips) == 16 * 2 * 3 + 2 * 3 + 3 * 2 + 4 * 2 * 3 + 2 + 3
    for m in trips:
        assert m["evidence"] == "instrument"
        assert m["instrument"].split(" ")[0] in ("charger", "load", "scope"), m["instrument"]
        assert m["decision_rule"] == "guarded"
        lo, hi = m["bracket"]
        assert lo <= m["value"] <= hi
        assert m["uncertainty"] > 0 and m["budget"]
        assert m["stimulus"]["readback"] is not None
        wf = read_waveform(run_dir, m["waveform"])
        assert wf.x and all(len(s.values) == len(wf.x) for s in wf.series)
    dut_reports = [m for m in default_run.measurements() if m["evidence"] == "dut"]
    assert {m["name"] for m in dut_reports} >= {"cell_ov_reported_flag", "cell_uv_reported_fet_off"}


def test_every_measured_value_carries_a_budget(default_run):
    """U > 0 from named sources on every value taken from an instrument or a clock; only
    exact values (flags, counts, settings the BMS holds) go without, judged simply."""
    values = [m for m in default_run.measurements() if m["value"] is not None]
    assert len(values) > 450
    for m in values:
        if m["exact"]:
            assert m["decision_rule"] == "simple" and not m["budget"], m["name"]
            assert m["unit"] in ("flag", "fields", "cells") or m["name"].startswith("config_")
            continue
        assert m["uncertainty"] > 0 and m["budget"], m["name"]
        assert all(c["source"].strip() and c["standard"] >= 0 for c in m["budget"]), m
        assert m["decision_rule"] == "guarded", m["name"]


def test_thresholds_bracket_the_truth(default_run):
    fw = default_run.one("sim_truth")["truth"]["firmware"]
    checked = 0
    for protection in ("cell_ov", "cell_uv", "pack_ov", "pack_uv"):
        scale = 16 if protection.startswith("pack") else 1
        for kind, truth in (
            ("threshold", fw[protection]["threshold_v"]),
            ("release", fw[protection]["release_v"]),
        ):
            for m in default_run.measurements(f"{protection}_{kind}"):
                lo, hi = m["bracket"]
                slack = ADC_V * scale
                assert lo - slack <= truth <= hi + slack, (m["name"], m["bracket"], truth)
                assert hi - lo <= 0.002 * scale + 1e-9
                checked += 1
    assert checked == 16 * 4 + 4


def test_delay_brackets_hold_the_logged_trip(default_run):
    truth = default_run.one("sim_truth")
    trips = [e for e in truth["events"] if e["kind"] == "trip"]
    fw = truth["truth"]["firmware"]
    checked = 0
    for protection in ("cell_ov", "cell_uv", "pack_ov", "pack_uv"):
        for m in default_run.measurements(f"{protection}_trip_delay"):
            t_step = m["context"]["t_step"]
            event = next(e for e in trips if e["protection"] == protection and e["t"] >= t_step)
            actual = event["t"] - t_step
            lo, hi = m["bracket"]
            assert lo - 1e-9 <= actual <= hi + 1e-9, (m["name"], m["bracket"], actual)
            assert abs(m["value"] - actual) <= (hi - lo) / 2 + 1e-9
            configured = fw[protection]["delay_s"]
            assert configured <= actual <= configured + fw["scan_period_s"] + 1e-9
            checked += 1
    assert checked == 16 * 2 + 2


def test_same_seed_same_run(rig_run):
    """Noise and spread come from the seed: two runs with one seed measure identically."""
    args = ["--seed", "5", "--sim-set", "firmware.adc_noise_v=0.002", "-k", "threshold and cell1]"]
    first, second = rig_run(*args), rig_run(*args)
    values = [[m["value"] for m in run.measurements()] for run in (first, second)]
    assert values[0] == values[1] and len(values[0]) == 8  # OV and UV: 4 each
    events = [run.one("sim_truth")["events"] for run in (first, second)]
    assert events[0] == events[1]


@pytest.mark.parametrize("defect", ["ignored_cell:cell=5", "stuck_charge_fet", "ov_threshold_high"])
def test_a_firmware_defect_fails_its_plan(rig_run, defect):
    run = rig_run("--sim-defect", defect, "-k", "cell_ov and cell5]")
    assert run.returncode != 0, run.output[-3000:]
    assert any(m["verdict"] == "fail" for m in run.measurements("cell_ov_threshold"))
