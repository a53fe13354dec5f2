"""The JBD / Xiaoxiang BMS UART protocol, served on a pseudo-terminal.

A client opens `.port` (the pty slave, e.g. /dev/pts/7) with pyserial exactly as it
would open /dev/ttyUSB0 on a bench. Frames (big-endian):

    request  DD A5|5A REG LEN data CHK_hi CHK_lo 77    CHK over REG, LEN, data
    reply    DD REG STATUS LEN data CHK_hi CHK_lo 77   CHK over REG..data
    CHK = (0x10000 - sum) & 0xFFFF

Like the real unit, a frame with a bad start/end byte or checksum, and a read of a
register it does not know, gets no reply at all (the client times out and resends).
The EEPROM registers (0x10-0x3F, 0xA0-0xA2) answer in factory mode only, and are tied to
the firmware's parameters (simlab.servers.jbd_eeprom).
Replies describe the firmware's last scan, under the lab lock, so they are consistent
with frozen virtual time.
"""

from __future__ import annotations

import struct
import threading
from collections import Counter
from typing import Protocol

from simlab.firmware import BmsStatus
from simlab.firmware.protections import JBD_BITS
from simlab.servers.jbd_eeprom import JbdEeprom
from simlab.servers.pty_uart import PtyUartServer

START, END = 0xDD, 0x77
READ, WRITE = 0xA5, 0x5A
MAX_REQUEST_DATA = 64  # longer claimed lengths are noise: resynchronise instead of waiting

# Order of the 0xAA error counters and the protection each one counts.
ERROR_COUNTERS = [
    "short_circuit",
    "charge_oc",
    "discharge_oc",
    "cell_ov",
    "cell_uv",
    "charge_ot",
    "charge_ut",
    "discharge_ot",
    "discharge_ut",
    "pack_ov",
    "pack_uv",
]


class JbdBackend(Protocol):
    """What the server needs from the simulation (simlab.world.World provides it)."""

    def bms_status(self) -> BmsStatus: ...

    def bms_powered(self) -> bool: ...

    def fet_control(self, disable_charge: bool, disable_discharge: bool) -> None: ...

    def events(self, since: object = 0) -> tuple[list[dict[str, object]], int]: ...

    def parameters(self) -> dict[str, object]: ...

    def get(self, path: object) -> object: ...

    def set(self, path: object, value: object) -> object: ...


# -- codec ------------------------------------------------------------------------------


def checksum(body: bytes) -> int:
    return (0x10000 - sum(body)) & 0xFFFF


def reply_frame(reg: int, data: bytes = b"", status: int = 0x00) -> bytes:
    """The reply checksum covers status, length and data, not the register byte."""
    body = bytes([status, len(data)]) + data
    return bytes([START, reg]) + body + checksum(body).to_bytes(2, "big") + bytes([END])


def request_frame(cmd: int, reg: int, data: bytes = b"") -> bytes:
    """A host request (for tests and tools)."""
    body = bytes([reg, len(data)]) + data
    return bytes([START, cmd]) + body + checksum(body).to_bytes(2, "big") + bytes([END])


def _u16(x: float) -> int:
    return min(max(round(x), 0), 0xFFFF)


def _s16(x: float) -> int:
    return min(max(round(x), -0x8000), 0x7FFF)


def encode_basic_info(s: BmsStatus, current_sign: int = 1) -> bytes:
    """Register 0x03; `current_sign` -1 models firmware that reports charging negative."""
    d = s.production_date
    date_raw = ((d.year - 2000) << 9) | (d.month << 5) | d.day
    fets = (1 if s.charge_fet else 0) | (2 if s.discharge_fet else 0)
    head = struct.pack(
        ">HhHHHHHHHBBBBB",
        _u16(s.pack_v * 100),
        _s16(s.current_a * 100 * current_sign),
        _u16(s.remaining_ah * 100),
        _u16(s.full_ah * 100),
        _u16(s.cycles),
        date_raw,
        s.balance_bits & 0xFFFF,
        (s.balance_bits >> 16) & 0xFFFF,
        s.protection_bits & ((1 << JBD_BITS) - 1),  # bits 13-15 are reserved
        s.software_version & 0xFF,
        min(max(s.soc_pct, 0), 100),
        fets,
        len(s.cells_v),
        len(s.temps_c),
    )
    return head + b"".join(struct.pack(">H", _u16(c * 10 + 2731)) for c in s.temps_c)


def encode_cells(s: BmsStatus) -> bytes:
    """Register 0x04: cell voltages as the BMS ADC reads them, mV."""
    return b"".join(struct.pack(">H", _u16(v * 1000)) for v in s.cells_v)


