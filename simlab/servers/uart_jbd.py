"""The JBD / Xiaoxiang BMS UART protocol, served on a pseudo-terminal.

A client opens `.port` (the pty slave, e.g. /dev/pts/7) with pyserial exactly as it
would open /dev/ttyUSB0 on a bench. Frames (big-endian):

    request  DD A5|5A REG LEN data CHK_hi CHK_lo 77    CHK over REG, LEN, data
    reply    DD REG STATUS LEN data CHK_hi CHK_lo 77   CHK over REG..data
    CHK = (0x10000 - sum) & 0xFFFF

Like the real unit, a frame with a bad start/end byte or checksum, and a read of a
register it does not know, gets no reply at all (the client times out and resends).
Replies describe the firmware's last scan, under the lab lock, so they are consistent
with frozen virtual time.
"""

from __future__ import annotations

import contextlib
import os
import select
import struct
import threading
import tty
from collections import Counter
from typing import Protocol

from simlab.firmware import BmsStatus

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


def encode_basic_info(s: BmsStatus) -> bytes:
    """Register 0x03."""
    d = s.production_date
    date_raw = ((d.year - 2000) << 9) | (d.month << 5) | d.day
    fets = (1 if s.charge_fet else 0) | (2 if s.discharge_fet else 0)
    head = struct.pack(
        ">HhHHHHHHHBBBBB",
        _u16(s.pack_v * 100),
        _s16(s.current_a * 100),
        _u16(s.remaining_ah * 100),
        _u16(s.full_ah * 100),
        _u16(s.cycles),
        date_raw,
        s.balance_bits & 0xFFFF,
        (s.balance_bits >> 16) & 0xFFFF,
        s.protection_bits & 0xFFFF,
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


class JbdUartServer:
    """Serves one simulated JBD board on a pty; one reader thread answers requests."""

    def __init__(self, backend: JbdBackend, lock: threading.RLock, idle_reset_s: float = 0.2):
        self.backend = backend
        self.lock = lock
        self.idle_reset_s = idle_reset_s  # a UART frame gap: drop a stale partial frame
        self.factory_mode = False
        self.port = ""
        self._parser = FrameParser()
        self._fds: tuple[int, int] | None = None
        self._wake: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass unchanged
        self._fds = (master, slave)
        self._wake = os.pipe()
        self.port = os.ttyname(slave)
        self._thread = threading.Thread(target=self._run, name=f"jbd-uart {self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None or self._fds is None or self._wake is None:
            return
        os.write(self._wake[1], b"x")
        self._thread.join(timeout=2)
        for fd in (*self._fds, *self._wake):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._thread = self._fds = self._wake = None

    def _run(self) -> None:
        assert self._fds is not None and self._wake is not None
        master, wake = self._fds[0], self._wake[0]
        while True:
            timeout = self.idle_reset_s if self._parser.buf else None
            ready, _, _ = select.select([master, wake], [], [], timeout)
            if wake in ready:
                return
            if not ready:
                self._parser.reset()
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            for cmd, reg, payload in self._parser.feed(data):
                reply = self.handle(cmd, reg, payload)
                if reply:
                    os.write(master, reply)

    def handle(self, cmd: int, reg: int, data: bytes) -> bytes | None:
        """The reply frame to one valid request, or None for silence."""
        with self.lock:
            if not self.backend.bms_powered():
                return None  # a browned-out board has no UART
            if cmd == READ:
                return self._read(reg)
            return self._write(reg, data)

    def _read(self, reg: int) -> bytes | None:
        if reg == 0x03:
            return reply_frame(reg, encode_basic_info(self.backend.bms_status()))
        if reg == 0x04:
            return reply_frame(reg, encode_cells(self.backend.bms_status()))
        if reg == 0x05:
            return reply_frame(reg, self.backend.bms_status().device_name.encode("ascii"))
        if reg == 0xAA:
            events, _ = self.backend.events(0)
            trips = Counter(e["protection"] for e in events if e["kind"] == "trip")
            return reply_frame(reg, b"".join(struct.pack(">H", trips[n]) for n in ERROR_COUNTERS))
        return None

    def _write(self, reg: int, data: bytes) -> bytes | None:
        if reg == 0x00 and data == b"\x56\x78":
            self.factory_mode = True
        elif reg == 0x01 and data in (b"\x00\x00", b"\x28\x28"):
            self.factory_mode = False  # acknowledged at any time: clients send it before reads
        elif reg == 0xE1 and len(data) == 2:
            self.backend.fet_control(bool(data[1] & 0x01), bool(data[1] & 0x02))
        else:
            return None
        return reply_frame(reg)
