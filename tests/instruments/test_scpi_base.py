"""The real transport path: pyvisa + pyvisa-py over a TCP socket to a canned server.

Proves that a resource string `TCPIP::127.0.0.1::<port>::SOCKET` reaches the driver's
byte protocol, that a silent instrument becomes InstrumentTimeout naming the command,
and that the transcript captures what went over the wire.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from instruments.errors import InstrumentError, InstrumentReplyError, InstrumentTimeout
from instruments.registry import MODELS, driver_for, open_instrument, role_of
from instruments.scpi import ScpiInstrument

IDN = "Keysight Technologies,E36234A,MY59001234,1.0.4"


class CannedServer:
    """A one-connection SCPI server on 127.0.0.1 answering queries from a dict.

    Every received line is kept in `received`; a query with no canned answer is
    left unanswered, which is how a hung instrument looks to the client.
    """

    def __init__(self, answers: dict[str, str]):
        self.answers = answers
        self.received: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._listener.settimeout(5)
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        conn.settimeout(0.05)
        buffer = b""
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    text = line.decode().strip()
                    self.received.append(text)
                    if text in self.answers:
                        conn.sendall(self.answers[text].encode() + b"\n")

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=2)


@pytest.fixture
def server_factory() -> Iterator[Callable[[dict[str, str]], CannedServer]]:
    servers: list[CannedServer] = []

    def make(answers: dict[str, str]) -> CannedServer:
        servers.append(CannedServer(answers))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _open(server: CannedServer, transcript=None, timeout_ms: int = 500) -> ScpiInstrument:
    resource = f"TCPIP::127.0.0.1::{server.port}::SOCKET"
    return open_instrument("Keysight E36234A", resource, "psu", transcript, timeout_ms)


def test_identity_and_setpoint_over_tcp(server_factory):
    server = server_factory(
        {"*IDN?": IDN, "SYST:ERR?": '+0,"No error"', "MEAS:VOLT? (@1)": "+1.20000E+01"}
    )
    transcript: list[dict] = []
    psu = _open(server, transcript)
    try:
        assert psu.check_identity().serial == "MY59001234"
        psu.set_voltage(1, 12)
        assert psu.measure_voltage(1) == 12.0
    finally:
        psu.close()
    assert server.received == ["*IDN?", "VOLT 12,(@1)", "SYST:ERR?", "MEAS:VOLT? (@1)"]
    assert [(e["dir"], e["data"]) for e in transcript][:2] == [("tx", "*IDN?"), ("rx", IDN)]
    assert transcript[-1] == {"dir": "rx", "data": "+1.20000E+01", "t": transcript[-1]["t"]}


def test_error_queue_over_tcp(server_factory):
    server = server_factory({"SYST:ERR?": '-222,"Data out of range"'})
    psu = _open(server)
    try:
        # The canned server repeats the same error forever: the drain must give up.
        with pytest.raises(InstrumentReplyError, match="error queue not empty"):
            psu.raise_errors()
    finally:
        psu.close()


def test_silent_instrument_times_out(server_factory):
    server = server_factory({})
    transcript: list[dict] = []
    psu = _open(server, transcript, timeout_ms=200)
    try:
        with pytest.raises(InstrumentTimeout, match=r"MEAS:VOLT\? \(@1\)") as err:
            psu.measure_voltage(1)
    finally:
        psu.close()
    assert err.value.sent == "MEAS:VOLT? (@1)"
    assert "0.2 s" in str(err.value)
    assert transcript[-1]["dir"] == "tx"


def test_registry():
    assert {"Keysight E36234A", "Rigol DL3021", "Keysight N6705C"} <= set(MODELS)
    assert role_of("Keysight N6705C") == "cell_emulator"
    assert driver_for("Rigol DL3021").MODEL == "DL3021"
    with pytest.raises(KeyError, match="known"):
        driver_for("Acme PSU-1")


def test_instrument_error_message_names_command():
    err = InstrumentError("psu", [(-222, "Data out of range")], "VOLT 99,(@1)")
    assert "VOLT 99,(@1)" in str(err) and "-222" in str(err)
