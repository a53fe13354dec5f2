"""A request/reply serial line to a BMS, shared by the UART protocol drivers.

The port is opened with `serial.serial_for_url`, so a lab's `/dev/ttyUSB0`, simlab's pty
path and pyserial's `loop://` all work; a BLE link (`dut_drivers.ble.BleSerial`) is
handed in as the stream, so the same drivers read a BMS over Bluetooth. Three habits of
real units are handled here, once for every protocol:

- a sleeping unit swallows the first request: a timeout (and only a timeout) is retried;
- a unit polled too fast drops replies: the link keeps `min_interval_s` between the end
  of one exchange and the next request, waiting on the serial port's own timeout;
- a late or stray reply from an earlier exchange: the input is flushed before each
  request, so it can never be read as the answer to the next one.

Every byte sent and received goes to the transcript. Errors name the port, what was
awaited and the bytes on both sides.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import serial

from dut_drivers.errors import BmsTimeout

T = TypeVar("T")


class UartLink:
    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        timeout_s: float = 0.5,
        retries: int = 1,
        min_interval_s: float = 0.0,
        transcript: Any | None = None,
        stream: Any | None = None,
    ) -> None:
        self.port = port
        self.timeout_s = timeout_s
        self.retries = retries
        self.min_interval_s = min_interval_s
        self.transcript = transcript
        self.exchanges = 0
        self.resends = 0
        # Each completed exchange's duration (request written to reply read, resends
        # included), the latest ones; `timed` counts them all.
        self.exchange_s: deque[float] = deque(maxlen=1000)
        self.timed = 0
        self._sent_at = 0.0
        self._last_done = float("-inf")
        self._rx = bytearray()
        # `stream`: anything with pyserial's read/write/reset_input_buffer/timeout, such as
        # a BLE characteristic pair (dut_drivers.ble.BleSerial); else the port is opened.
        self._serial = stream or serial.serial_for_url(port, baudrate=baudrate, timeout=timeout_s)

    # -- bytes -------------------------------------------------------------------------

    def record(self, direction: str, data: bytes, note: str = "") -> None:
        if self.transcript is not None and data:
            entry: dict[str, Any] = {"dir": direction, "data": data.hex(" "), "t": time.monotonic()}
            if note:
                entry["note"] = note
            self.transcript.append(entry)

    def _pace(self) -> None:
        """Hold off until `min_interval_s` after the last exchange ended.

        The wait is a read on the port with a timeout: whatever arrives meanwhile is a
        stray byte that the flush before the request would drop anyway.
        """
        gap = self.min_interval_s - (time.monotonic() - self._last_done)
        if gap <= 0:
            return
        self._serial.timeout = gap
        try:
            stray = self._serial.read(4096)
        finally:
            self._serial.timeout = self.timeout_s
        self.record("rx", stray, "stray bytes while pacing")

    def send(self, request: bytes) -> None:
        self._pace()
        self._serial.reset_input_buffer()
        self._rx = bytearray()
        self.record("tx", request)
        self._serial.write(request)
        self._serial.flush()
        self._sent_at = time.monotonic()

    def read(self, n: int, request: bytes, what: str, got: bytes = b"") -> bytes:
        """Exactly `n` more bytes (after `got`), or BmsTimeout naming what was awaited."""
        data = self._serial.read(n) if n > 0 else b""
        self._rx += data
        if len(data) < n:
            received = got + data
            state = "no reply" if not received else f"reply cut short ({len(received)} bytes)"
            raise BmsTimeout(
                f"{self.port}: {state} to {what} within {self.timeout_s:g} s", request, received
            )
        return data

    def read_available(self, request: bytes, what: str, wait_s: float) -> bytes:
        """Whatever arrives within `wait_s` once the first byte is in (multi-frame replies)."""
        self._serial.timeout = wait_s
        try:
            data = self._serial.read(4096)
        finally:
            self._serial.timeout = self.timeout_s
        self._rx += data
        return data

    def host_latency(self, waits: int = 8, wait_s: float = 0.002) -> tuple[float, ...]:
        """How late this host wakes a reader on this port: `waits` reads of nothing, each
        with a `wait_s` timeout (real time, on the port's own timeout), and by how much
        each overshot it. An exchange's end is stamped when the reader wakes after the
        reply's last byte, so its duration reads long by up to this much: the budget of
        a link timing is this host's, measured, not assumed. A read that returned bytes
        (a stray frame) is not a sample."""
        late: list[float] = []
        self._serial.timeout = wait_s
        try:
            for _ in range(waits):
                t0 = time.monotonic()
                stray = self._serial.read(1)
                took = time.monotonic() - t0
                if stray:
                    self.record("rx", stray, "stray byte while timing the host")
                    continue
                late.append(max(took - wait_s, 0.0))
        finally:
            self._serial.timeout = self.timeout_s
        return tuple(late)

    def discard_input(self) -> None:
        self._serial.reset_input_buffer()

    # -- exchanges ---------------------------------------------------------------------

    def transact(self, request: bytes, receive: Callable[[bytes], T]) -> T:
        """Send `request` and return `receive(request)`; resend on timeout only."""
        first_sent: float | None = None
        for attempt in range(self.retries + 1):
            try:
                self.send(request)
                if first_sent is None:
                    first_sent = self._sent_at
                self.exchanges += 1
                reply = receive(request)
                self.exchange_s.append(time.monotonic() - first_sent)
                self.timed += 1
                return reply
            except BmsTimeout:
                if attempt == self.retries:
                    raise
                self.resends += 1
            finally:
                self._last_done = time.monotonic()
                self.record("rx", bytes(self._rx))
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self._serial.close()
