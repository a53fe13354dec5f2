"""The `rig` command line: `sim serve` for outside tools, and `run` refusing bad files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pyvisa
import serial

REPO = Path(__file__).resolve().parents[2]


def test_sim_serve_prints_endpoints_and_stops_on_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "rig", "sim", "serve", "--sim-set", "firmware.cell_ov.delay_s=1.3"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        endpoints = json.loads(proc.stdout.readline())
        assert set(endpoints["instruments"]) == {
            "charger",
            "load",
            "awg",
            "cellsim_a",
            "cellsim_b",
            "cellsim_c",
            "cellsim_d",
            "ntc_1",
            "ntc_2",
            "scope",
            "daq",
        }
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(
            endpoints["instruments"]["load"], read_termination="\n", write_termination="\n"
        )
        assert inst.query("*IDN?").startswith("RIGOL TECHNOLOGIES,DL3021,")
        inst.close()
        with serial.Serial(endpoints["dut"]["port"], 9600, timeout=1) as port:
            port.write(bytes.fromhex("DD A5 05 00 FF FB 77"))
            assert port.read(4)[:2] == b"\xdd\x05"
        assert endpoints["control"].startswith("127.0.0.1:")
        from rig.simlink import SimControl

        control = SimControl(endpoints["control"])
        assert control.call("get", path="firmware.cell_ov.delay_s")["value"] == 1.3
        control.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_run_refuses_a_bad_station_file_by_name_and_field(tmp_path):
    bad = tmp_path / "bench.yaml"
    text = (REPO / "stations" / "sim-16s.yaml").read_text()
    bad.write_text(text.replace("cell_voltage: {min: 0.0, max: 4.0}", "cell_voltage: {min: 0.0}"))
    proc = subprocess.run(
        [sys.executable, "-m", "rig", "run", "--station", str(bad), "--runs-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert str(bad) in proc.stdout and "limits.cell_voltage.max" in proc.stdout
    assert not list(tmp_path.glob("*/results.jsonl"))
