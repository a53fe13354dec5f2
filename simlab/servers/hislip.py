"""A HiSLIP server (IVI-6.1) for one simulated instrument: `TCPIP::host::hislip0,PORT::INSTR`.

HiSLIP is what a VISA opens on a LAN instrument of the last decade by default; the IVI
Foundation's specification (IVI-6.1, HiSLIP 2.0) defines it and pyvisa-py speaks it as a
client. No Python server exists, so this is a small one, written from the specification
and checked byte by byte against pyvisa-py's client (tests/simlab/test_sim_hislip.py).

A session is two TCP connections to the same port. The *synchronous* one carries the
program messages (Data, DataEnd) and the replies; the *asynchronous* one carries what
must get through while the synchronous one is busy (device clear, status byte, lock,
maximum message size). Every message is a 16-byte header (`HS`, message type, control
code, a 32-bit parameter, a 64-bit payload length) and its payload.

What is served, in the synchronous mode only (overlapped mode is offered to nobody):

- Initialize / AsyncInitialize: a new session id per client, paired by that id;
- Data / DataEnd: a program message, run at its DataEnd; a query is answered with one
  DataEnd carrying the client's MessageID and the reply ending in `\\n` (as instruments
  send it, with END);
- AsyncMaxMsgSize, AsyncDeviceClear + DeviceClearComplete (viClear: a pending partial
  message is dropped), AsyncStatusQuery (viReadSTB: the status byte in the control
  code), AsyncLock / AsyncLockInfo (one session, so a lock is always granted),
  AsyncRemoteLocalControl, Trigger (`*TRG`'s equivalent: nothing to do here);
- anything else: an Error message (code 1, "Unrecognized Message Type"); a header that
  does not start with `HS`: a FatalError (code 1) and the connection closed.

The link faults apply as on the raw socket: a disconnected or rebooting instrument
accepts no session and drops the ones it had, replies come late or garbled.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from simlab.faults import ScpiFaultState
from simlab.scpi.device import ScpiDevice
from simlab.servers.scpi_link import ScpiLink

log = logging.getLogger(__name__)

HEADER = struct.Struct("!2sBBIQ")  # prologue, type, control code, parameter, payload length
PROLOGUE = b"HS"
VERSION = 0x0100  # protocol 1.0: what pyvisa-py's client announces and expects
VENDOR_ID = b"SL"  # two ASCII bytes naming the server's maker
MAX_MESSAGE = 1 << 20  # the largest message (header included) this server accepts
_ACCEPT_POLL_S = 0.05
_JOIN_TIMEOUT_S = 1.0

# Message types (IVI-6.1 table 4)
INITIALIZE = 0
INITIALIZE_RESPONSE = 1
FATAL_ERROR = 2
ERROR = 3
ASYNC_LOCK = 4
ASYNC_LOCK_RESPONSE = 5
DATA = 6
DATA_END = 7
DEVICE_CLEAR_COMPLETE = 8
DEVICE_CLEAR_ACKNOWLEDGE = 9
ASYNC_REMOTE_LOCAL_CONTROL = 10
ASYNC_REMOTE_LOCAL_RESPONSE = 11
TRIGGER = 12
ASYNC_MAX_MSG_SIZE = 15
ASYNC_MAX_MSG_SIZE_RESPONSE = 16
ASYNC_INITIALIZE = 17
ASYNC_INITIALIZE_RESPONSE = 18
ASYNC_DEVICE_CLEAR = 19
ASYNC_STATUS_QUERY = 21
ASYNC_STATUS_RESPONSE = 22
ASYNC_DEVICE_CLEAR_ACKNOWLEDGE = 23
ASYNC_LOCK_INFO = 24
ASYNC_LOCK_INFO_RESPONSE = 25

# Error codes (IVI-6.1 tables 9 and 10)
FATAL_UNIDENTIFIED = 0
FATAL_POORLY_FORMED_HEADER = 1
FATAL_INVALID_INIT_SEQUENCE = 3
ERROR_UNRECOGNIZED_MESSAGE_TYPE = 1
ERROR_MESSAGE_TOO_LARGE = 4
STB_MAV = 0x10  # message available: a reply is waiting to be read
FIRST_MESSAGE_ID = 0xFFFFFF00  # a client's first MessageID, and again after a device clear
_STATUS_WAIT_S = 1.0  # longest a status query waits for the message sent before it


class HislipProtocolError(Exception):
    """The peer broke the protocol; the connection is closed after a FatalError."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code


@dataclass(frozen=True)
class Message:
    kind: int
    control: int
    parameter: int
    payload: bytes


def pack(kind: int, control: int = 0, parameter: int = 0, payload: bytes = b"") -> bytes:
    """One HiSLIP message on the wire."""
    return HEADER.pack(PROLOGUE, kind, control, parameter, len(payload)) + payload


