"""Common base of every SCPI driver: identity, error queue, transcript, typed I/O errors.

A model driver only declares its command table (PyMeasure controls on channels); what
every bench instrument shares lives here so that a timeout, a garbled reply or a range
error reads the same whichever instrument produced it, and names the command that
caused it.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import time
from collections.abc import Callable
from typing import Any, ClassVar

import pyvisa.errors
import pyvisa.resources
from pymeasure.instruments import Channel, Instrument, SCPIMixin
from pyvisa.constants import StatusCode

from instruments.accuracy import AccuracyTable, Accurate, table_from
from instruments.errors import (
    LINK_ERRORS,
    IdentityError,
    InstrumentConnectionError,
    InstrumentError,
    InstrumentRebooted,
    InstrumentReplyError,
    InstrumentTimeout,
)
from instruments.roles import Identity
from instruments.serial_line import SerialLine, is_serial

DEFAULT_TIMEOUT_MS = 2000
# A queue that never empties means the instrument (or the link) is broken, not busy.
MAX_QUEUED_ERRORS = 100
# The lost-link policy: a query that changes nothing is tried again this many times
# after a timeout, a dropped connection or a garbled reply, on a fresh connection each
# time, after these waits (real time: the link's, not the test's).
QUERY_RETRIES = 2
RECONNECT_WAITS_S = (0.05, 0.25)
# Queries that change the instrument's state as they answer: never asked twice.
NOT_IDEMPOTENT = ("SYST:ERR", "SYSTEM:ERROR", "ERR?", "*ESR?", "*TST?", "*CAL?", "*RST")
PON = 0x80  # IEEE 488.2 standard event status register: power on
# What a VISA session raises when its link fails. pyvisa-py's HiSLIP client raises a
# bare RuntimeError for a connection the instrument dropped or a broken message header.
IO_ERRORS = (pyvisa.errors.VisaIOError, OSError, RuntimeError)
# A text reply longer than this is a broken instrument or link, not a reading (binary
# blocks, e.g. a digitizer's samples, are read by their stated length instead).
MAX_REPLY_BYTES = 1 << 20


@functools.lru_cache(maxsize=4096)  # a run asks the same few hundred messages thousands of times
def idempotent(command: str) -> bool:
    """Every part of the program message is a query that leaves the instrument as it was."""
    parts = [p.strip().upper() for p in command.split(";") if p.strip()]
    return bool(parts) and all(
        "?" in part and not part.lstrip(":").startswith(NOT_IDEMPOTENT) for part in parts
    )


TranscriptEntry = dict[str, Any]


def scpi_bool(reply: str) -> bool:
    """Cast an SCPI boolean reply; instruments answer `1`/`0`, some firmware `ON`/`OFF`."""
    text = reply.strip().upper()
    if text in ("1", "ON", "+1"):
        return True
    if text in ("0", "OFF", "+0"):
        return False
    raise ValueError(f"not an SCPI boolean: {reply!r}")


def parse_error_reply(reply: str, query: str = "SYST:ERR?") -> tuple[int, str]:
    """Split a `SYST:ERR?` reply such as `-222,"Data out of range"` into code and text."""
    code_text, sep, message = reply.strip().partition(",")
    try:
        code = int(code_text)
    except ValueError:
        raise InstrumentReplyError(query, reply, 'expected <code>,"<message>"') from None
    if not sep and code != 0:
        raise InstrumentReplyError(query, reply, "error code without a message")
    return code, message.strip().strip('"')


class FastAttributes:
    """PyMeasure's CommonBase routes every attribute read through a Python
    `__getattribute__` that refuses to read the bare names reserved for dynamic
    properties (`voltage_setpoint_values`, ...); on a checked set that is about a hundred
    reads, most of a driver call's own cost. The values themselves live under a prefixed
    name that the properties read, so the plain lookup changes nothing they do; it only
    lets such a bare name read back its class default instead of raising."""

    __getattribute__ = object.__getattribute__


class ScpiChannel(FastAttributes, Channel):
    """A channel whose queries go through the parent's strict `values`."""

    def values(self, command: str, **kwargs: Any) -> list[Any]:
        return self.parent.values(self.insert_id(command), **kwargs)


