"""Raw-socket SCPI server: one simulated instrument on one TCP port, like LAN port 5025.

Clients reach it exactly as a lab instrument (``TCPIP::127.0.0.1::PORT::SOCKET`` through
pyvisa-py), so drivers' bytes are tested end to end. Each line runs under the lab's lock
so a command never lands in the middle of a simulation time step.

ACKs are delayed as most LAN instruments' stacks delay them (Linux: up to 40 ms when no
reply carries the ACK), so a client that leaves Nagle's algorithm on sees here the stall
it would see on a bench: a command followed by ``SYST:ERR?`` waits for that ACK.
``delayed_ack=False`` ACKs every segment at once instead.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable

from simlab.faults import ScpiFaultState
from simlab.scpi.device import ScpiDevice
from simlab.servers.scpi_link import ScpiLink

log = logging.getLogger(__name__)

_ACCEPT_POLL_S = 0.05
_JOIN_TIMEOUT_S = 1.0
_MAX_LINE = 1 << 20  # a client that never sends '\n' is cut off, not buffered forever
# A reply this soon after the request certainly left before the delayed-ACK timer (40 ms
# at the least on Linux) fired, carrying the ACK with it.
_ACK_CARRIED_S = 0.010


class ScpiTcpServer(ScpiLink):
    """Serve ``device`` on ``host:port`` (0 picks a free port); a thread per connection."""

    def __init__(
        self,
        device: ScpiDevice,
        lock: threading.RLock,
        host: str = "127.0.0.1",
        port: int = 0,
        delayed_ack: bool = True,
        faults: Callable[[], ScpiFaultState] | None = None,
    ) -> None:
        super().__init__(device, lock, faults)
        self.delayed_ack = delayed_ack
        self.host = host
        self._requested_port = port
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: set[socket.socket] = set()
        self._guard = threading.Lock()
        self.port = 0

    @property
    def resource(self) -> str:
        """The VISA resource string a client opens."""
        return f"TCPIP::{self.host}::{self.port}::SOCKET"

    def start(self) -> None:
        if self._listener is not None:
            raise RuntimeError("server already started")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self._requested_port))
            listener.listen(8)
        except OSError:
            listener.close()
            raise
        listener.setblocking(False)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._stop.clear()
        self._spawn(self._accept_loop, f"scpi-accept-{self.device.MODEL}-{self.port}")

    def stop(self) -> None:
        """Close the listener and every client, and join all threads (about 1 s at most)."""
        self._stop.set()
        with self._guard:
            clients = list(self._clients)
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in recv()
        # the accept loop may spawn one last client thread while we wait: re-read the list
        deadline = time.monotonic() + _JOIN_TIMEOUT_S
        while True:
            with self._guard:
                pending = [t for t in self._threads if t.is_alive()]
            if not pending or time.monotonic() >= deadline:
                break
            pending[0].join(max(deadline - time.monotonic(), 0.0))
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._threads = [t for t in self._threads if t.is_alive()]
        if self._threads:
            log.warning(
                "SCPI server %s: %d threads did not stop", self.resource, len(self._threads)
            )

    def __enter__(self) -> ScpiTcpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- internals ------------------------------------------------------------------------

    def _spawn(self, target, name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._guard:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not selector.select(_ACCEPT_POLL_S):
                    continue
                try:
                    conn, peer = listener.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    break
                if self.refuses_connections():
                    conn.close()  # off the network, or booting: nobody home
                    continue
                conn.setblocking(True)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with self._guard:
                    if self._stop.is_set():
                        conn.close()
                        break
                    self._clients.add(conn)
                self._spawn(self._serve, f"scpi-{self.device.MODEL}-{peer[1]}", conn)

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        rearm = True  # the delayed-ACK mode must be (re)entered after the next receive
        quick = not self.delayed_ack
        try:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                received = time.monotonic()
                if quick or rearm:
                    _quickack(conn, quick)
                self.last_command_at = received
                fault = self.faults()
                if fault.disconnected:
                    break  # the cable is out: the connection dies with the request
                lines = (buffer + chunk).split(b"\n")
                buffer = lines.pop()
                replied = False
                for raw in lines:
                    data = self.answer(raw, fault)
                    if data is not None:
                        conn.sendall(data)
                        replied = True
                # A reply sent well inside the ACK timer carried the ACK, and the kernel
                # stays in delayed-ACK mode; only a receive left unanswered (or answered
                # late) can let the timer fire, which leaves that mode.
                rearm = not replied or time.monotonic() - received > _ACK_CARRIED_S
                if len(buffer) > _MAX_LINE:
                    break
        except OSError:
            pass  # client went away mid-reply
        finally:
            with self._guard:
                self._clients.discard(conn)
            conn.close()

    def drop_connections(self) -> None:
        """Close every open connection (the instrument rebooted or left the network)."""
        with self._guard:
            clients = list(self._clients)
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


def _quickack(conn: socket.socket, on: bool) -> None:
    """ACK at once (on) or leave the ACK to the delayed-ACK timer (off).

    Linux starts every connection in quick-ACK mode and leaves quick-ACK again after a
    few segments, so ``on`` is set after every ``recv``. ``off`` enters delayed-ACK
    ("ping-pong") mode, which lasts until the delayed-ACK timer fires, i.e. until a
    request goes unanswered for its 40 ms: it is set on the first receive and again
    after such a one. A client that writes a command and then ``SYST:ERR?`` without
    reading in between (PyMeasure's check_set_errors) with Nagle's algorithm on has its
    second write held until this ACK arrives.
    """
    if _TCP_QUICKACK is not None:
        # a try, not contextlib.suppress: this runs on every request
        try:  # noqa: SIM105
            conn.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1 if on else 0)
        except OSError:
            pass
