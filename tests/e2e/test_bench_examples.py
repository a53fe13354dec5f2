"""The example station files for real benches (stations/bench/) open against a served simlab
with the same instruments: `rig sim serve --write-station` gives the addresses, the
example keeps everything else (models, serials, modules, line settings, wiring, limits),
and `rig station check --dry-run` must pass on it. The serial instruments are served on
ptys (`--transport serial`), so the examples' line settings are the ones in use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rig.cli import app
from tests.e2e.conftest import REPO

EXAMPLES = {
    "stations/bench/bench-16s.yaml": "stations/sim-16s.yaml",
    "stations/bench/bench-16s-n83624.yaml": "stations/sim-16s-n83624.yaml",
}


def test_every_example_is_validated() -> None:
    present = {f"stations/bench/{p.name}" for p in (REPO / "stations/bench").glob("*.yaml")}
    assert present == set(EXAMPLES)


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_station_opens_on_a_served_lab(example, tmp_path) -> None:
    served_file = tmp_path / "served.yaml"
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rig",
            "sim",
            "serve",
            "--station",
            EXAMPLES[example],
            "--transport",
            "serial",
            "--write-station",
            str(served_file),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        endpoints = json.loads(lab.stdout.readline())
        assert "error" not in endpoints, endpoints
        served = yaml.safe_load(served_file.read_text())
        doc = yaml.safe_load((REPO / example).read_text())
        assert doc["simulated"] is False
        assert set(doc["instruments"]) == set(served["instruments"])
        for name, inst in doc["instruments"].items():
            assert inst["model"] == served["instruments"][name]["model"]
            inst["resource"] = served["instruments"][name]["resource"]
        doc["dut"]["port"] = served["dut"]["port"]
        bench = tmp_path / Path(example).name
        bench.write_text(yaml.safe_dump(doc, sort_keys=False))
        result = CliRunner().invoke(
            app,
            ["station", "check", "--station", str(bench), "--dry-run"],
            env={"COLUMNS": "200"},
        )
        assert result.exit_code == 0, result.output
        assert "FAIL" not in result.output
        assert "ASRL/dev/pts/" in result.output  # the serial instruments on their ptys
    finally:
        lab.terminate()
        lab.wait(timeout=10)
