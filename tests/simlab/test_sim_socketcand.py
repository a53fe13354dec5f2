"""simlab's socketcand server: the handshake python-can expects, frames both ways."""

from __future__ import annotations

import socket
import time

import pytest

from simlab.servers.can_bus import CanFrame, SimCanBus
from simlab.servers.socketcand import SocketcandServer, format_frame


@pytest.fixture
def server():
    bus = SimCanBus()
    srv = SocketcandServer(bus)
    srv.start()
    yield bus, srv
    srv.stop()


def talk(sock, text=None):
    if text is not None:
        sock.sendall(text.encode())
    return sock.recv(256).decode()


def connect(srv, channel="can0"):
    sock = socket.create_connection((srv.host, srv.port), timeout=5)
    assert talk(sock) == "< hi >"
    reply = talk(sock, f"< open {channel} >")
    return sock, reply


def test_frame_format_matches_python_can():
    frame = CanFrame(0x351, bytes.fromhex("14027400"), timestamp=12.5)
    assert format_frame(frame) == "< frame 351 12.500000 14027400 >"


def test_wrong_channel_is_refused(server):
    _, srv = server
    sock, reply = connect(srv, "vcan9")
    assert reply.startswith("< error")
    sock.close()


def test_frames_both_ways_and_garbage_ignored(server):
    bus, srv = server
    got = []
    bus.attach(lambda frame, source: got.append(frame))
    sock, reply = connect(srv)
    assert reply == "< ok >" and talk(sock, "< rawmode >") == "< ok >"
    sock.sendall(b"garbage < nonsense > < send 30 2 1 >< send 305 2 a b >")
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    assert got == [CanFrame(0x305, b"\x0a\x0b")]  # the short 0x30 frame lied about its length
    bus.send(CanFrame(0x35E, b"PYLON   ", timestamp=3.0))
    assert talk(sock) == "< frame 35E 3.000000 50594C4F4E202020 >"
    sock.close()


def test_stopping_while_clients_connect_leaves_no_thread_behind():
    """stop() drops the listening socket while the accept thread may be between two
    accepts; that thread must end quietly (it once died on the missing socket)."""
    for _ in range(20):
        srv = SocketcandServer(SimCanBus(), channel="can0")
        srv.start()
        client = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        srv.stop()
        client.close()
        srv._accept()  # the socket already gone: returns at once, raises nothing
        assert srv._sessions == []
