"""Function plans (balancing, state of charge), each proven both ways.

Every case is one `rig run` of just the plans concerned, with the simulated BMS changed
as a user would (`--sim-defect`, `--sim-set`, a spec of their own); the healthy runs
pass. Defects that do not disturb each other share a run, each on its own cell.
"""

from __future__ import annotations

from tests.e2e.conftest import RigRun, run_rig


def verdicts(run: RigRun, cell: int) -> dict[str, str]:
    """Each measurement's verdict in the balancing plan of `cell`."""
    return {
        m["name"]: m["verdict"]
        for m in run.measurements()
        if m["test"].endswith(f"test_balance_current[cell{cell}]")
    }


def named(run: RigRun) -> dict[str, str]:
    return {m["name"]: m["verdict"] for m in run.measurements()}


def test_balancing_passes_and_each_bleed_defect_fails_its_cell(rig_run):
    run = rig_run(
        "--sim-defect", "no_balance:cell=5",
        "--sim-defect", "open_bleed:cell=9",
        "--sim-defect", "wrong_balance_cell:cell=13,other=14",
        "-k", "balance_current and (cell1] or cell5] or cell9] or cell13])",
    )  # fmt: skip
    assert run.returncode == 1, run.output[-3000:]
    healthy = {"balance_current", "balance_other_cells", "balance_reported"}
    healthy.add("balance_current_below_start")
    assert verdicts(run, 1) == dict.fromkeys(healthy, "pass")
    fails = {c: {n for n, v in verdicts(run, c).items() if v != "pass"} for c in (5, 9, 13)}
    assert fails == {
        5: {"balance_current", "balance_reported"},  # neither bled nor reported
        9: {"balance_current"},  # reported, but the resistor is open
        13: {"balance_current", "balance_other_cells"},  # cell 14 bled instead
    }
    (other,) = [m for m in run.measurements("balance_other_cells") if "cell13]" in m["test"]]
    assert "cell 14 +" in other["note"]
    (bleed,) = [m for m in run.measurements("balance_current") if "cell1]" in m["test"]]
    assert abs(bleed["value"] - 3.50 / 68) < bleed["uncertainty"]  # the truth, within U


def test_a_stuck_bleed_is_seen_below_start_and_in_the_other_cells(rig_run):
    select = "balance_current and (cell5] or cell9])"
    run = rig_run("--sim-defect", "balance_stuck_on:cell=5", "-k", select)
    assert {n for n, v in verdicts(run, 5).items() if v != "pass"} == {
        "balance_current_below_start"
    }
    assert {n for n, v in verdicts(run, 9).items() if v != "pass"} == {"balance_other_cells"}


def test_an_unreported_mask_fails_only_the_report(rig_run):
    run = rig_run("--sim-defect", "unreported_balance", "-k", "balance_current and cell2]")
    assert {n for n, v in verdicts(run, 2).items() if v != "pass"} == {"balance_reported"}


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