class ScpiInstrument(FastAttributes, Accurate, SCPIMixin, Instrument):
    """Base of bms-rig's SCPI drivers.

    `adapter` is a VISA resource string (opened with pyvisa-py, `\\n` terminations) or a
    PyMeasure adapter (tests use `expected_protocol`). `transcript`, when given, receives
    every exchange as `{"dir": "tx"|"rx", "data": str, "t": monotonic seconds}` so a
    failed test can show exactly what went over the wire. `accuracy`, when given, holds a
    station file's certificate figures (quantity -> entries) that replace the datasheet's.
    """

    VENDORS: ClassVar[tuple[str, ...]] = ()
    MODEL: ClassVar[str] = ""
    IDN_FIELDS: ClassVar[int] = 4  # fields in this model's *IDN? reply
    # The datasheet's accuracy per quantity and range (see instruments.accuracy), with
    # the datasheet named in each entry's `source`. Empty: the model states none, and a
    # measurement that needs it raises AccuracyUnknown rather than assume zero.
    ACCURACY: ClassVar[AccuracyTable] = {}
    # The model's error-queue query; SCPI instruments answer `SYST:ERR?`, some older
    # IEEE 488.2 designs (calibrators) their own form, e.g. Fluke's `ERR?`.
    ERROR_QUERY: ClassVar[str] = "SYST:ERR?"
    # The model answers `*OPT?` (installed options and licences); not every model has it,
    # and one without it answers nothing (a timeout), so only these are asked.
    HAS_OPT: ClassVar[bool] = False
    # The model's RS-232 factory settings, for an `ASRL...` resource (instruments.serial_line);
    # a model without a serial port leaves the VISA defaults (9600 8N1, LF).
    SERIAL: ClassVar[SerialLine] = SerialLine()

    def __init__(
        self,
        adapter: Any,
        name: str | None = None,
        transcript: list[TranscriptEntry] | None = None,
        accuracy: Any = None,
        serial_line: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.transcript = transcript
        self.accuracy_override = table_from(accuracy) if accuracy else None
        self.last_command = ""
        # program messages that may change the instrument's state (any unit without a
        # `?`): the station leaves a role's safe state alone while its count stands still
        self.commands_sent = 0
        self._unanswered = False  # a query was written and its reply not yet read
        self._reconnecting = False
        self._timeout_ms = kwargs.get("timeout", DEFAULT_TIMEOUT_MS)
        if isinstance(adapter, str):
            kwargs.setdefault("visa_library", "@py")
            if is_serial(adapter):  # the line's settings are the instrument's, or nothing works
                for key, value in self.SERIAL.updated(serial_line).visa_kwargs().items():
                    kwargs.setdefault(key, value)
            kwargs.setdefault("read_termination", "\n")
            kwargs.setdefault("write_termination", "\n")
            kwargs.setdefault("timeout", DEFAULT_TIMEOUT_MS)
        vendor = self.VENDORS[0] if self.VENDORS else ""
        name = name or f"{vendor} {self.MODEL}".strip()
        try:
            super().__init__(adapter, name, **kwargs)
        except IO_ERRORS as exc:
            raise InstrumentConnectionError(name, "", f"{adapter}: {exc}") from exc
        sock = self._socket()
        if sock is not None:
            self._check_connected(sock, adapter)
            self._disable_nagle(sock)

    def _socket(self) -> socket.socket | None:
        """The TCP socket under a pyvisa-py `::SOCKET` session, where there is one."""
        connection = getattr(self.adapter, "connection", None)
        if not getattr(connection, "resource_name", "").upper().endswith("::SOCKET"):
            return None
        with contextlib.suppress(Exception):
            session = connection.visalib.sessions[connection.session]
            sock = getattr(session, "interface", None)
            if isinstance(sock, socket.socket):
                return sock
        return None

    def _check_connected(self, sock: socket.socket, resource: Any) -> None:
        """pyvisa-py opens a socket resource without waiting for the connection; a refused
        or unreachable address would only show later as a timeout. Say so now."""
        try:
            sock.getpeername()
        except OSError as exc:
            self.adapter.close()
            why = f"{resource}: not connected ({exc})"
            raise InstrumentConnectionError(self.name, "", why) from exc

    def _disable_nagle(self, sock: socket.socket) -> None:
        """A checked set is the command then `SYST:ERR?`: two small writes in a row. With
        Nagle's algorithm on, the second waits for the instrument's delayed ACK (~40 ms on
        Linux), which makes every checked setpoint hundreds of times slower than the
        exchange itself. pyvisa-py does not implement VI_ATTR_TCPIP_NODELAY, so the
        option is set on the session's socket directly.
        """
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --- wire I/O --------------------------------------------------------------------

    def _record(self, direction: str, data: str) -> None:
        if self.transcript is not None:
            self.transcript.append({"dir": direction, "data": data, "t": time.monotonic()})

    def _timeout_s(self) -> float:
        connection = getattr(self.adapter, "connection", None)
        timeout = getattr(connection, "timeout", None)
        if not isinstance(timeout, int | float):
            timeout = self._timeout_ms
        return float(timeout) / 1000.0

    def _raise_typed(self, exc: Exception) -> None:
        """A VISA timeout becomes InstrumentTimeout; a broken link InstrumentConnectionError."""
        if (
            isinstance(exc, pyvisa.errors.VisaIOError)
            and exc.error_code == StatusCode.error_timeout
        ):
            if self._peer_closed():  # pyvisa-py waits out its timeout on a closed socket
                why = "the instrument closed the connection"
                raise InstrumentConnectionError(self.name, self.last_command, why) from exc
            raise InstrumentTimeout(self.name, self.last_command, self._timeout_s()) from exc
        raise InstrumentConnectionError(self.name, self.last_command, str(exc)) from exc

    def _peer_closed(self) -> bool:
        """The socket under the session has seen the other end close it (EOF)."""
        sock = self._socket()
        if sock is None:
            return False
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return False  # open, nothing to read: a plain timeout
        except OSError:
            return True  # reset

    def write(self, command: str, **kwargs: Any) -> None:
        """Send one program message, remembering it for error messages."""
        if self._unanswered:
            self._drain_stale_reply()
        self.last_command = command
        self._record("tx", command)
        if "?" not in command or any("?" not in unit for unit in command.split(";")):
            self.commands_sent += 1
        # Flagged before the write: an interrupt landing between the write and the line
        # after it would otherwise leave a reply in the pipe that nobody knows about.
        self._unanswered = "?" in command
        try:
            super().write(command, **kwargs)
        except IO_ERRORS as exc:
            try:
                self._raise_typed(exc)
            except InstrumentConnectionError as typed:
                self._after_link_failure(typed)
                raise

    def _drain_stale_reply(self) -> None:
        """A query interrupted before its reply was read (Ctrl-C, SIGTERM, a timeout) leaves
        that reply in the pipe, where the next query would take it for its own. The safe
        state runs right after such an interrupt, so read and discard it first."""
        self._unanswered = False
        connection = getattr(self.adapter, "connection", None)
        if connection is None or not hasattr(connection, "timeout"):
            return
        saved = connection.timeout
        try:
            connection.timeout = 200
            with contextlib.suppress(pyvisa.errors.VisaIOError, UnicodeDecodeError):
                self._record("rx-discarded", super().read())
        finally:
            connection.timeout = saved

    def read(self, **kwargs: Any) -> str:
        """Read one reply; a timeout or undecodable bytes become typed errors, and so
        does a reply that never ends (pyvisa would read a stream without a terminator
        for ever: its timeout only bounds the wait for the next byte)."""
        try:
            reply = self._read_bounded(**kwargs)
        except UnicodeDecodeError as exc:
            self._unanswered = False
            raise InstrumentReplyError(
                self.last_command, repr(exc.object), "not ASCII", self.name
            ) from exc
        except IO_ERRORS as exc:
            self._raise_typed(exc)
        self._unanswered = False
        self._record("rx", reply)
        return reply

    def _read_bounded(self, **kwargs: Any) -> str:
        connection = getattr(self.adapter, "connection", None)
        termination = getattr(connection, "read_termination", None)
        real = isinstance(connection, pyvisa.resources.MessageBasedResource)
        if kwargs or not termination or not real:
            return super().read(**kwargs)  # a test adapter, or a caller's own settings
        raw = connection.read_bytes(MAX_REPLY_BYTES, break_on_termchar=True)
        end = termination.encode()
        if not raw.endswith(end):
            self._unanswered = False
            shown = raw[:60].decode("latin-1") + f"... ({len(raw)} bytes)"
            why = f"no end of message within {MAX_REPLY_BYTES} bytes"
            raise InstrumentReplyError(self.last_command, shown, why, self.name)
        return raw[: -len(end)].decode(connection.encoding)

    # --- the lost-link policy ---------------------------------------------------------

    def ask(self, command: str, query_delay: float | None = None) -> str:
        """A query; one that changes nothing is retried on a fresh connection after a
        transient link failure (QUERY_RETRIES), any other is asked once."""
        return self._retrying(
            command, lambda: super(ScpiInstrument, self).ask(command, query_delay)
        )

    def _retrying(self, command: str, attempt: Callable[[], Any]) -> Any:
        retry = idempotent(command) and self._reconnectable()
        tries = 1 + (QUERY_RETRIES if retry else 0)
        for n in range(1, tries + 1):
            try:
                return attempt()
            except (*LINK_ERRORS, InstrumentReplyError) as exc:
                if n == tries:
                    if isinstance(exc, InstrumentConnectionError):
                        self._after_link_failure(exc)
                    raise
                self._record("retry", f"{command} ({type(exc).__name__}: {exc})")
                try:
                    self.reconnect(wait_s=RECONNECT_WAITS_S[min(n, len(RECONNECT_WAITS_S)) - 1])
                except (*LINK_ERRORS, InstrumentReplyError) as again:
                    exc.add_note(f"reconnecting did not help: {again}")
                    raise exc from again  # the failure the caller's command met
                self.last_command = command
        raise AssertionError("unreachable")

    def _reconnectable(self) -> bool:
        """A VISA resource (not a test adapter that replays a fixed exchange)."""
        connection = getattr(self.adapter, "connection", None)
        return isinstance(connection, pyvisa.resources.Resource) and hasattr(
            self.adapter, "manager"
        )

    def _visa_settings(self) -> tuple[str, dict[str, Any]] | None:
        """The resource name and the session settings a reconnect opens it with; kept from
        the last open session, since a session closed by a failed reconnect (an instrument
        off the network refuses a new HiSLIP session) can no longer be asked."""
        connection = getattr(self.adapter, "connection", None)
        try:
            name = connection.resource_name  # type: ignore[union-attr]
        except AttributeError:
            return None
        except pyvisa.errors.InvalidSession:
            return getattr(self, "_last_settings", None)
        settings = {
            "timeout": connection.timeout,
            "read_termination": connection.read_termination,
            "write_termination": connection.write_termination,
        }
        if is_serial(name):
            for key in ("baud_rate", "data_bits", "parity", "stop_bits", "flow_control"):
                settings[key] = getattr(connection, key)
        self._last_settings = (name, settings)
        return self._last_settings

    def _after_link_failure(self, exc: InstrumentConnectionError) -> None:
        """The connection broke under a command that is not asked twice: reconnect, so the
        link is there for what follows (the safe state), and say so if the instrument
        came back from a reboot. Still unreachable: the caller's error stands."""
        if self._reconnecting or not self._reconnectable():
            return
        for wait_s in (0.0, *RECONNECT_WAITS_S):
            try:
                self.reconnect(wait_s)
                return
            except InstrumentRebooted as rebooted:
                raise rebooted from exc
            except (*LINK_ERRORS, InstrumentReplyError):
                continue

    def reconnect(self, wait_s: float = 0.0) -> None:
        """A fresh connection to the same resource: no stale reply, no dead socket.

        Raises InstrumentConnectionError if the instrument does not take it, and
        InstrumentRebooted if it comes back with its power-on bit set (a reboot put it at
        its `*RST` defaults: the test must know, not carry on)."""
        found = self._visa_settings() if self._reconnectable() else None
        if found is None:
            return  # a test adapter: nothing to reconnect
        connection, manager = self.adapter.connection, self.adapter.manager
        name, settings = found
        with contextlib.suppress(Exception):
            connection.close()
        if wait_s > 0:
            time.sleep(wait_s)  # the link's real time: a reconnect storm helps no one
        self._unanswered = False
        try:
            self.adapter.connection = manager.open_resource(name, **settings)
        except IO_ERRORS as exc:
            raise InstrumentConnectionError(self.name, self.last_command, f"{name}: {exc}") from exc
        self._record("reconnect", name)
        sock = self._socket()
        if sock is not None:
            try:
                sock.getpeername()
            except OSError as exc:
                why = f"{name}: not connected ({exc})"
                raise InstrumentConnectionError(self.name, self.last_command, why) from exc
            self._disable_nagle(sock)
        sent = self.last_command
        self._reconnecting = True
        try:
            reply = super().ask("*ESR?")  # read once: it clears the register
        finally:
            self._reconnecting = False
        self.last_command = sent
        try:
            esr = int(float(reply.strip() or 0))
        except ValueError:
            raise InstrumentReplyError("*ESR?", reply, "not a number", self.name) from None
        if esr & PON:
            raise InstrumentRebooted(self.name, sent)

    def values(
        self,
        command: str,
        separator: str = ",",
        cast: Callable[[str], Any] = float,
        preprocess_reply: Callable[[str], str] | None = None,
        maxsplit: int = -1,
        **kwargs: Any,
    ) -> list[Any]:
        """Like PyMeasure's `values`, but a reply that does not cast is an error.

        PyMeasure keeps uncastable fields as strings; a test rig must not compare a
        threshold against `"garbage"`, so an empty or garbled reply raises
        InstrumentReplyError naming the query and the reply (after the retries a query
        that changes nothing gets: line noise is a link fault too).
        """
        return self._retrying(
            command,
            lambda: self._values_once(
                command, separator, cast, preprocess_reply, maxsplit, **kwargs
            ),
        )

    def _values_once(
        self,
        command: str,
        separator: str,
        cast: Callable[[str], Any],
        preprocess_reply: Callable[[str], str] | None,
        maxsplit: int,
        **kwargs: Any,
    ) -> list[Any]:
        response = super().ask(command, **kwargs).strip()
        if callable(preprocess_reply):
            response = preprocess_reply(response)
        if cast is not str and not response:
            raise InstrumentReplyError(command, response, "empty reply", self.name)
        results: list[Any] = []
        for field in response.split(separator, maxsplit=maxsplit):
            try:
                results.append(cast(field.strip()) if cast is not str else field)
            except (ValueError, TypeError):
                why = f"cannot read {field!r} as {getattr(cast, '__name__', cast)}"
                raise InstrumentReplyError(command, response, why, self.name) from None
        return results

    def read_definite_block(self) -> bytes:
        """Read an IEEE 488.2 definite-length block (`#<n><length><data>`) and its
        terminator, as bytes: binary data may hold the termination character, so the
        length, not a line ending, says where it stops."""
        command = self.last_command
        try:
            head = self._read_exact(2)
            if head[:1] != b"#" or not head[1:2].isdigit() or head[1:2] == b"0":
                received = (head + self._drain_line()).decode("latin-1")
                why = "expected a #<n><length> block"
                raise InstrumentReplyError(command, received, why, self.name)
            digits = self._read_exact(int(head[1:2]))
            if not digits.isdigit():
                received = (head + digits).decode("latin-1")
                raise InstrumentReplyError(command, received, "bad block length", self.name)
            payload = self._read_exact(int(digits))
            self._read_exact(1)  # the message terminator after the block
        finally:
            self._unanswered = False
        self._record("rx", f"#{head[1:2].decode()}{digits.decode()}<{len(payload)} bytes>")
        return payload

    def _read_exact(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            try:
                chunk = self.read_bytes(count - len(data))
            except IO_ERRORS as exc:
                self._raise_typed(exc)
            if not chunk:
                received = data.decode("latin-1")
                raise InstrumentReplyError(self.last_command, received, "short block", self.name)
            data += chunk
        return data

    def _drain_line(self) -> bytes:
        with contextlib.suppress(Exception):
            return self.read_bytes(-1, break_on_termchar=True)
        return b""

    # --- identity and errors -----------------------------------------------------------

    def identity(self) -> Identity:
        """Read and split `*IDN?`."""
        try:
            return Identity.parse(self.ask("*IDN?"), self.IDN_FIELDS)
        except InstrumentReplyError as exc:
            raise exc.naming(self.name) from None

    def check_identity(self) -> Identity:
        """Read `*IDN?` and raise IdentityError unless vendor and model are this driver's."""
        ident = self.identity()
        vendors = {v.casefold() for v in self.VENDORS}
        model_ok = ident.model.casefold() == self.MODEL.casefold()
        if ident.vendor.casefold() not in vendors or not model_ok:
            expected = f"{' or '.join(self.VENDORS)} {self.MODEL}"
            raise IdentityError(self._resource_name(), expected, str(ident))
        return ident

    def _resource_name(self) -> str:
        connection = getattr(self.adapter, "connection", None)
        return str(getattr(connection, "resource_name", None) or self.name)

    def read_errors(self) -> list[tuple[int, str]]:
        """Drain `SYST:ERR?` until `0`, returning every (code, message) found."""
        errors: list[tuple[int, str]] = []
        query = self.ERROR_QUERY
        for _ in range(MAX_QUEUED_ERRORS):
            reply = self.ask(query)
            try:
                code, message = self.parse_error(reply)
            except InstrumentReplyError as exc:
                raise exc.naming(self.name) from None
            if code == 0:
                return errors
            errors.append((code, message))
        why = f"error queue not empty after {MAX_QUEUED_ERRORS} reads"
        raise InstrumentReplyError(query, reply, why, self.name)

    def parse_error(self, reply: str) -> tuple[int, str]:
        """One `SYST:ERR?` reply as (code, message); a model with another format overrides."""
        return parse_error_reply(reply, self.ERROR_QUERY)

    def raise_errors(self) -> None:
        """Drain the error queue and raise InstrumentError if it held anything."""
        cause = self.last_command
        errors = self.read_errors()
        if errors:
            raise InstrumentError(self.name, errors, cause)

    def check_errors(self) -> list[tuple[int, str]]:
        return self.read_errors()

    def check_set_errors(self) -> list[tuple[int, str]]:
        """Called by controls declared with `check_set_errors=True`: a rejected setpoint
        must stop the test, not merely be logged."""
        self.raise_errors()
        return []

    def close(self) -> None:
        """Release the connection (the VISA session, socket or port)."""
        self.adapter.close()
