"""Link and reply failures become typed errors that name the instrument, the command
and what came back, over a real pyvisa-py socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from instruments.errors import (
    InstrumentConnectionError,
    InstrumentError,
    InstrumentReplyError,
    InstrumentTimeout,
)
from instruments.registry import open_instrument

IDN = "Keysight Technologies,E36234A,MY1,1.0"


class Canned:
    """One connection; answers queries from `answers` (bytes), closes on `close_after`."""

    def __init__(self, answers: dict[str, bytes], close_after: str | None = None):
        self.answers, self.close_after = answers, close_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.resource = f"TCPIP::127.0.0.1::{self.listener.getsockname()[1]}::SOCKET"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(10)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            buffer = b""
            while True:
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    text = line.decode().strip()
                    if text == self.close_after:
                        conn.shutdown(socket.SHUT_RDWR)
                        return
                    if text in self.answers:
                        conn.sendall(self.answers[text])

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def canned() -> Iterator[Callable[..., Canned]]:
    servers: list[Canned] = []

    def make(answers: dict[str, bytes], close_after: str | None = None) -> Canned:
        servers.append(Canned(answers, close_after))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _open(resource: str, timeout_ms: int = 2000):
    return open_instrument("Keysight E36234A", resource, "charger", timeout_ms=timeout_ms)


def test_refused_connection_names_instrument_and_address():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(InstrumentConnectionError, match=r"charger: connection failed") as err:
        _open(f"TCPIP::127.0.0.1::{port}::SOCKET")
    assert f"::{port}::" in str(err.value) and err.value.instrument == "charger"


def test_link_closed_by_the_instrument(canned):
    server = canned({"*IDN?": f"{IDN}\n".encode()}, close_after="OUTP 1,(@1)")
    psu = _open(server.resource, timeout_ms=500)
    try:
        assert psu.identity().model == "E36234A"
        with pytest.raises((InstrumentConnectionError, InstrumentTimeout)) as err:
            # the peer's reset reaches us on one of the next writes, or the query times out
            for _ in range(50):
                psu.write("OUTP 1,(@1)")
            psu.ask("SYST:ERR?")
        assert err.value.instrument == "charger"
        assert err.value.sent in ("OUTP 1,(@1)", "SYST:ERR?")
    finally:
        psu.close()


@pytest.mark.parametrize(
    ("reply", "why"),
    [(b"garbage\n", "cannot read 'garbage'"), (b"\n", "empty reply"), (b"\xff\xfe\n", "ASCII")],
)
def test_garbled_reply_names_instrument_command_and_reply(canned, reply, why):
    server = canned({"MEAS:VOLT? (@1)": reply})
    psu = _open(server.resource)
    try:
        with pytest.raises(InstrumentReplyError, match=why) as err:
            psu.measure_voltage(1)
        assert err.value.instrument == "charger"
        assert err.value.sent == "MEAS:VOLT? (@1)"
        assert "charger" in str(err.value) and "MEAS:VOLT?" in str(err.value)
    finally:
        psu.close()


def test_garbled_error_queue_reply(canned):
    server = canned({"SYST:ERR?": b"whatever\n"})
    psu = _open(server.resource)
    try:
        with pytest.raises(InstrumentReplyError, match="charger: sent 'SYST:ERR\\?'") as err:
            psu.raise_errors()
        assert err.value.received == "whatever"
    finally:
        psu.close()


def test_identity_with_wrong_field_count_names_instrument(canned):
    server = canned({"*IDN?": b"Keysight,E36234A\n"})
    psu = _open(server.resource)
    try:
        with pytest.raises(InstrumentReplyError, match=r"charger: .*4 comma-separated"):
            psu.identity()
    finally:
        psu.close()


def test_non_empty_error_queue_names_instrument_command_and_errors(canned):
    answers = iter(
        [b'-222,"Data out of range"\n', b'-221,"Settings conflict"\n', b'+0,"No error"\n']
    )

    class Queue(dict):
        def __contains__(self, key: object) -> bool:
            return key == "SYST:ERR?"

        def __getitem__(self, key: str) -> bytes:
            return next(answers)

    server = canned(Queue())
    psu = _open(server.resource)
    try:
        with pytest.raises(InstrumentError) as err:
            psu.set_voltage(1, 12.0)
        assert err.value.instrument == "charger"
        assert err.value.last_command == "VOLT 12,(@1)"
        assert err.value.errors == [(-222, "Data out of range"), (-221, "Settings conflict")]
    finally:
        psu.close()