class FrameParser:
    """Turns a byte stream into valid requests (cmd, reg, data), resynchronising on 0xDD."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def reset(self) -> None:
        self.buf.clear()

    def feed(self, data: bytes) -> list[tuple[int, int, bytes]]:
        buf, out = self.buf, []
        buf += data
        while True:
            start = buf.find(START)
            if start < 0:
                buf.clear()
                return out
            del buf[:start]
            if len(buf) < 4:
                return out
            cmd, reg, n = buf[1], buf[2], buf[3]
            if cmd not in (READ, WRITE) or n > MAX_REQUEST_DATA:
                del buf[0]
                continue
            total = 4 + n + 3
            if len(buf) < total:
                return out
            frame = bytes(buf[:total])
            chk = int.from_bytes(frame[4 + n : 6 + n], "big")
            if frame[-1] != END or chk != checksum(frame[2 : 4 + n]):
                del buf[0]  # a false start: look for the next 0xDD inside it
                continue
            del buf[:total]
            out.append((cmd, reg, frame[4 : 4 + n]))


# -- server -----------------------------------------------------------------------------

REG_BASIC, REG_CELLS, REG_HARDWARE, REG_ERRORS = 0x03, 0x04, 0x05, 0xAA
REG_FACTORY_ENTER, REG_FACTORY_EXIT, REG_FET_CONTROL = 0x00, 0x01, 0xE1
REG_USE_PASSWORD, REG_SET_PASSWORD, REG_CLEAR_PASSWORD = 0x06, 0x07, 0x09
STATUS_ERROR = 0x80


class JbdUartServer(PtyUartServer):
    """One simulated JBD board on a pty (see PtyUartServer for the link behaviour)."""

    protocol = "jbd"

    def __init__(self, backend: JbdBackend, lock: threading.RLock, idle_reset_s: float = 0.2):
        super().__init__(backend, lock, idle_reset_s)
        self.factory_mode = False
        self._parser = FrameParser()
        self.eeprom = JbdEeprom(backend, lambda: backend.bms_status().device_name)  # type: ignore[arg-type]

    def feed(self, data: bytes) -> list[tuple[int, int, bytes]]:
        return self._parser.feed(data)

    def reset_parser(self) -> None:
        self._parser.reset()

    def has_partial(self) -> bool:
        return bool(self._parser.buf)

    def command_of(self, request: tuple[int, int, bytes]) -> int:
        return request[1]

    def handle(self, request: tuple[int, int, bytes]) -> list[bytes]:
        cmd, reg, data = request
        with self.lock:
            if not self.backend.bms_powered():
                return []  # a browned-out board has no UART
            reply = self._read(reg) if cmd == READ else self._write(reg, data)
        return [reply] if reply else []

    def _read(self, reg: int) -> bytes | None:
        if reg == REG_BASIC:
            status = self.backend.bms_status()
            comms = self.comms
            data = encode_basic_info(status, comms.current_sign) + bytes(comms.jbd.extra_bytes)
            return reply_frame(reg, data)
        if reg == REG_CELLS:
            return reply_frame(reg, encode_cells(self.backend.bms_status()))
        if reg == REG_HARDWARE:
            return reply_frame(reg, self.backend.bms_status().device_name.encode("ascii"))
        if reg == REG_ERRORS:
            events, _ = self.backend.events(0)
            trips = Counter(e["protection"] for e in events if e["kind"] == "trip")
            return reply_frame(reg, b"".join(struct.pack(">H", trips[n]) for n in ERROR_COUNTERS))
        if self.eeprom.holds(reg):
            if not self.factory_mode:
                return reply_frame(reg, status=STATUS_ERROR)
            return reply_frame(reg, self.eeprom.read(reg))
        return None

    def _write(self, reg: int, data: bytes) -> bytes | None:
        if reg == REG_FACTORY_ENTER and data == b"\x56\x78":
            self.factory_mode = True
        elif reg == REG_FACTORY_EXIT and data in (b"\x00\x00", b"\x28\x28"):
            # acknowledged at any time: some clients send it before every read
            if self.factory_mode and data == b"\x28\x28":
                errors = self.eeprom.save()
                if errors:
                    self.factory_mode = False
                    return reply_frame(reg, status=STATUS_ERROR)
            self.eeprom.discard()
            self.factory_mode = False
        elif reg == REG_FET_CONTROL and len(data) == 2:
            self.backend.fet_control(bool(data[1] & 0x01), bool(data[1] & 0x02))
        elif reg in (REG_USE_PASSWORD, REG_SET_PASSWORD, REG_CLEAR_PASSWORD):
            pass  # no password is set on this board: every password is accepted
        elif self.eeprom.holds(reg):
            if not self.factory_mode or not self.eeprom.write(reg, data):
                return reply_frame(reg, status=STATUS_ERROR)
        else:
            return None
        return reply_frame(reg)
