"""Published drivers of the station's models, unmodified, through a short session each
against the twin, over the link a lab would use.

PyMeasure's KeysightE36312A is exercised in test_third_party_clients.py. QCoDeS ships
drivers for the Rigol DP832, the N6705B (the N6705C's predecessor, same command set for
what it sends) and the 34465A and DS1074Z; the last two are not run here yet (the twins
do not answer all they ask at start-up: docs/bench.md, "Published drivers").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

pytest.importorskip("qcodes")

from qcodes.instrument_drivers.Keysight import KeysightN6705B
from qcodes.instrument_drivers.rigol import RigolDP832

from simlab.scpi import create_device, make_hardware
from simlab.servers.hislip import HislipServer
from simlab.servers.scpi_tcp import ScpiTcpServer


def _device(model: str, modules: list[str] | None = None):
    hardware = make_hardware(model, modules)

    def physics() -> None:
        for src in hardware.sources.values():
            src.voltage_meas = src.voltage_set if src.output_on else 0.0
            src.current_meas = 0.25 if src.output_on else 0.0

    return create_device(model, hardware, "SIM5", physics)


@pytest.fixture
def dp832() -> Iterator:
    device = _device("Rigol DP832")
    with ScpiTcpServer(device, threading.RLock(), delayed_ack=False) as server:
        # On a raw socket the reply's end is its LF (over USB-TMC or VXI-11 the message
        # END says it): QCoDeS's Rigol base sets no terminator, so it is given one.
        psu = RigolDP832("dp832", server.resource, terminator="\n", timeout=2)
        yield psu, device
        psu.close()


def test_qcodes_rigol_dp832(dp832) -> None:
    psu, device = dp832
    assert psu.IDN()["model"] == "DP832" and psu.IDN()["serial"] == "SIM5"
    psu.ch1.set_voltage(5.0)
    psu.ch1.set_current(1.5)
    psu.ch1.ovp_value(8.8)
    psu.ch1.ovp_state("on")
    psu.ch1.state("on")
    assert psu.ch1.set_voltage() == 5.0 and psu.ch1.set_current() == 1.5
    assert psu.ch1.state() == "ON" and psu.ch2.state() == "OFF"  # the driver passes them on
    assert psu.ch1.voltage() == 5.0 and psu.ch1.current() == 0.25
    assert psu.ch1.ovp_value() == 8.8
    psu.ch1.state("off")
    snapshot = psu.snapshot(update=True)  # every parameter the driver declares, read
    assert snapshot["submodules"]["ch3"]["parameters"]["state"]["value"] == "OFF"
    assert len(device.errors) == 0  # nothing it sent was refused


def test_qcodes_keysight_n6705b_on_the_n6705c_over_hislip() -> None:
    device = _device("Keysight N6705C", ["N6781A"] * 4)
    with HislipServer(device, threading.RLock()) as server:
        # QCoDeS clears the device as it opens: over HiSLIP that is the async DeviceClear
        supply = KeysightN6705B("n6705", server.resource, timeout=2)
        try:
            assert supply.IDN()["model"] == "N6705C"
            ch = supply.ch2
            ch.source_voltage(3.3)
            ch.source_current(0.5)
            ch.enable("on")
            assert ch.source_voltage() == 3.3 and ch.source_current() == 0.5
            assert ch.enable() == "on" and supply.ch1.enable() == "off"
            assert ch.voltage() == 3.3 and ch.current() == 0.25
            assert ch.source_mode() == "voltage"  # the driver maps VOLT
            ch.enable("off")
            assert len(device.errors) == 0
        finally:
            supply.close()
