"""Function plans (balancing), each proven both ways.

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
