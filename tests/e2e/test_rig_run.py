"""`rig run` end to end on the simulated lab: passes in spec, fails out of spec.

Each out-of-spec case changes the simulated firmware through --sim-set or --sim-defect,
exactly as a user would, and checks that the matching measurement fails and the run
exits non-zero. The in-spec run checks its measured values against simlab's ground truth.
"""

from __future__ import annotations

import pytest

STEP_V = 0.002  # specs/jbd-16s-lfp.yaml threshold_step_v
POLL_S = 0.05  # specs/jbd-16s-lfp.yaml poll_period_s
ADC_V = 0.0025  # BMS ADC: 1 mV quantisation + 3 sigma of 0.5 mV noise


def test_default_suite_passes(default_run):
    assert default_run.returncode == 0, default_run.output[-3000:]
    ms = default_run.measurements()
    assert len(ms) >= 16
    assert all(m["verdict"] == "pass" for m in ms)
    assert "Overall verdict: PASS" in default_run.output


def test_run_metadata(default_run):
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
    }
    assert all(len(i["identity"].split(",")) == 4 for i in instruments)
    dut = default_run.one("dut")
    assert dut["protocol"] == "jbd" and dut["hardware"] and dut["cell_count"] == 16
    assert default_run.one("run_end")["failed_measurements"] == 0


def test_thresholds_agree_with_truth(default_run):
    fw = default_run.one("sim_truth")["truth"]["firmware"]
    for name, truth in [
        ("cell_ov_threshold", fw["cell_ov"]["threshold_v"]),
        ("cell_ov_release", fw["cell_ov"]["release_v"]),
        ("cell_uv_threshold", fw["cell_uv"]["threshold_v"]),
        ("cell_uv_release", fw["cell_uv"]["release_v"]),
    ]:
        for m in default_run.measurements(name):
            assert m["resolution"] == pytest.approx(STEP_V)
            assert abs(m["value"] - truth) <= m["resolution"] + ADC_V, (name, m["value"], truth)


def test_trip_delays_agree_with_truth(default_run):
    truth = default_run.one("sim_truth")
    scan = truth["truth"]["firmware"]["scan_period_s"]
    trips = [e for e in truth["events"] if e["kind"] == "trip"]
    for name, protection in [("cell_ov_trip_delay", "cell_ov"), ("cell_uv_trip_delay", "cell_uv")]:
        configured = truth["truth"]["firmware"][protection]["delay_s"]
        for m in default_run.measurements(name):
            t_step = m["context"]["t_step"]
            event = next(e for e in trips if e["protection"] == protection and e["t"] >= t_step)
            actual = event["t"] - t_step
            # the poll that saw the trip is at most one poll period after it
            assert 0 <= m["value"] - actual < m["resolution"] + 1e-9, (m["value"], actual)
            # and the firmware tripped within one scan of its configured delay
            assert configured <= actual <= configured + scan + 1e-9


@pytest.mark.parametrize(
    ("args", "failing"),
    [
        (
            ["--sim-set", "firmware.cell_ov.delay_s=3.0", "-k", "cell_ov_trip_delay"],
            "cell_ov_trip_delay",
        ),
        (
            ["--sim-set", "firmware.cell_uv.delay_s=1.0", "-k", "cell_uv_trip_delay"],
            "cell_uv_trip_delay",
        ),
        (
            ["--sim-set", "firmware.cell_ov.threshold_v=3.70", "-k", "cell_ov_threshold"],
            "cell_ov_threshold",
        ),
        (["--sim-defect", "no_ov_release", "-k", "cell_ov_threshold"], "cell_ov_release"),
        (["--sim-defect", "ignored_cell:cell=16", "-k", "cell_uv_threshold"], "cell_uv_threshold"),
        (["--sim-defect", "stuck_charge_fet", "-k", "cell_ov_trip_delay"], "cell_ov_trip_delay"),
    ],
    ids=[
        "ov-delay-long",
        "uv-delay-short",
        "ov-threshold-high",
        "no-ov-release",
        "ignored-cell",
        "stuck-fet",
    ],
)
def test_out_of_spec_firmware_fails(rig_run, args, failing):
    run = rig_run(*args)
    assert run.returncode != 0, run.output[-3000:]
    failed = [m for m in run.measurements() if m["verdict"] == "fail"]
    assert failing in {m["name"] for m in failed}, run.output[-3000:]
    assert "Overall verdict: FAIL" in run.output


def test_same_seed_same_run(rig_run):
    """Noise and spread come from the seed: two runs with one seed measure identically."""
    args = ["--seed", "5", "--sim-set", "firmware.adc_noise_v=0.004", "-k", "threshold and cell1"]
    first, second = rig_run(*args), rig_run(*args)
    values = [[m["value"] for m in run.measurements()] for run in (first, second)]
    assert values[0] == values[1] and len(values[0]) == 12  # cell1 and cell16: 6 each
    events = [run.one("sim_truth")["events"] for run in (first, second)]
    assert events[0] == events[1]
