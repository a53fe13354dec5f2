"""The campaign's plans where the default bench does not show them: the flags a Daly BMS
can raise for its own wiring faults and imbalance, and a CAN BMS's limits along its
state-of-charge table (a pack of 10 Ah, so the drive takes simulated hours, not days).

The default station's runs (tests/e2e/test_rig_run.py) and the defect matrix
(tests/e2e/test_defect_matrix.py: every campaign defect fails its plan, every
configuration passes without one) cover the rest.
"""

from __future__ import annotations

import yaml

from tests.e2e.conftest import REPO, run_rig


def test_a_daly_bms_flags_its_open_lead_ntc_faults_and_imbalance(tmp_path):
    run = run_rig(
        tmp_path / "runs",
        "--station", "stations/sim-16s-daly.yaml",
        "-k", "wiring or imbalance_trip_delay",
    )  # fmt: skip
    assert run.returncode == 0, run.output[-3000:]
    flags = {m["name"]: m["value"] for m in run.measurements() if m["unit"] == "flag"}
    assert flags["sense_lead5_reported_flag"] == 1.0
    assert flags["ntc2_open_reported_flag"] == 1.0 and flags["ntc1_short_reported_flag"] == 1.0
    assert flags["cell_imbalance_reported_flag"] == 1.0


def test_a_can_bms_derates_on_its_state_of_charge(tmp_path):
    spec = yaml.safe_load((REPO / "specs" / "jbd-16s-lfp.yaml").read_text())
    spec["dut"]["capacity_ah"] = 10.0
    spec["inverter_limits"]["soc_points_pct"] = [92.0]
    path = tmp_path / "small-pack.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    run = run_rig(
        tmp_path / "runs",
        "--station", "stations/sim-16s-pylon-can.yaml",
        "--spec", str(path),
        "--sim-set", "firmware.full_capacity_ah=10",
        "--sim-set", "firmware.initial_soc=0.5",
        "-k", "inverter_soc",
    )  # fmt: skip
    assert run.returncode == 0, run.output[-3000:]
    values = {m["name"]: m["value"] for m in run.measurements()}
    assert values["inverter_at_soc92_charge_limit"] == 20.0  # above 90 %: 20 A of charge
    assert values["inverter_at_soc92_discharge_limit"] == 100.0
    assert "test_inverter_soc_derating" in run.output and "long plans: 1" in run.output
