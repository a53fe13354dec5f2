"""A query interrupted before its reply was read must not poison the next exchange."""

import threading

import pytest

from instruments.power_supplies.keysight_e36234a import KeysightE36234A
from simlab.scpi import create_device, make_hardware
from simlab.servers.scpi_tcp import ScpiTcpServer


@pytest.fixture
def psu():
    hardware = make_hardware("Keysight E36234A")
    device = create_device("Keysight E36234A", hardware, "MY0001", solve=lambda: None)
    with ScpiTcpServer(device, threading.RLock()) as server:
        driver = KeysightE36234A(server.resource, transcript=[])
        yield driver
        driver.close()


def test_stale_reply_is_discarded(psu):
    psu.write("MEAS:VOLT? (@1)")  # as if Ctrl-C struck between write and read
    assert psu.identity().model == "E36234A"
    psu.set_output(1, False)  # the checked set reads SYST:ERR? cleanly too
    assert psu.output_enabled(1) is False
    discarded = [e["data"] for e in psu.transcript if e["dir"] == "rx-discarded"]
    assert discarded == ["+0.00000000E+00"]
