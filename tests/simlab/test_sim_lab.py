"""The whole simulated lab from the sim station file, over its real transports."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import serial

from simlab.lab import Lab
from simlab.servers.uart_jbd import request_frame
from simlab.station_file import parse_station

ROOT = Path(__file__).resolve().parents[2]
STATION = ROOT / "stations" / "sim-16s.yaml"


def scpi(resource: str, *commands: str) -> list[str]:
    """Raw-socket SCPI, the bytes pyvisa-py would send (queries return their lines)."""
    _, host, port, _ = resource.split("::")
    out = []
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        f = sock.makefile("rwb")
        for cmd in commands:
            f.write(cmd.encode() + b"\n")
            f.flush()
            if "?" in cmd:
                out.append(f.readline().decode().strip())
        # Writes are not acknowledged: ask *OPC? so they have run before the caller goes on
        # (otherwise a later control-channel advance can overtake them).
        f.write(b"*OPC?\n")
        f.flush()
        assert f.readline().strip() == b"1"
    return out


def control(address: str, **req) -> dict:
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        f = sock.makefile("rwb")
        f.write(json.dumps(req).encode() + b"\n")
        f.flush()
        return json.loads(f.readline())


def test_station_file_is_parsed():
    spec = parse_station(STATION)
    assert set(spec.instruments) == {
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
    assert spec.thermistors == {1: ("ntc_1", 1), 2: ("ntc_2", 1)}
    assert spec.short is None and spec.faults["ntc_2_open"].target == 2  # no kA path
    assert spec.digitizer is not None and spec.digitizer.measures == "sense_current"
    assert [p.measures for p in spec.digitizer.also] == ["discharge_current"]
    assert spec.shunt is not None and spec.shunt.ref == ("awg", 1)
    assert spec.shunt.attenuation == 20 and spec.shunt.positive == "discharge"
    assert spec.charger == ("charger", 1) and spec.load == ("load", 1)
    assert spec.cells[1] == ("cellsim_a", 1) and spec.cells[16] == ("cellsim_d", 4)
    assert spec.cell_count == 16 and spec.seed == 1 and spec.protocol == "jbd"


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        (("wiring:\n  charger: charger:1", "wiring:\n  charger: nosuch:1"), "wiring.charger"),
        (("    16: cellsim_d:4", "    16: cellsim_d:1"), "wiring.cells.16"),
        (("    16: cellsim_d:4", "    17: cellsim_d:4"), "wiring.cells.17"),
        (("protocol: jbd", "protocol: acme"), "dut.protocol"),
        (("  seed: 1", "  seed: one"), "simlab.seed"),
        (("    model: Rigol DL3021\n", ""), "instruments.load.model"),
        (('channel: "scope:1"', 'channel: "daq:1"'), "wiring.digitizer.channel"),
        (("action: short_ntc, target: 2", "action: short_ntc, target: 3"), "wiring.switch"),
        (("action: open_ntc, target: 2", "action: burn, target: 2"), "wiring.switch"),
        (("channel: awg:1", "channel: scope:2"), "wiring.shunt.channel"),
        (("attenuation: 20 ", "attenuation: 0.5 "), "wiring.shunt.attenuation"),
    ],
)
def test_bad_station_content_names_file_and_key(tmp_path, patch, key):
    text = STATION.read_text()
    assert patch[0] in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(patch[0], patch[1]))
    with pytest.raises(ValueError, match=f"bad.yaml: {key}"):
        Lab.from_station_file(bad)


def test_bad_channel_and_set_are_reported(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(STATION.read_text().replace("1: cellsim_a:1", "1: cellsim_a:5"))
    with pytest.raises(ValueError, match=r"bad.yaml: wiring.cells.1: .*no channel 5"):
        Lab.from_station_file(bad)
    with pytest.raises(ValueError, match=r"^firmware.nope=1: unknown parameter"):
        Lab.from_station_file(STATION, sets={"firmware.nope": 1})
    with_set = tmp_path / "with_set.yaml"
    with_set.write_text(STATION.read_text() + "\n  set: {firmware.nope: 1}\n")
    with pytest.raises(ValueError, match=r"with_set.yaml: simlab.set.firmware.nope: unknown"):
        Lab.from_station_file(with_set)


def test_seed_sets_and_defects_from_arguments_and_station(tmp_path):
    lab = Lab.from_station_file(
        STATION, seed=5, sets={"firmware.cell_ov.delay_s": 1.3}, defects=["slow_ov_delay"]
    )
    assert lab.seed == 5 and lab.get("firmware.cell_ov.delay_s") == 1.3
    assert lab.truth()["defects"] == ["slow_ov_delay:factor=2.0"]
    assert Lab.from_station_file(STATION).seed == 1
    station = tmp_path / "s.yaml"
    station.write_text(
        STATION.read_text().replace(
            "simlab:\n  seed: 1",
            "simlab:\n  set:\n    firmware.scan_period_s: 0.2\n  defects: [ignored_cell]",
        )
    )
    lab = Lab.from_station_file(station)
    assert lab.seed == 0 and lab.get("firmware.scan_period_s") == 0.2
    assert lab.truth()["defects"] == ["ignored_cell:cell=16"]


def test_end_to_end_over_the_wire():
    with Lab.from_station_file(STATION) as lab:
        ep = lab.endpoints
        assert ep["seed"] == 1 and ep["dut"]["protocol"] == "jbd"
        assert ep["dut"]["port"].startswith("/dev/")
        assert ep["control"].startswith("127.0.0.1:")
        idns = {n: scpi(r, "*IDN?")[0] for n, r in ep["instruments"].items()}
        assert "E36234A" in idns["charger"] and "DL3021" in idns["load"]
        assert "N6705C" in idns["cellsim_a"]
        for name in ("cellsim_a", "cellsim_b", "cellsim_c", "cellsim_d"):
            cmds = [c for ch in range(1, 5) for c in (f"VOLT 3.3,(@{ch})", f"OUTP ON,(@{ch})")]
            scpi(ep["instruments"][name], *cmds)
        scpi(ep["instruments"]["cellsim_a"], "VOLT 3.7,(@1)", "OUTP ON,(@1)")
        assert control(ep["control"], op="advance", dt=3.0) == {"ok": True, "t": 3.0}
        with serial.Serial(ep["dut"]["port"], 9600, timeout=1) as port:
            port.write(request_frame(0xA5, 0x03))
            reply = port.read(4)
            reply += port.read(reply[3] + 3)
        data = reply[4:-3]
        assert struct.unpack(">H", data[16:18])[0] & 1  # cell OV bit
        assert data[20] & 1 == 0  # charge FET off
        tripped = {e["protection"] for e in lab.events() if e["kind"] == "trip"}
        assert "cell_ov" in tripped  # (beside the sensor fault of its unpowered NTC emulators)
        assert lab.truth()["state"]["cells_v"][0] == 3.7


def test_pyvisa_client(tmp_path):
    pyvisa = pytest.importorskip("pyvisa")
    with Lab.from_station_file(STATION) as lab:
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(
            lab.endpoints["instruments"]["charger"],
            read_termination="\n",
            write_termination="\n",
            timeout=2000,
        )
        try:
            assert "E36234A" in inst.query("*IDN?")
        finally:
            inst.close()
            rm.close()


def test_serve_subprocess_prints_one_line_and_stops_on_sigterm():
    cmd = [
        sys.executable,
        "-m",
        "simlab",
        "serve",
        "--station",
        str(STATION),
        "--set",
        "firmware.cell_ov.delay_s=1.3",
        "--defect",
        "slow_ov_delay",
        "--seed",
        "9",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    try:
        endpoints = json.loads(proc.stdout.readline())
        assert endpoints["pid"] == proc.pid and endpoints["seed"] == 9
        assert set(endpoints) == {"instruments", "links", "dut", "control", "seed", "pid", "clock"}
        assert endpoints["clock"] == "wall x1"  # left to itself: a live pack
        got = control(endpoints["control"], op="get", path="firmware.cell_ov.delay_s")
        assert got == {"ok": True, "value": 1.3}
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out == b""  # nothing after the one line


def test_serve_watch_stdin_stops_on_eof():
    cmd = [sys.executable, "-m", "simlab", "serve", "--station", str(STATION), "--watch-stdin"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        assert json.loads(proc.stdout.readline())["pid"] == proc.pid
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_reports_a_bad_station(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        textwrap.dedent("""\
        instruments: {}
        wiring: {}
        dut: {protocol: jbd, cell_count: 0}
    """)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "simlab", "serve", "--station", str(bad)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "dut.cell_count" in json.loads(proc.stdout)["error"]  # the one line, as an error
    assert b"dut.cell_count" in proc.stderr
