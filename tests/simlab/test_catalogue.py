"""`python -m simlab params|defects`: every settable path and every defect, none forgotten."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from simlab.firmware.defects import CATALOGUE
from simlab.lab import Lab

ROOT = Path(__file__).resolve().parents[2]
STATION = ROOT / "stations" / "sim-16s.yaml"


def simlab(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simlab", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )


def test_params_lists_every_settable_path_with_default_and_unit():
    proc = simlab("params", "--station", str(STATION), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["path"]: r for r in json.loads(proc.stdout)}
    lab = Lab.from_station_file(STATION)
    assert set(rows) == set(lab.world.parameters())
    for path, row in rows.items():
        assert row["unit"] != "-", f"{path} has no unit"
        lab.world.set(path, row["default"])  # every listed default is settable as shown
    assert rows["firmware.cell_ov.delay_s"]["unit"] == "s"
    assert rows["physics.lfp.r_ohm"]["unit"] == "Ω"


def test_defects_lists_every_defect_with_its_arguments():
    proc = simlab("defects", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    from simlab.faults import CATALOGUE as FAULTS

    assert set(listed) == set(CATALOGUE) | set(FAULTS)
    assert listed["scpi_reboot"]["kind"] == "link fault"
    assert listed["swapped_wiring"]["arguments"] == {"a": 1, "b": 5}
    assert all(entry["breaks"] for entry in listed.values())


def test_rig_sim_params_and_defects_ask_simlab():
    for argv, words in (
        (["params"], "firmware.cell_ov.threshold_v"),
        (["defects"], "no_ov_release"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "rig", "sim", *argv],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert words in proc.stdout
