"""Clients written by others against the twins, over a real socket.

PyMeasure ships a driver for the E36312A; its own class, unmodified, must work against
the simlab twin. For the other models, the exact program messages the vendors' guides
print as examples are sent through plain pyvisa.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import pyvisa
from pymeasure.instruments.keysight import KeysightE36312A

from simlab.scpi import create_device, make_hardware
from simlab.servers.scpi_tcp import ScpiTcpServer


def _serve(model: str) -> ScpiTcpServer:
    hardware = make_hardware(model)

    def physics() -> None:
        for src in hardware.sources.values():
            src.voltage_meas = src.voltage_set if src.output_on else 0.0
            src.current_meas = 0.1 if src.output_on else 0.0
        for load in hardware.loads.values():
            load.voltage_meas = 24.0
            load.current_meas = load.current_set if load.input_on else 0.0

    return ScpiTcpServer(create_device(model, hardware, "SIM7", physics), threading.RLock())


@pytest.fixture
def served() -> Iterator:
    servers: list[ScpiTcpServer] = []

    def start(model: str) -> ScpiTcpServer:
        servers.append(_serve(model))
        servers[-1].start()
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def rm() -> Iterator[pyvisa.ResourceManager]:
    manager = pyvisa.ResourceManager("@py")
    yield manager
    manager.close()


def test_pymeasure_keysight_e36312a_driver(served) -> None:
    server = served("Keysight E36312A")
    psu = KeysightE36312A(
        server.resource, visa_library="@py", read_termination="\n", write_termination="\n"
    )
    try:
        assert psu.id.startswith("Keysight Technologies,E36312A,SIM7,")
        psu.ch_1.voltage_setpoint = 5.5
        psu.ch_1.current_limit = 2.0
        psu.ch_2.voltage_setpoint = 20
        psu.ch_1.output_enabled = True
        assert psu.ch_1.voltage_setpoint == 5.5
        assert psu.ch_1.current_limit == 2.0
        assert psu.ch_2.voltage_setpoint == 20.0
        assert psu.ch_1.output_enabled is True
        assert psu.ch_2.output_enabled is False
        assert psu.ch_1.voltage == 5.5
        assert psu.ch_1.current == 0.1
        assert psu.check_errors() == []
        psu.write("VOLT 7, (@1)")  # past output 1's 6.18 V: the twin refuses it like the unit
        assert psu.check_errors() == [[-222, '"Data out of range"']]  # PyMeasure keeps quotes
        assert psu.ch_1.voltage_setpoint == 5.5
    finally:
        psu.adapter.close()


def _open(rm: pyvisa.ResourceManager, server: ScpiTcpServer):
    inst = rm.open_resource(server.resource, read_termination="\n", write_termination="\n")
    inst.timeout = 2000
    return inst


def test_ngi_guide_examples(served, rm) -> None:
    """Program messages as NGI's SCPI guide prints them (section 5 and 7)."""
    inst = _open(rm, served("NGI N83624"))
    try:
        assert inst.query("*IDN?") == "NGI,N83624,0,V1.00"
        inst.write("OUTPut1:ONOFF 0")
        inst.write("OUTPut1:MODE 0")
        inst.write("SOURce1:VOLTage 5.0")
        inst.write("SOURce1:OUTCURRent 1000")
        inst.write("SOURce1:RANGe 3")
        inst.write("OUTPut1:ONOFF 1")
        inst.write("SOUR2:VOLT 2.54;OUTCURR 1000")  # `;` keeps the SOUR2 path
        inst.write("SOURce:VOLTage 5(@3,4,5)")
        inst.write("OUTP:ONOFF 1(@2,3,4,5)")
        assert inst.query("SOUR1:VOLT?") == "5"
        assert inst.query("SOUR2:OUTCURR?") == "1000"
        assert inst.query("MEASure:VOLTage?(@1,2)") == "5,2.54"
        assert inst.query("MEAS1:CURR?") == "100"  # mA
        assert inst.query("MEAS2:POW?") == "0.254"
        assert inst.query("OUTP1:STAT?") == "1"
        assert inst.query("SYST:ERR?") == '+0,"No error"'
        inst.write("SOUR1:VOLT 7")
        inst.write("OUTP1:MODE 3")  # SOC mode: not modelled, refused
        assert inst.query("SYST:ERR?") == '-222,"Data out of range"'
        assert inst.query("SYST:ERR?") == '-221,"Settings conflict"'
    finally:
        inst.close()


def test_rigol_dp832_guide_examples(served, rm) -> None:
    inst = _open(rm, served("Rigol DP832"))
    try:
        inst.write(":OUTP:OVP:VAL CH1,8.8")
        assert inst.query(":OUTP:OVP:VAL? CH1") == "8.800"
        inst.write(":OUTP:OCP:VAL CH1,3")
        assert inst.query(":OUTP:OCP:VAL? CH1") == "3.0000"
        inst.write(":INST:NSEL 2")
        inst.write(":SOUR:VOLT 12")
        inst.write(":APPL CH1,5,1")
        inst.write(":OUTP CH1,ON")
        assert inst.query(":OUTP? CH1") == "ON"
        assert inst.query(":SOUR2:VOLT?") == "12.000"
        assert inst.query(":MEAS:VOLT? CH1") == "5.000"
        assert inst.query(":MEAS:ALL? CH1") == "5.000,0.1000,0.500"
        assert inst.query(":SYST:ERR?") == '+0,"No error"'
    finally:
        inst.close()


def test_siglent_quick_start_examples(served, rm) -> None:
    inst = _open(rm, served("Siglent SPD3303X"))
    try:
        assert inst.query("*IDN?") == "Siglent Technologies,SPD3303X,SIM7,1.01.01.02.05,V3.0"
        inst.write("CH1:VOLT 12.5")
        inst.write("CH1:CURR 1.5")
        inst.write("INST CH2")
        inst.write("VOLT 5.0")
        inst.write("OUTP CH1,ON")
        assert inst.query("CH2:VOLT?") == "5.000"
        assert inst.query("INST?") == "CH2"
        assert inst.query("MEAS:VOLT? CH1") == "12.500"
        assert inst.query("SYST:STAT?") == "0x0014"
        assert inst.query("SYST:ERR?") == "0 No Error"
    finally:
        inst.close()


def test_siglent_sdl_and_keysight_el_examples(served, rm) -> None:
    sdl = _open(rm, served("Siglent SDL1020X"))
    el = _open(rm, served("Keysight EL34143A"))
    try:
        for line in (":SOUR:FUNC CURR", ":SOUR:CURR 2.0", ":INP ON"):
            sdl.write(line)
        assert float(sdl.query(":MEAS:CURR?")) == 2.0
        assert sdl.query(":SOUR:INP:STAT?") == "1"
        for line in ("FUNC CURR,(@1)", "CURR 2.5,(@1)", "INP ON,(@1)"):
            el.write(line)
        assert float(el.query("MEAS:CURR? (@1)")) == 2.5
        assert el.query("FUNC? (@1)") == "CURR"
        assert sdl.query("SYST:ERR?") == el.query("SYST:ERR?") == '+0,"No error"'
    finally:
        sdl.close()
        el.close()
