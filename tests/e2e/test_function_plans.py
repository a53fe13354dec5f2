"""Balancing, state-of-charge and communications plans, each proven both ways.

Every case is one `rig run` of just the plans concerned, with the simulated BMS changed
as a user would (`--sim-defect`, `--sim-set`, a spec of their own); the healthy runs
pass. Defects that do not disturb each other share a run, each on its own cell.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.e2e.conftest import REPO, RigRun, run_rig

CAN_STATION = "stations/sim-16s-pylon-can.yaml"


def verdicts(run: RigRun, cell: int) -> dict[str, str]:
    """Each measurement's verdict for `cell` in the balancing plan (names lose `cellN_`)."""
    prefix = f"cell{cell}_balance_"
    return {
        m["name"].removeprefix(f"cell{cell}_"): m["verdict"]
        for m in run.measurements()
        if m["name"].startswith(prefix)
    }


def failed(run: RigRun, cell: int) -> set[str]:
    return {n for n, v in verdicts(run, cell).items() if v != "pass"}


def named(run: RigRun) -> dict[str, str]:
    return {m["name"]: m["verdict"] for m in run.measurements()}


HEALTHY = {"balance_current", "balance_other_cells", "balance_reported"}
HEALTHY.add("balance_current_below_start")


def test_balancing_passes_and_each_bleed_defect_fails_its_cell(rig_run):
    run = rig_run(
        "--sim-defect", "no_balance:cell=5",
        "--sim-defect", "open_bleed:cell=9",
        "--sim-defect", "wrong_balance_cell:cell=13,other=14",
        "-k", "balance_current",
    )  # fmt: skip
    assert run.returncode == 1, run.output[-3000:]
    assert {c: failed(run, c) for c in range(1, 17) if failed(run, c)} == {
        5: {"balance_current", "balance_reported"},  # neither bled nor reported
        9: {"balance_current"},  # reported, but the resistor is open
        13: {"balance_current", "balance_other_cells"},  # cell 14 bled instead
    }
    assert set(verdicts(run, 1)) == HEALTHY
    (other,) = run.measurements("cell13_balance_other_cells")
    assert "cell 14 +" in other["note"]
    (bleed,) = run.measurements("cell1_balance_current")
    assert abs(bleed["value"] - 3.50 / 68) < bleed["uncertainty"]  # the truth, within U


def test_a_stuck_bleed_and_an_unreported_mask(rig_run):
    run = rig_run(
        "--sim-defect", "balance_stuck_on:cell=5",
        "--sim-defect", "unreported_balance",
        "-k", "balance_current",
    )  # fmt: skip
    # cell 5 bleeds below the start voltage; in every other cell's turn it is the
    # channel that carries a bleed it should not; no mask is ever reported
    assert failed(run, 5) == {"balance_current_below_start", "balance_reported"}
    for cell in (1, 9, 16):
        assert failed(run, cell) == {"balance_other_cells", "balance_reported"}, cell
    (other,) = run.measurements("cell9_balance_other_cells")
    assert "cell 5 +" in other["note"]


def test_balance_thresholds_both_ways(tmp_path):
    good = run_rig(tmp_path / "good", "-k", "balance_start")
    assert good.returncode == 0, good.output[-3000:]
    assert named(good) == {"balance_start_voltage": "pass", "balance_window": "pass"}
    bad = run_rig(
        tmp_path / "bad",
        "--sim-set", "firmware.balance.start_v=3.43",
        "--sim-set", "firmware.balance.window_v=0.05",
        "-k", "balance_start",
    )  # fmt: skip
    assert named(bad) == {"balance_start_voltage": "fail", "balance_window": "fail"}


def test_soc_counting_passes_and_a_gain_error_fails_the_count(tmp_path):
    good = run_rig(tmp_path / "good", "-k", "soc_charge or soc_idle")
    assert good.returncode == 0, good.output[-3000:]
    assert set(named(good).values()) == {"pass"} and len(named(good)) == 4
    (charge,) = good.measurements("soc_charge_counted_error")
    assert charge["context"]["station_ah"] == 25.0 and charge["waveform"]
    gain = ("--sim-defect", "coulomb_gain:factor=1.1")
    bad = run_rig(tmp_path / "bad", *gain, "-k", "soc_charge or soc_idle")
    assert named(bad) == {
        "soc_charge_counted_error": "fail",  # +2.5 % of capacity
        "soc_charge_soc_error": "fail",
        "soc_full_capacity_error": "pass",
        "soc_idle_drift_error": "pass",
    }


def test_soc_offset_and_capacity_defects(tmp_path):
    offset = run_rig(tmp_path / "offset", "--sim-defect", "coulomb_offset", "-k", "soc_idle")
    assert named(offset) == {"soc_idle_drift_error": "fail"}  # 0.2 A for 2 h: +0.4 %
    capacity = run_rig(tmp_path / "cap", "--sim-defect", "wrong_capacity", "-k", "soc_charge")
    assert named(capacity) == {
        "soc_charge_counted_error": "pass",  # the Ah count is right
        "soc_charge_soc_error": "fail",
        "soc_full_capacity_error": "fail",
    }


def spec_with(tmp_path: Path, **communications: object) -> str:
    data = yaml.safe_load((REPO / "specs" / "jbd-16s-lfp.yaml").read_text())
    data["communications"].update(communications)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def station_with(tmp_path: Path, **dut: object) -> str:
    """The default station with its DUT link's settings changed."""
    data = yaml.safe_load((REPO / "stations" / "sim-16s.yaml").read_text())
    data["dut"].update(dut)
    path = tmp_path / "station.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_communications_pass_and_fail_on_config_identity_and_response(tmp_path):
    good = run_rig(tmp_path / "good", "-k", "communications")
    assert good.returncode == 0, good.output[-3000:]
    assert len(good.measurements()) == 38  # identity 2, configuration 35, timing 1
    bad = run_rig(
        tmp_path / "bad",
        "--spec", spec_with(tmp_path, identity={"firmware": "2.1"}),
        "--sim-set", "firmware.cell_uv.threshold_v=2.45",
        "-k", "identity or configuration",
    )  # fmt: skip
    failed = {n for n, v in named(bad).items() if v != "pass"}
    assert failed == {"identity_firmware", "config_cell_uv_threshold_v"}
    # A unit slow to answer: every exchange of the run waits, so few polls. Twice the
    # 0.3 s limit, so a loaded host's wake-up latency (its U) cannot make it conditional;
    # the station waits for it as a bench would for a slow unit (its 0.5 s would give up).
    slow = run_rig(
        tmp_path / "slow",
        "--station", station_with(tmp_path, timeout_s=2.0),
        "--spec", spec_with(tmp_path, polls=3),
        "--sim-set", "bms.uart.reply_delay_s=0.6",
        "-k", "link_timing",
    )  # fmt: skip
    assert named(slow) == {"link_response_time": "fail"}
    (reply,) = slow.measurements("link_response_time")
    assert reply["value"] >= 0.6


def test_can_broadcast_period_both_ways(tmp_path):
    good = run_rig(tmp_path / "good", "--station", CAN_STATION, "-k", "link_timing")
    assert named(good) == {"can_broadcast_period": "pass", "can_broadcast_gap": "pass"}
    (period,) = good.measurements("can_broadcast_period")
    assert period["value"] == 1.0
    slow = run_rig(
        tmp_path / "slow", "--station", CAN_STATION, "--sim-set", "bms.can.period_s=1.25",
        "-k", "link_timing",
    )  # fmt: skip
    assert named(slow) == {"can_broadcast_period": "fail", "can_broadcast_gap": "pass"}
