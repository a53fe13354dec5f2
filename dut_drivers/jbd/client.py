"""JBD BMS over a UART (pyserial): request, read a whole reply, decode.

The port is opened with `serial.serial_for_url`, so a lab's `/dev/ttyUSB0`, simlab's
pty path and pyserial's `loop://` all work. A sleeping unit may swallow the first
request, so a timeout (and only a timeout) is retried; a corrupt reply is reported,
never papered over. No sleeps: the serial timeout is the only wait.
"""

from __future__ import annotations

import time
from typing import Any

import serial

from dut_drivers.base import BmsStatus, DutIdentity
from dut_drivers.errors import BmsTimeout
from dut_drivers.jbd import frames


class JbdBms:
    """A JBD / Xiaoxiang / Overkill Solar BMS on a serial port (BmsLink)."""

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        timeout_s: float = 0.5,
        retries: int = 1,
        transcript: list[dict[str, Any]] | None = None,
    ) -> None:
        self.port = port
        self.retries = retries
        self.timeout_s = timeout_s
        self.transcript = transcript
        self._serial = serial.serial_for_url(port, baudrate=baudrate, timeout=timeout_s)

    def __enter__(self) -> JbdBms:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, direction: str, data: bytes) -> None:
        if self.transcript is not None and data:
            self.transcript.append({"dir": direction, "data": data.hex(" "), "t": time.monotonic()})

    def _exchange_once(self, request: bytes, register: int) -> bytes:
        self._serial.reset_input_buffer()
        self._record("tx", request)
        self._serial.write(request)
        self._serial.flush()
        header = self._serial.read(frames.HEADER_LEN)
        if len(header) < frames.HEADER_LEN:
            self._record("rx", header)
            what = "no reply" if not header else "reply cut short"
            raise BmsTimeout(f"{self.port}: {what} within {self.timeout_s:g} s", request, header)
        try:
            total = frames.frame_length(header, request)
        except Exception:
            self._record("rx", header)
            raise
        rest = self._serial.read(total - frames.HEADER_LEN)
        frame = header + rest
        self._record("rx", frame)
        if len(frame) < total:
            raise BmsTimeout(
                f"{self.port}: reply cut short ({len(frame)} of {total} bytes)", request, frame
            )
        return frames.parse_reply(frame, register, request)

    def read_register(self, register: int) -> bytes:
        """Read one register and return its data bytes, resending on timeout only."""
        request = frames.build_read(register)
        for attempt in range(self.retries + 1):
            try:
                return self._exchange_once(request, register)
            except BmsTimeout:
                if attempt == self.retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def basic_info(self) -> frames.BasicInfo:
        return frames.decode_basic_info(self.read_register(frames.REG_BASIC_INFO))

    def identity(self) -> DutIdentity:
        hardware = frames.decode_hardware(self.read_register(frames.REG_HARDWARE))
        info = self.basic_info()
        return DutIdentity(
            protocol="jbd",
            hardware=hardware,
            firmware=info.software_version,
            production_date=info.production_date,
            cell_count=info.status.cell_count,
        )

    def read_status(self) -> BmsStatus:
        return self.basic_info().status

    def read_cell_voltages(self) -> list[float]:
        return frames.decode_cell_voltages(self.read_register(frames.REG_CELL_VOLTAGES))

    def close(self) -> None:
        self._serial.close()
