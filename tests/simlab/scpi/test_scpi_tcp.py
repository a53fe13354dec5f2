"""The SCPI servers over real sockets, through plain pyvisa + pyvisa-py as a lab client."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import pyvisa

from simlab.scpi import create_device, make_hardware
from simlab.scpi.device import ScpiDevice
from simlab.servers.scpi_tcp import ScpiTcpServer


def _device(model: str) -> ScpiDevice:
    hardware = make_hardware(model)

    def solve() -> None:
        for src in hardware.sources.values():
            src.voltage_meas = src.voltage_set if src.output_on else 0.0
        for load in hardware.loads.values():
            load.voltage_meas = 12.0
            load.current_meas = load.current_set if load.input_on else 0.0

    return create_device(model, hardware, "SIM123", solve)


@pytest.fixture
def serve() -> Iterator:
    servers: list[ScpiTcpServer] = []

    def start(model: str) -> ScpiTcpServer:
        server = ScpiTcpServer(_device(model), threading.RLock())
        server.start()
        servers.append(server)
        return server

    before = threading.active_count()
    yield start
    for server in servers:
        server.stop()
    assert threading.active_count() == before  # no leaked threads


@pytest.fixture(scope="module")
def rm() -> Iterator[pyvisa.ResourceManager]:
    manager = pyvisa.ResourceManager("@py")
    yield manager
    manager.close()


def _open(rm: pyvisa.ResourceManager, server: ScpiTcpServer):
    inst = rm.open_resource(server.resource, read_termination="\n", write_termination="\n")
    inst.timeout = 2000
    return inst


def test_resource_string(serve) -> None:
    server = serve("Keysight E36234A")
    assert server.port > 0
    assert server.resource == f"TCPIP::127.0.0.1::{server.port}::SOCKET"


def test_e36234a_over_pyvisa(serve, rm: pyvisa.ResourceManager) -> None:
    server = serve("Keysight E36234A")
    inst = _open(rm, server)
    try:
        assert inst.query("*IDN?").startswith("Keysight Technologies,E36234A,SIM123,")
        inst.write("VOLT 5, (@1)")
        inst.write("OUTP ON,(@1)")
        assert inst.query("VOLT? (@1)") == "+5.00000000E+00"
        assert float(inst.query("MEAS:VOLT? (@1)")) == 5.0
        inst.write("VOLT 100,(@1)")
        assert inst.query("SYST:ERR?") == '-222,"Data out of range"'
        assert inst.query("SYST:ERR?") == '+0,"No error"'
        # many quick round trips stay fast (TCP_NODELAY)
        for _ in range(200):
            assert inst.query("*OPC?") == "1"
    finally:
        inst.close()


def test_dl3021_over_pyvisa(serve, rm: pyvisa.ResourceManager) -> None:
    server = serve("Rigol DL3021")
    inst = _open(rm, server)
    try:
        assert inst.query("*IDN?").startswith("RIGOL TECHNOLOGIES,DL3021,SIM123,")
        inst.write(":SOUR:FUNC CURR;:SOUR:CURR:LEV:IMM 2.5;:SOUR:INP:STAT ON")
        assert inst.query(":SOUR:FUNC?;:SOUR:INP:STAT?") == "CC;1"
        assert float(inst.query(":MEAS:CURR?")) == 2.5
        assert float(inst.query(":MEAS:POW?")) == 30.0
    finally:
        inst.close()


def test_n6705c_over_pyvisa(serve, rm: pyvisa.ResourceManager) -> None:
    server = serve("Keysight N6705C")
    inst = _open(rm, server)
    try:
        assert inst.query("*IDN?").startswith("Keysight Technologies,N6705C,SIM123,")
        assert inst.query("SYST:CHAN:MOD? (@1)") == "N6781A"
        inst.write("VOLT 3.3,(@1:4);CURR:LIM 1,(@1:4);OUTP ON,(@1:4)")
        values = [float(v) for v in inst.query("MEAS:VOLT? (@1:4)").split(",")]
        assert values == [3.3] * 4
        inst.write("VOLT 3.3")
        assert inst.query("SYST:ERR?") == '-109,"Missing parameter"'
    finally:
        inst.close()


class RawClient:
    """A bare socket client that reads one reply line at a time."""

    def __init__(self, server: ScpiTcpServer) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=2)
        self._reader = self.sock.makefile("rb")

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def readline(self) -> bytes:
        line = self._reader.readline()
        assert line.endswith(b"\n"), "connection closed"
        return line

    def close(self) -> None:
        self._reader.close()
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_crlf_several_lines_per_packet_and_split_packets(serve) -> None:
    server = serve("Keysight E36234A")
    with RawClient(server) as sock:
        sock.sendall(b"VOLT 1,(@1)\r\nVOLT? (@1)\r\n*OPC?\n")
        assert sock.readline() == b"+1.00000000E+00\n"
        assert sock.readline() == b"1\n"
        sock.sendall(b"*ID")
        sock.sendall(b"N?\n")
        assert sock.readline().startswith(b"Keysight Technologies,E36234A")


def test_non_utf8_queues_syntax_error(serve) -> None:
    server = serve("Keysight E36234A")
    with RawClient(server) as sock:
        sock.sendall(b"VOLT \xff\xfe\n\n\r\nSYST:ERR?\n")
        assert sock.readline() == b'-102,"Syntax error"\n'


def test_several_clients_share_one_device(serve) -> None:
    """Two connections see one instrument state.

    Two connections are two independent streams: like a real LAN instrument, the server
    gives no order between them. A client that needs its set to have taken before another
    client reads waits for `*OPC?` on its own connection, as a lab program would.
    """
    server = serve("Keysight E36234A")
    with RawClient(server) as a, RawClient(server) as b:
        a.sendall(b"VOLT 7,(@2);*OPC?\n")
        assert a.readline() == b"1\n"  # a's setting is done before b asks (no race)
        b.sendall(b"VOLT? (@2)\n")
        assert b.readline() == b"+7.00000000E+00\n"
        b.sendall(b"VOLT 3,(@2)\n*OPC?\n")
        assert b.readline() == b"1\n"
        a.sendall(b"VOLT? (@2)\n")
        assert a.readline() == b"+3.00000000E+00\n"


def test_stop_closes_open_connections(serve) -> None:
    server = serve("Rigol DL3021")
    sock = RawClient(server)
    sock.sendall(b"*OPC?\n")
    assert sock.readline() == b"1\n"
    server.stop()
    assert sock.sock.recv(10) == b""  # server side closed
    sock.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=0.5).close()


def test_commands_run_under_the_lab_lock() -> None:
    lock = threading.RLock()
    server = ScpiTcpServer(_device("Keysight E36234A"), lock)
    server.start()
    try:
        with RawClient(server) as sock:
            with lock:
                sock.sendall(b"*OPC?\n")
                sock.sock.settimeout(0.2)
                with pytest.raises(TimeoutError):
                    sock.sock.recv(10)  # held off while the "time step" holds the lock
            sock.sock.settimeout(2)
            assert sock.readline() == b"1\n"
    finally:
        server.stop()


def test_delayed_acks_are_the_default_and_can_be_turned_off() -> None:
    from simlab.serve import build_parser

    device = _device("Keysight E36234A")
    assert ScpiTcpServer(device, threading.RLock()).delayed_ack is True
    assert ScpiTcpServer(device, threading.RLock(), delayed_ack=False).delayed_ack is False
    assert build_parser().parse_args(["--station", "s.yaml"]).ack_now is False
    assert build_parser().parse_args(["--station", "s.yaml", "--ack-now"]).ack_now is True
