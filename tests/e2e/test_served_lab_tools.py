"""The served lab for other people's BMS tools: `python -m simlab serve` with a station
of each protocol, and an open-source client for that BMS pointed at the printed port.

JBD: bmstools (reads basic info, cells and the whole EEPROM in factory mode, opening and
closing the port around every exchange). Daly: dalybms (python-daly-bms). JK (GPS port):
mpp-solar's JKSERIAL protocol and its JK serial port type. CAN: python-can's
socketcand interface with the repo's DBC. The emulated cells are switched on over SCPI and
time is moved through the control channel, as the rig would.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import can
import cantools
import pytest
import serial

from rig.simlink import SimControl, SimlabProcess

REPO = Path(__file__).resolve().parents[2]


def scpi(resource: str, *commands: str) -> None:
    host, port = resource.split("::")[1:3]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for command in commands:
            sock.sendall(command.encode() + b"\n")
        sock.sendall(b"*OPC?\n")
        assert sock.recv(64).strip() == b"1"


@pytest.fixture
def served(tmp_path) -> Iterator:
    labs: list[tuple[SimlabProcess, SimControl]] = []

    def serve(station: str, *sets: str) -> tuple[dict, SimControl]:
        lab = SimlabProcess(REPO / "stations" / station, sets=list(sets), log=tmp_path / "lab.log")
        endpoints = lab.start()
        control = SimControl(endpoints["control"])
        labs.append((lab, control))
        for name, resource in endpoints["instruments"].items():
            if name.startswith("cellsim"):
                scpi(resource, *[f"VOLT 3.3,(@{ch})" for ch in range(1, 5)], "OUTP ON,(@1:4)")
            # thermistor emulators at 25 °C, terminals connected (in standby an NTC reads open)
            if name == "ntc_1":
                scpi(resource, "OUT 10000 OHM", "OPER")
            if name == "ntc_2":
                scpi(resource, "RES 10000", "OUTP ON")
        control.advance(1.0)
        return endpoints, control

    yield serve
    for lab, control in labs:
        control.close()
        lab.stop()


def test_bmstools_reads_the_jbd_twin(served):
    from bmstools.jbd import JBD

    endpoints, _control = served("sim-16s.yaml", "firmware.cell_ov.threshold_v=3.62")
    jbd = JBD(serial.Serial(endpoints["dut"]["port"]), timeout=1)
    basic = jbd.readBasicInfo()
    assert basic["cell_cnt"] == 16 and basic["cap_pct"] == 50 and basic["ntc0"] == 25.0
    assert basic["pack_mv"] == pytest.approx(16 * 3300, abs=20)
    cells = jbd.readCellInfo()
    assert [cells[f"cell{i}_mv"] for i in range(16)] == [pytest.approx(3300, abs=3)] * 16
    eeprom = jbd.readEeprom()
    assert eeprom["covp"] == 3620 and eeprom["cuvp"] == 2500 and eeprom["covp_delay"] == 2
    assert eeprom["cell_cnt"] == 16 and eeprom["device_name"].startswith("JBD")


def test_dalybms_reads_the_daly_twin(served):
    from dalybms import DalyBMS

    endpoints, _control = served("sim-16s-daly.yaml")
    daly = DalyBMS(request_retries=3, address=4)
    daly.connect(endpoints["dut"]["port"])
    try:
        assert daly.get_soc()["total_voltage"] == pytest.approx(52.8, abs=0.1)
        assert daly.get_soc()["soc_percent"] == 50.0
        assert daly.get_cell_voltages() == {i: pytest.approx(3.3, abs=0.002) for i in range(1, 17)}
        assert daly.get_temperatures() == {1: 25, 2: 25}
        assert daly.get_errors() == []
        assert daly.get_mosfet_status()["charging_mosfet"] is True
    finally:
        daly.disconnect()


def test_mppsolar_reads_the_jk_twin(served):
    """mpp-solar reads the JK GPS-port twin as `mpp-solar -p PORT -P JKSERIAL -b 115200
    --porttype jkserial -c getBalancerData` would (its JK serial port type: the port's
    name does not say jkserial). Its positional parser reads 16 cells and the tags in the
    protocol description's order."""
    from mppsolar.devices.mppsolar import mppsolar

    endpoints, _control = served("sim-16s-jk-gps.yaml", "firmware.cell_ov.threshold_v=3.62")
    device = mppsolar(
        port=endpoints["dut"]["port"], protocol="JKSERIAL", baud=115200, porttype="jkserial"
    )
    reply = device.run_command("getBalancerData")
    assert reply["Cells_connected"][0] == 16
    cells = [reply[f"Voltage_Cell{i:02d}"][0] for i in range(1, 17)]
    assert cells == [pytest.approx(3.3, abs=0.003)] * 16
    assert reply["Battery_Voltage"][0] == pytest.approx(52.8, abs=0.05)
    assert reply["Percent_Remain"][0] == 50
    assert reply["Battery_T1"][0] == 25 and reply["Battery_T2"][0] == 25
    assert reply["Charge Enabled"][0] == 1 and reply["Discharge Enabled"][0] == 1
    assert reply["Capacity Setting"][0] == 100


def test_python_can_reads_the_can_twin_through_socketcand(served):
    endpoints, control = served("sim-16s-pylon-can.yaml")
    bus_at = endpoints["dut"]["can"]
    assert bus_at["interface"] == "socketcand" and bus_at["host"] == "127.0.0.1"
    db = cantools.database.load_file(str(REPO / "dut_drivers" / "pylontech" / "pylontech.dbc"))
    bus = can.Bus(
        interface="socketcand", channel=bus_at["channel"], host=bus_at["host"], port=bus_at["port"]
    )
    try:
        control.advance(2.0)
        seen: dict[int, dict] = {}
        msg = bus.recv(timeout=10)
        while msg is not None:
            seen[msg.arbitration_id] = db.decode_message(msg.arbitration_id, msg.data)
            msg = bus.recv(timeout=0.5)
    finally:
        bus.shutdown()
    assert {0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E} <= set(seen)
    assert seen[0x356]["PackVoltage"] == pytest.approx(52.8, abs=0.05)
    assert seen[0x355]["StateOfCharge"] == 50
    assert seen[0x35C]["ChargeEnable"] == 1


def test_a_tool_connected_on_the_endpoints_line_reads_a_live_safe_pack():
    """As a new user would: serve the default station left to itself (wall clock), and
    the moment the endpoints line is printed, ask the BMS with an open-source JBD tool.
    The bench is at its safe state (cells at 3.30 V, NTCs at 25 °C) and the BMS has booted
    and measured it: no zeros, no −40 °C, FETs on."""
    import json
    import subprocess
    import sys

    from bmstools.jbd import JBD

    proc = subprocess.Popen(
        [sys.executable, "-m", "simlab", "serve", "--station", "stations/sim-16s.yaml"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        endpoints = json.loads(proc.stdout.readline())
        jbd = JBD(serial.Serial(endpoints["dut"]["port"]), timeout=1)
        basic = jbd.readBasicInfo()
        cells = jbd.readCellInfo()
        assert [cells[f"cell{i}_mv"] for i in range(16)] == [pytest.approx(3300, abs=3)] * 16
        assert basic["ntc0"] == pytest.approx(25.0, abs=0.2)
        assert basic["ntc1"] == pytest.approx(25.0, abs=0.2)
        assert basic["chg_fet_en"] and basic["dsg_fet_en"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
