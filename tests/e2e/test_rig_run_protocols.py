"""`rig run` per BMS protocol: the default suite passes through each protocol's simulated
BMS, and a firmware defect is caught through each. (JBD: tests/e2e/test_rig_run.py.)"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import run_rig

STATIONS = {
    "daly": "stations/sim-16s-daly.yaml",
    "pylontech_can": "stations/sim-16s-pylon-can.yaml",
}
# The trips are seen on the power path, so a BMS that reports once a second (CAN) is
# timed as exactly as one that answers at once; only its own report may lag (by up to
# the spec's `reporting.report_timeout_s`). Each protocol runs cells 1 and 16, the pack
# and the balancing plans, to keep the suite fast; tests/e2e/test_rig_run.py covers every
# cell on JBD.
SELECT = ["-k", "cell1] or cell16] or pack or reporting or balanc"]


@pytest.fixture(scope="module", params=sorted(STATIONS))
def protocol_run(request, tmp_path_factory):
    protocol = request.param
    runs = tmp_path_factory.mktemp(f"default-{protocol}") / "runs"
    return protocol, run_rig(runs, "--station", STATIONS[protocol], *SELECT)


def test_default_suite_passes(protocol_run):
    protocol, run = protocol_run
    assert run.returncode == 0, run.output[-3000:]
    assert run.one("dut")["protocol"] == protocol
    measurements = run.measurements()
    assert len(measurements) >= 30
    assert all(m["verdict"] == "pass" for m in measurements)


@pytest.mark.parametrize("protocol", sorted(STATIONS))
def test_defect_is_caught_through_the_protocol(tmp_path, protocol):
    run = run_rig(
        tmp_path / "runs",
        "--station",
        STATIONS[protocol],
        "--sim-defect",
        "no_ov_release",
        "-k",
        "cell_ov_threshold and cell1]",
    )
    assert run.returncode != 0, run.output[-3000:]
    failed = {m["name"] for m in run.measurements() if m["verdict"] == "fail"}
    assert failed == {"cell_ov_release"}, run.output[-3000:]


@pytest.mark.parametrize("protocol", sorted(STATIONS))
def test_function_plans_through_the_protocol(tmp_path, protocol):
    """State of charge and communications through each protocol (balancing runs in the
    default selection above). The SoC step is cut to 1 Ah here: a CAN BMS broadcasts
    every second of simulated time, and a 20 h default SoC run costs a minute of wall
    time on that station. The inverter's SoC derating (a CAN plan driving the pack to
    its SoC points) is tests/e2e/test_campaign_plans.py's."""
    import yaml

    from tests.e2e.conftest import REPO

    data = yaml.safe_load((REPO / "specs" / "jbd-16s-lfp.yaml").read_text())
    data["state_of_charge"].update(charge_ah=1.0, idle_s=1200)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(data))
    run = run_rig(
        tmp_path / "runs",
        "--station", STATIONS[protocol],
        "--spec", str(spec),
        "-k", "(soc or communications) and not inverter",
    )  # fmt: skip
    assert run.returncode == 0, run.output[-3000:]
    assert all(m["verdict"] == "pass" for m in run.measurements())
    dropped = [r for r in run.records if r["type"] == "not_applicable"]
    not_applicable = {r["test"].split("::")[-1] for r in dropped}
    expected = {"daly": {"test_protection_configuration"}}.get(
        protocol, {"test_protection_configuration", "test_soc_idle"}
    )
    assert expected <= not_applicable
    names = {m["name"] for m in run.measurements()}
    assert {"soc_charge_soc_error", "soc_discharge_soc_error", "identity_fields_missing"} <= names
    timing = "link_response_time" if protocol == "daly" else "can_broadcast_period"
    assert timing in names
