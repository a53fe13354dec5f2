"""A socketcand server on 127.0.0.1: the simulated CAN bus reached across processes.

socketcand is the usual way to reach a CAN bus over TCP; python-can's `socketcand`
interface is its client, so a rig run (or any tool built on python-can) reaches simlab's
bus exactly as it would reach a remote socketcand on a lab PC. Only raw mode is served:

    server  < hi >
    client  < open CHANNEL >        server  < ok >
    client  < rawmode >             server  < ok >
    server  < frame ID SEC.USEC DATA >     every frame on the bus (DATA: hex, no spaces)
    client  < send ID LEN B0 B1 ... >      a frame onto the bus (bytes in hex)

Frames are written to each session synchronously, in bus order, from the thread that
put them on the bus (the lab's time step), so a client that was told time advanced
finds the frames of that time already in its socket. No discovery beacon is sent
(no broadcast or multicast): the endpoints line says where the server is.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Callable
from typing import Any

from simlab.servers.can_bus import CanFrame, SimCanBus

SEND = re.compile(r"<\s*send\s+([0-9A-Fa-f]{1,8})\s+([0-9A-Fa-f]+)((?:\s+[0-9A-Fa-f]{1,2})*)\s*>")
HANDSHAKE_TIMEOUT_S = 10.0
WRITE_TIMEOUT_S = 10.0  # a client that reads nothing this long is dropped


def format_frame(frame: CanFrame) -> str:
    ident = f"{frame.arbitration_id:08X}" if frame.extended else f"{frame.arbitration_id:03X}"
    return f"< frame {ident} {frame.timestamp:.6f} {frame.data.hex().upper()} >"


class Session:
    def __init__(self, conn: socket.socket, server: SocketcandServer):
        self.conn = conn
        self.server = server
        self.ready = False
        self.closed = False
        self._write_lock = threading.Lock()

    def deliver(self, frame: CanFrame) -> None:
        with self._write_lock:
            if self.ready and not self.closed:
                self._sendall(format_frame(frame))

    def send(self, text: str, ready: bool = False) -> None:
        """Send one message alone; `ready`: frames may follow it (set under the same
        lock, so no frame is lost between the client's last "< ok >" and the flag)."""
        with self._write_lock:
            self._sendall(text)
            if ready:
                self.ready = True

    def _sendall(self, text: str) -> None:
        try:
            self.conn.sendall(text.encode("ascii"))
        except OSError:
            self.close()

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.conn.close()

    def _expect(self, reader: Callable[[], str], pattern: str) -> str | None:
        message = reader()
        if not re.fullmatch(pattern, message):
            self.send("< error unexpected command >")
            return None
        return message

    def run(self) -> None:
        buffer = ""

        def message() -> str:
            nonlocal buffer
            while ">" not in buffer:
                try:
                    chunk = self.conn.recv(4096)
                except TimeoutError:
                    if self.closed or not self.ready:
                        raise
                    continue
                if not chunk:
                    raise ConnectionError("client went away")
                buffer += chunk.decode("ascii", errors="replace")
            end = buffer.index(">") + 1
            text, buffer = buffer[:end].strip(), buffer[end:]
            return text[text.find("<") :] if "<" in text else text

        try:
            self.conn.settimeout(HANDSHAKE_TIMEOUT_S)
            self.send("< hi >")
            opened = self._expect(message, r"<\s*open\s+(\S+)\s*>")
            if opened is None:
                return
            channel = opened.split()[2]
            if channel != self.server.channel:
                self.send(f"< error no such channel {channel} >")
                return
            self.send("< ok >")
            if self._expect(message, r"<\s*rawmode\s*>") is None:
                return
            self.conn.settimeout(WRITE_TIMEOUT_S)
            self.send("< ok >", ready=True)
            while not self.closed:
                text = message()
                match = SEND.fullmatch(text)
                if not match:
                    continue  # socketcand ignores what it does not know in raw mode
                ident = int(match[1], 16)
                data = bytes(int(b, 16) for b in match[3].split())
                length = int(match[2], 16)
                if length != len(data) or length > 8:
                    continue
                self.server.bus.send(CanFrame(ident, data, extended=len(match[1]) > 3), source=self)
        except (OSError, ConnectionError, UnicodeError):
            pass
        finally:
            self.close()
            self.server.forget(self)


class SocketcandServer:
    def __init__(self, bus: SimCanBus, channel: str = "can0", host: str = "127.0.0.1"):
        self.bus = bus
        self.channel = channel
        self.host = host
        self.port = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._sessions: list[Session] = []
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> dict[str, Any]:
        return {"interface": "socketcand", "host": self.host, "port": self.port,
                "channel": self.channel}  # fmt: skip

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen()
        self._sock = sock
        self.port = sock.getsockname()[1]
        self.bus.attach(self._deliver)
        self._thread = threading.Thread(target=self._accept, name="socketcand", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        # The socket is held here, not read from self on every turn: stop() drops it from
        # self while this thread may be between two accepts.
        sock = self._sock
        while sock is not None:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = Session(conn, self)
            with self._lock:
                if self._sock is None:  # stopped meanwhile: no session outlives the server
                    session.close()
                    return
                self._sessions.append(session)
            threading.Thread(target=session.run, name="socketcand-session", daemon=True).start()

    def _deliver(self, frame: CanFrame, source: object) -> None:
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            if session is not source:
                session.deliver(frame)

    def forget(self, session: Session) -> None:
        with self._lock:
            if session in self._sessions:
                self._sessions.remove(session)

    def stop(self) -> None:
        self.bus.detach(self._deliver)
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        with self._lock:
            sessions, self._sessions = list(self._sessions), []
        for session in sessions:
            session.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
