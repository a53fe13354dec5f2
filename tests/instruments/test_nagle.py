"""The Nagle stall: a checked set is a command then `SYST:ERR?`, two small writes with no
read between. With Nagle's algorithm on, the second waits for the instrument's delayed
ACK (about 40 ms on Linux). pyvisa-py cannot set VI_ATTR_TCPIP_NODELAY, so the driver
sets TCP_NODELAY on the session's socket; simlab delays its ACKs as instruments do, so
the stall shows here if the fix ever goes away.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import pyvisa

from instruments.registry import open_instrument
from simlab.scpi import create_device, make_hardware
from simlab.servers.scpi_tcp import ScpiTcpServer

CHECKED_SETS = 20
STALL_S = 0.040  # Linux's delayed-ACK timer floor


@pytest.fixture
def delayed_ack_server() -> Iterator[ScpiTcpServer]:
    hardware = make_hardware("Keysight E36234A")
    device = create_device("Keysight E36234A", hardware, "SIM1", lambda: None)
    with ScpiTcpServer(device, threading.RLock()) as server:  # delayed ACKs: the default
        assert server.delayed_ack
        yield server


def test_driver_socket_has_nodelay(delayed_ack_server):
    """Deterministic: the socket pyvisa-py writes through has Nagle off."""
    drv = open_instrument("Keysight E36234A", delayed_ack_server.resource, "charger")
    try:
        sock = drv._socket()
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        drv.close()


def test_the_server_really_delays_acks(delayed_ack_server):
    """Control: a plain pyvisa-py client (Nagle on) stalls on every checked set, so the
    next test would see the stall if the driver lost its fix. A lower bound: load on the
    machine can only make it slower."""
    rm = pyvisa.ResourceManager("@py")
    raw = rm.open_resource(delayed_ack_server.resource, read_termination="\n")
    raw.write_termination = "\n"
    try:
        t0 = time.perf_counter()
        for i in range(5):
            raw.write(f"VOLT {i},(@1)")
            assert raw.query("SYST:ERR?").startswith("+0")
        assert time.perf_counter() - t0 >= 5 * STALL_S * 0.75
    finally:
        raw.close()
        rm.close()


def test_checked_sets_do_not_stall(delayed_ack_server):
    """20 checked sets cost 20 x 40 ms = 0.8 s with the stall; allow half of that, and take
    the best of three tries so a loaded machine cannot fail it."""
    drv = open_instrument("Keysight E36234A", delayed_ack_server.resource, "charger")
    try:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for i in range(CHECKED_SETS):
                drv.set_voltage(1, 1.0 + i * 0.01)
            best = min(best, time.perf_counter() - t0)
        assert best < CHECKED_SETS * STALL_S / 2, f"{CHECKED_SETS} checked sets took {best:.3f} s"
    finally:
        drv.close()
