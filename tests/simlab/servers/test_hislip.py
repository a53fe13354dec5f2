"""simlab's HiSLIP server, byte by byte, and through pyvisa-py's HiSLIP client."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest
import pyvisa

from simlab.faults import ScpiFaultState
from simlab.scpi import create_device, make_hardware
from simlab.servers import hislip
from simlab.servers.hislip import HislipServer, pack


def _device(model: str = "Keysight E36234A"):
    hardware = make_hardware(model)

    def solve() -> None:
        for src in hardware.sources.values():
            src.voltage_meas = src.voltage_set if src.output_on else 0.0

    return create_device(model, hardware, "SIM42", solve)


@pytest.fixture
def server() -> Iterator[HislipServer]:
    before = threading.active_count()
    with HislipServer(_device(), threading.RLock()) as srv:
        yield srv
    assert threading.active_count() == before  # every connection's thread joined


@pytest.fixture(scope="module")
def rm() -> Iterator[pyvisa.ResourceManager]:
    manager = pyvisa.ResourceManager("@py")
    yield manager
    manager.close()


def _open(rm: pyvisa.ResourceManager, srv: HislipServer):
    return rm.open_resource(
        srv.resource, read_termination="\n", write_termination="\n", timeout=2000
    )


def _read(sock: socket.socket) -> tuple[int, int, int, bytes]:
    head = b""
    while len(head) < 16:
        head += sock.recv(16 - len(head))
    prologue, kind, control, parameter, length = hislip.HEADER.unpack(head)
    assert prologue == b"HS"
    payload = b""
    while len(payload) < length:
        payload += sock.recv(length - len(payload))
    return kind, control, parameter, payload


def _connect(srv: HislipServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", srv.port), timeout=2)


def _session(srv: HislipServer) -> tuple[socket.socket, socket.socket, int]:
    """Open a session by hand, as IVI-6.1 §6.1 lays it out."""
    sync = _connect(srv)
    # Initialize: version 1.0, vendor "xx", payload the sub-address
    sync.sendall(struct.pack("!2sBBBB2sQ", b"HS", 0, 0, 1, 0, b"xx", 7) + b"hislip0")
    kind, control, parameter, payload = _read(sync)
    assert (kind, control, payload) == (hislip.INITIALIZE_RESPONSE, 0, b"")
    assert parameter >> 16 == 0x0100  # protocol version 1.0
    session_id = parameter & 0xFFFF
    asyn = _connect(srv)
    asyn.sendall(pack(hislip.ASYNC_INITIALIZE, 0, session_id))
    kind, _, vendor, _ = _read(asyn)
    assert kind == hislip.ASYNC_INITIALIZE_RESPONSE and vendor.to_bytes(4, "big")[:2] == b"SL"
    return sync, asyn, session_id


def test_pyvisa_py_opens_queries_clears_and_reads_the_status_byte(server, rm) -> None:
    inst = _open(rm, server)
    try:
        assert server.resource.startswith("TCPIP::127.0.0.1::hislip0,")
        assert inst.query("*IDN?").startswith("Keysight Technologies,E36234A,SIM42,")
        inst.write("VOLT 12.5,(@1)")
        inst.write("OUTP 1,(@1)")
        assert float(inst.query("MEAS:VOLT? (@1)")) == 12.5
        inst.write("VOLT 99,(@1)")  # out of range: the error bit shows in the status byte
        assert inst.read_stb() & 0x04
        inst.clear()  # AsyncDeviceClear + DeviceClearComplete
        assert inst.query("SYST:ERR?") == '-222,"Data out of range"'
        assert inst.read_stb() & 0x04 == 0
    finally:
        inst.close()


def test_a_message_in_several_data_packets_runs_at_its_data_end(server) -> None:
    sync, asyn, _ = _session(server)
    with sync, asyn:
        asyn.sendall(pack(hislip.ASYNC_MAX_MSG_SIZE, 0, 0, struct.pack("!Q", 256)))
        kind, _, _, payload = _read(asyn)
        assert kind == hislip.ASYNC_MAX_MSG_SIZE_RESPONSE and len(payload) == 8
        sync.sendall(pack(hislip.DATA, 0, 0xFFFFFF00, b"*ID"))
        sync.sendall(pack(hislip.DATA_END, 0, 0xFFFFFF02, b"N?\n"))
        kind, control, message_id, payload = _read(sync)
        # the reply is one DataEnd carrying the MessageID of the message that caused it
        assert (kind, control, message_id) == (hislip.DATA_END, 0, 0xFFFFFF02)
        assert payload.startswith(b"Keysight Technologies,E36234A,SIM42,")
        assert payload.endswith(b"\n")
        sync.sendall(pack(hislip.DATA_END, 0, 0xFFFFFF04, b"VOLT 3,(@1)\n"))  # no reply
        sync.sendall(pack(hislip.DATA_END, 0, 0xFFFFFF06, b"VOLT? (@1)\n"))
        assert _read(sync)[2:] == (0xFFFFFF06, b"+3.00000000E+00\n")


def test_unknown_messages_get_an_error_and_the_session_goes_on(server) -> None:
    sync, asyn, _ = _session(server)
    with sync, asyn:
        asyn.sendall(pack(120, 0, 0))  # a reserved message type
        kind, code, _, text = _read(asyn)
        assert (kind, code) == (hislip.ERROR, hislip.ERROR_UNRECOGNIZED_MESSAGE_TYPE)
        assert b"120" in text
        sync.sendall(pack(hislip.DATA_END, 0, 0xFFFFFF00, b"*OPC?\n"))
        assert _read(sync)[3] == b"1\n"
        asyn.sendall(pack(hislip.ASYNC_LOCK, 1, 1000, b""))  # request, 1 s: one client, granted
        assert _read(asyn)[:2] == (hislip.ASYNC_LOCK_RESPONSE, 1)


def test_a_broken_header_is_a_fatal_error_and_the_connection_closes(server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"XX" + bytes(14))
        kind, code, _, _ = _read(sock)
        assert (kind, code) == (hislip.FATAL_ERROR, hislip.FATAL_POORLY_FORMED_HEADER)
        assert sock.recv(1) == b""


def test_an_async_channel_for_no_session_is_refused(server) -> None:
    with _connect(server) as sock:
        sock.sendall(pack(hislip.ASYNC_INITIALIZE, 0, 999))
        kind, code, _, _ = _read(sock)
        assert (kind, code) == (hislip.FATAL_ERROR, hislip.FATAL_INVALID_INIT_SEQUENCE)


def test_a_disconnected_instrument_refuses_sessions(rm) -> None:
    fault = ScpiFaultState()
    with HislipServer(_device(), threading.RLock(), faults=lambda: fault) as srv:
        inst = _open(rm, srv)
        assert inst.query("*OPC?") == "1"
        fault = ScpiFaultState(disconnected=True)
        with pytest.raises(RuntimeError, match="dropped"):  # how pyvisa-py's client says it
            inst.query("*OPC?")
        inst.close()
        with pytest.raises(pyvisa.errors.VisaIOError):
            _open(rm, srv)
