"""A new bench's first hour, against a served simlab standing in for it: `rig station scan`
finds every instrument and the BMS and drafts a station file, `rig station check` passes
on the draft (and its dry run enables nothing), and `rig run` runs a plan on it.

simlab's sockets are on ports nothing announces, so the scan is given them, as a person
gives the addresses of LAN instruments that are not discoverable (docs/bench.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from rig.simlink import SimControl
from tests.e2e.conftest import REPO, run_rig


@dataclass
class Said:
    returncode: int
    stdout: str


def _rig(*args: str) -> Said:
    """`rig station ...` in this process (the CLI's own function, its console captured):
    a process per command would add an interpreter start to each."""
    from typer.testing import CliRunner

    from rig.cli import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Said(result.exit_code, result.output)


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    """The default spec with a shorter settle time: the served lab runs under the wall
    clock, and its BMS scans every 0.1 s (the pin check waits settle_s four times)."""
    doc = yaml.safe_load((REPO / "specs/jbd-16s-lfp.yaml").read_text())
    doc["test_conditions"]["settle_s"] = 0.3
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The default station served under the wall clock (its BMS still booting: the check
    waits for it, as it would for a bench just switched on)."""
    lab = subprocess.Popen(
        [sys.executable, "-m", "rig", "sim", "serve", "--station", "stations/sim-16s.yaml"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        endpoints = json.loads(lab.stdout.readline())
        control = SimControl(endpoints["control"])
        endpoints["control_client"] = control
        yield endpoints
        control.close()
    finally:
        lab.terminate()
        lab.wait(timeout=10)


@pytest.fixture(scope="module")
def draft(served, tmp_path_factory) -> tuple[Path, Said]:
    path = tmp_path_factory.mktemp("bench") / "bench.yaml"
    scan = _rig(
        "station",
        "scan",
        "--no-discover",  # pyvisa-py's discovery broadcasts on the LAN: not from a test
        "--no-serial",
        "--no-can",
        *served["instruments"].values(),
        "--bms-port",
        served["dut"]["port"],
        "--write",
        str(path),
    )
    return path, scan


def test_scan_finds_every_instrument_and_the_bms(served, draft) -> None:
    path, scan = draft
    assert scan.returncode == 0, scan.stdout
    n = len(served["instruments"])
    assert f"{n} instruments recognised of {n}" in scan.stdout
    assert f"BMS: jbd on {served['dut']['port']} (16 cells)" in scan.stdout
    text = path.read_text()
    doc = yaml.safe_load(text)
    assert doc["simulated"] is False
    models = {name: inst["model"] for name, inst in doc["instruments"].items()}
    served_models = yaml.safe_load((REPO / "stations/sim-16s.yaml").read_text())["instruments"]
    assert sorted(models.values()) == sorted(i["model"] for i in served_models.values())
    assert doc["instruments"]["cellsim_a"]["modules"] == ["N6781A"] * 4
    assert len(doc["wiring"]["cells"]) == doc["dut"]["cell_count"] == 16
    assert doc["dut"] == {"protocol": "jbd", "port": served["dut"]["port"], "cell_count": 16}
    for decided in ("limits:", "safe_state:", "cells:", "thermistors:", "digitizer:", "short:"):
        line = next(line for line in text.splitlines() if line.strip().startswith(decided))
        assert "# DECIDE" in line, line
    # offered, not wired: a bench on cell emulators power-cycles the BMS through them
    assert any(line.strip().startswith("# dut_supply: ") for line in text.splitlines())
    assert "dut_supply" not in doc["wiring"]


def test_check_passes_on_the_draft_and_a_plan_runs(served, draft, spec, tmp_path) -> None:
    path, _ = draft
    check = _rig("station", "check", "--station", str(path), "--spec", str(spec))
    assert check.returncode == 0, check.stdout
    assert "FAIL" not in check.stdout
    for line in ("cells", "charger", "load", "thermistors", "digitizer"):
        assert any(
            r.startswith(f"│{line}") and "exercise" in r and "PASS" in r
            for r in check.stdout.splitlines()
        ), line
    assert "all 16 cell positions read by the BMS where they are wired" in check.stdout
    outputs = served["control_client"].call("outputs")
    assert outputs["safe"], outputs  # the check leaves the bench in its safe state
    run = run_rig(
        tmp_path / "runs", "--station", str(path), "--spec", str(spec), "-k", "test_identity"
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "Overall verdict: PASS" in run.output


def test_a_dry_run_enables_nothing_and_a_bad_address_fails(served, draft, tmp_path) -> None:
    path, _ = draft
    control = served["control_client"]
    before = control.call("outputs")
    dry = _rig("station", "check", "--station", str(path), "--dry-run")
    assert dry.returncode == 0, dry.stdout
    assert "not run" in dry.stdout and "dry run: no output enabled" in dry.stdout
    after = control.call("outputs")
    assert {k: v for k, v in after.items() if k != "t"} == {
        k: v for k, v in before.items() if k != "t"
    }
    doc = yaml.safe_load(path.read_text())
    doc["instruments"]["load"]["resource"] = "TCPIP::127.0.0.1::1::SOCKET"  # nothing there
    doc["instruments"]["scope"]["serial"] = "DS1ZA000000000"  # another unit
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc, sort_keys=False))
    check = _rig("station", "check", "--station", str(broken))
    assert check.returncode == 1, check.stdout
    rows = check.stdout.splitlines()
    assert any(r.startswith("│load") and "link" in r and "FAIL" in r for r in rows)
    assert any(r.startswith("│scope") and "serial" in r and "FAIL" in r for r in rows)
    # every other instrument was still checked
    assert any(r.startswith("│daq") and "error queue" in r for r in rows)
    assert _rig("station", "check", "--station", str(tmp_path / "none.yaml")).returncode == 2


def test_a_missing_vendor_visa_is_named_before_anything_is_opened(tmp_path) -> None:
    doc = yaml.safe_load((REPO / "stations/sim-16s.yaml").read_text())
    doc["visa_library"] = "@ivi"  # no vendor VISA on this machine
    station = tmp_path / "ivi.yaml"
    station.write_text(yaml.safe_dump(doc, sort_keys=False))
    said = _rig("station", "check", "--station", str(station))
    assert said.returncode == 2
    assert "visa_library: '@ivi' does not load" in said.stdout
    assert "NI-VISA" in said.stdout and "'@py'" in said.stdout