def _receive_exact(conn: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = conn.recv(min(count - len(data), 65536))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        data += chunk
    return bytes(data)


def receive(conn: socket.socket) -> Message:
    """The next whole message; a bad prologue or an oversize payload is a protocol error."""
    prologue, kind, control, parameter, length = HEADER.unpack(_receive_exact(conn, HEADER.size))
    if prologue != PROLOGUE:
        raise HislipProtocolError(FATAL_POORLY_FORMED_HEADER, f"bad prologue {prologue!r}")
    if length > MAX_MESSAGE:
        raise HislipProtocolError(FATAL_UNIDENTIFIED, f"a payload of {length} bytes")
    return Message(kind, control, parameter, _receive_exact(conn, length) if length else b"")


@dataclass
class _Session:
    """One client: its synchronous connection, and the asynchronous one once it has come."""

    session_id: int
    sync: socket.socket
    max_message: int = MAX_MESSAGE
    pending: bytearray | None = None  # Data received, waiting for its DataEnd
    reply_waiting: bool = False
    last_done: int = FIRST_MESSAGE_ID - 2  # MessageID of the last message run
    done: threading.Condition = field(default_factory=threading.Condition)


class HislipServer(ScpiLink):
    """Serve ``device`` over HiSLIP on ``host:port`` (0 picks a free port)."""

    def __init__(
        self,
        device: ScpiDevice,
        lock: threading.RLock,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Callable[[], ScpiFaultState] | None = None,
        sub_address: str = "hislip0",
    ) -> None:
        super().__init__(device, lock, faults)
        self.host = host
        self.sub_address = sub_address
        self._requested_port = port
        self.port = 0
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._sessions: dict[int, _Session] = {}
        self._ids = itertools.count(1)
        self._guard = threading.Lock()

    @property
    def resource(self) -> str:
        return f"TCPIP::{self.host}::{self.sub_address},{self.port}::INSTR"

    # --- lifecycle --------------------------------------------------------------------------

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
        self._spawn(self._accept_loop, f"hislip-accept-{self.device.MODEL}-{self.port}")

    def stop(self) -> None:
        """Close the listener and every connection, and join the threads (about 1 s at most)."""
        self._stop.set()
        self.drop_connections()
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
        if any(t.is_alive() for t in self._threads):
            log.warning("HiSLIP server %s: threads did not stop", self.resource)

    def __enter__(self) -> HislipServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def drop_connections(self) -> None:
        with self._guard:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in recv()

    # --- connections ------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
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
                    conn.close()
                    continue
                conn.setblocking(True)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with self._guard:
                    if self._stop.is_set():
                        conn.close()
                        break
                    self._conns.add(conn)
                self._spawn(self._serve, f"hislip-{self.device.MODEL}-{peer[1]}", conn)

    def _serve(self, conn: socket.socket) -> None:
        """The first message says which channel this connection is."""
        session: _Session | None = None
        try:
            first = receive(conn)
            if first.kind == INITIALIZE:
                session = self._initialize(conn, first)
                self._serve_sync(session)
            elif first.kind == ASYNC_INITIALIZE:
                session = self._sessions.get(first.parameter)
                if session is None:
                    why = f"AsyncInitialize for session {first.parameter}, which is not open"
                    raise HislipProtocolError(FATAL_INVALID_INIT_SEQUENCE, why)
                conn.sendall(
                    pack(ASYNC_INITIALIZE_RESPONSE, 0, int.from_bytes(VENDOR_ID.ljust(4, b"\0")))
                )
                self._serve_async(conn, session)
            else:
                why = f"message type {first.kind} before Initialize"
                raise HislipProtocolError(FATAL_INVALID_INIT_SEQUENCE, why)
        except HislipProtocolError as exc:
            log.info("HiSLIP %s: %s", self.resource, exc)
            with contextlib.suppress(OSError):
                conn.sendall(pack(FATAL_ERROR, exc.code, 0, str(exc).encode()))
        except (ConnectionError, OSError, struct.error):
            pass  # the client went away
        finally:
            with self._guard:
                self._conns.discard(conn)
                if session is not None and session.sync is conn:
                    self._sessions.pop(session.session_id, None)
            conn.close()

    def _initialize(self, conn: socket.socket, message: Message) -> _Session:
        """Initialize: the payload names the sub-address; the reply carries our protocol
        version and the new session's id, overlap mode off (control code 0)."""
        wanted = message.payload.decode("ascii", "replace")
        if wanted and wanted != self.sub_address:
            why = f"no sub-address {wanted!r} (this is {self.sub_address})"
            raise HislipProtocolError(FATAL_INVALID_INIT_SEQUENCE, why)
        session = _Session(next(self._ids) % 0xFFFF + 1, conn)  # 16 bits, never 0
        with self._guard:
            self._sessions[session.session_id] = session
        conn.sendall(pack(INITIALIZE_RESPONSE, 0, (VERSION << 16) | session.session_id))
        return session

    def _serve_sync(self, session: _Session) -> None:
        conn = session.sync
        while not self._stop.is_set():
            message = receive(conn)
            self.last_command_at = time.monotonic()
            if message.kind in (DATA, DATA_END):
                self._data(session, message)
            elif message.kind == DEVICE_CLEAR_COMPLETE:
                session.pending, session.reply_waiting = None, False
                self._done(session, FIRST_MESSAGE_ID - 2)  # the client starts counting again
                conn.sendall(pack(DEVICE_CLEAR_ACKNOWLEDGE, 0))
            elif message.kind == TRIGGER:
                pass  # a group execute trigger: none of the twins waits for one
            else:
                text = f"message type {message.kind} on the synchronous channel"
                conn.sendall(pack(ERROR, ERROR_UNRECOGNIZED_MESSAGE_TYPE, 0, text.encode()))

    def _data(self, session: _Session, message: Message) -> None:
        """Data accumulates; DataEnd ends the program message, which runs now."""
        fault = self.faults()
        if fault.disconnected:
            raise ConnectionError("the instrument left the network")
        session.pending = (session.pending or bytearray()) + message.payload
        if len(session.pending) > MAX_MESSAGE:
            session.pending = None
            text = b"message larger than the maximum message size"
            session.sync.sendall(pack(ERROR, ERROR_MESSAGE_TOO_LARGE, 0, text))
            return
        if message.kind != DATA_END:
            self._done(session, message.parameter)
            return
        program, session.pending = bytes(session.pending), None
        replies = [
            data
            for line in program.rstrip(b"\n").split(b"\n")
            if (data := self.answer(line, fault)) is not None
        ]
        self._done(session, message.parameter)
        if replies:
            session.reply_waiting = True
            # The response carries the MessageID of the message that caused it.
            session.sync.sendall(pack(DATA_END, 0, message.parameter, b"".join(replies)))
            session.reply_waiting = False

    @staticmethod
    def _done(session: _Session, message_id: int) -> None:
        with session.done:
            session.last_done = message_id & 0xFFFFFFFF
            session.done.notify_all()

    @staticmethod
    def _wait_done(session: _Session, next_id: int) -> None:
        """A status query names the client's next MessageID (pyvisa-py) or its last one
        (IVI-6.1): the messages sent before it run first, so its status byte shows what
        they did, as it would on an instrument that executes in order."""
        sent = {next_id & 0xFFFFFFFF, (next_id - 2) & 0xFFFFFFFF}
        with session.done:
            session.done.wait_for(lambda: session.last_done in sent, _STATUS_WAIT_S)

    def _serve_async(self, conn: socket.socket, session: _Session) -> None:
        while not self._stop.is_set():
            message = receive(conn)
            kind = message.kind
            if kind == ASYNC_MAX_MSG_SIZE:
                (asked,) = struct.unpack("!Q", message.payload[:8].rjust(8, b"\0"))
                session.max_message = min(asked, MAX_MESSAGE)
                reply = pack(ASYNC_MAX_MSG_SIZE_RESPONSE, 0, 0, struct.pack("!Q", MAX_MESSAGE))
            elif kind == ASYNC_DEVICE_CLEAR:
                session.pending = None
                reply = pack(ASYNC_DEVICE_CLEAR_ACKNOWLEDGE, 0)  # feature bitmap: synchronous
            elif kind == ASYNC_STATUS_QUERY:
                self._wait_done(session, message.parameter)
                with self.lock:
                    stb = self.device.status_byte()
                if session.reply_waiting:
                    stb |= STB_MAV
                reply = pack(ASYNC_STATUS_RESPONSE, stb & 0xFF)
            elif kind == ASYNC_LOCK:
                reply = pack(ASYNC_LOCK_RESPONSE, 1)  # 1: success (one client, no contention)
            elif kind == ASYNC_LOCK_INFO:
                reply = pack(ASYNC_LOCK_INFO_RESPONSE, 0, 0)  # no exclusive lock, no shared
            elif kind == ASYNC_REMOTE_LOCAL_CONTROL:
                reply = pack(ASYNC_REMOTE_LOCAL_RESPONSE, 0)
            else:
                text = f"message type {kind} on the asynchronous channel".encode()
                reply = pack(ERROR, ERROR_UNRECOGNIZED_MESSAGE_TYPE, 0, text)
            conn.sendall(reply)
