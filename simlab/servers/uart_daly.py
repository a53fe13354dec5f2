"""The Daly UART/RS485 protocol, served on a pseudo-terminal (see PtyUartServer).

Requests and replies are 13 bytes: `A5 addr ID 08 data[8] sum`, the checksum being the
low byte of the sum of the first twelve. Hosts send from 0x40 (PC/RS485) or 0x80
(UART/Bluetooth); the board answers from 0x01. A frame with a bad checksum, and an ID it
does not know, get no reply. Multi-frame replies (0x95 cells, 0x96 temperatures, 0x57
battery code, 0x62/0x63 versions) carry a 1-based frame number; over UART only frames
holding data are sent. `bms.daly.*` bends them the way real units do (order, a repeated
last frame, a lost frame).

Current is sent as 30000 - 10 x I (0.1 A): a value below 30000 means charging, the
convention most open-source Daly tools read; `bms.current_sign = -1` inverts it.
"""

from __future__ import annotations

import struct
import threading
from typing import Any

from simlab.firmware import PROTECTION_BITS
from simlab.servers.pty_uart import PtyUartServer

START, LENGTH, BMS_ADDRESS = 0xA5, 0x08, 0x01
FRAME_LEN = 13
SOFTWARE_VERSION = "20240315-1.0.0"
HARDWARE_VERSION = "DL-16S-100A-SM"
BATTERY_CODE = "SIMLAB-DALY-16S-0001"

# firmware protection → (byte, bit) of the level-2 (protection) flag in 0x98
FAILURE_BITS: dict[str, tuple[int, int]] = {
    "cell_ov": (0, 1),
    "cell_uv": (0, 3),
    "pack_ov": (0, 5),
    "pack_uv": (0, 7),
    "charge_ot": (1, 1),
    "charge_ut": (1, 3),
    "discharge_ot": (1, 5),
    "discharge_ut": (1, 7),
    "charge_oc": (2, 1),
    "discharge_oc": (2, 3),
    "discharge_oc1": (2, 3),
    "discharge_oc2": (2, 3),
    "short_circuit": (6, 2),
    "afe_error": (5, 0),
    "cell_imbalance": (3, 1),  # cell voltage difference, level 2
    "fet_ot": (4, 1),
    "temp_sensor_fault": (4, 3),
    "sense_wire_open": (5, 1),
}


def checksum(first12: bytes) -> int:
    return sum(first12) & 0xFF


def frame(command: int, data: bytes, address: int = BMS_ADDRESS) -> bytes:
    head = bytes([START, address, command, LENGTH]) + data.ljust(8, b"\x00")[:8]
    return head + bytes([checksum(head)])


def request(command: int, host: int = 0x40, data: bytes = bytes(8)) -> bytes:
    """A host request (tests and tools)."""
    return frame(command, data, host)


class FrameParser:
    """13-byte requests from a byte stream, resynchronising on 0xA5 + a valid checksum."""

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
            if len(buf) < FRAME_LEN:
                return out
            f = bytes(buf[:FRAME_LEN])
            if f[3] != LENGTH or f[12] != checksum(f[:12]):
                del buf[0]
                continue
            del buf[:FRAME_LEN]
            out.append((f[1], f[2], f[4:12]))


def _multi(command: int, chunks: list[bytes]) -> list[bytes]:
    return [frame(command, bytes([i + 1]) + chunk) for i, chunk in enumerate(chunks)]


def _text_frames(command: int, text: str, count: int) -> list[bytes]:
    raw = text.encode("ascii").ljust(7 * count, b" ")[: 7 * count]
    return _multi(command, [raw[i : i + 7] for i in range(0, len(raw), 7)])


class DalyUartServer(PtyUartServer):
    """One simulated Daly board on a pty."""

    protocol = "daly"

    def __init__(self, backend: Any, lock: threading.RLock, idle_reset_s: float = 0.2):
        super().__init__(backend, lock, idle_reset_s)
        self._parser = FrameParser()

    def feed(self, data: bytes) -> list[tuple[int, int, bytes]]:
        return self._parser.feed(data)

    def reset_parser(self) -> None:
        self._parser.reset()

    def has_partial(self) -> bool:
        return bool(self._parser.buf)

    def command_of(self, request: tuple[int, int, bytes]) -> int:
        return request[1]

    def handle(self, request: tuple[int, int, bytes]) -> list[bytes]:
        _address, command, data = request
        with self.lock:
            if not self.backend.bms_powered():
                return []
            frames = self._reply(command, data)
        if len(frames) > 1:
            frames = self._bend(frames)
        return frames

    def _bend(self, frames: list[bytes]) -> list[bytes]:
        """Multi-frame habits of real units (bms.daly.*)."""
        daly = self.comms.daly
        if daly.drop_frame:
            frames = [f for f in frames if f[4] != daly.drop_frame]
        if daly.frame_order == "reversed":
            frames = frames[::-1]
        elif daly.frame_order == "swapped":
            for i in range(0, len(frames) - 1, 2):
                frames[i], frames[i + 1] = frames[i + 1], frames[i]
        if daly.repeat_last and frames:
            frames = [*frames, frames[-1]]
        return frames

    def _reply(self, command: int, data: bytes) -> list[bytes]:
        s = self.backend.bms_status()
        cells, temps = s.cells_v, s.temps_c
        if command == 0x90:
            raw = 30000 - round(s.current_a * 10) * self.comms.current_sign
            soc = min(max(round(s.remaining_ah / s.full_ah * 1000), 0), 1000)
            body = struct.pack(">HHHH", round(s.pack_v * 10), 0, min(max(raw, 0), 0xFFFF), soc)
            return [frame(command, body)]
        if command == 0x91:
            hi = max(range(len(cells)), key=lambda i: cells[i])
            lo = min(range(len(cells)), key=lambda i: cells[i])
            body = struct.pack(
                ">HBHB", round(cells[hi] * 1000), hi + 1, round(cells[lo] * 1000), lo + 1
            )
            return [frame(command, body)]
        if command == 0x92:
            hi = max(range(len(temps)), key=lambda i: temps[i])
            lo = min(range(len(temps)), key=lambda i: temps[i])
            body = bytes([_t(temps[hi]), hi + 1, _t(temps[lo]), lo + 1])
            return [frame(command, body)]
        if command == 0x93:
            state = 1 if s.current_a > 0.05 else 2 if s.current_a < -0.05 else 0
            mah = round(s.remaining_ah * 1000)
            body = struct.pack(
                ">BBBBl", state, int(s.charge_fet), int(s.discharge_fet), s.cycles & 0xFF, mah
            )
            return [frame(command, body)]
        if command == 0x94:
            body = struct.pack(
                ">BBBBBH",
                len(cells),
                len(temps),
                int(s.current_a > 0.05),
                int(s.current_a < -0.05),
                0,
                s.cycles,
            )
            return [frame(command, body)]
        if command == 0x95:
            mv = [round(v * 1000) for v in cells]
            chunks = [mv[i : i + 3] for i in range(0, len(mv), 3)]
            return _multi(command, [struct.pack(f">{len(c)}H", *c) for c in chunks])
        if command == 0x96:
            raw = bytes(_t(t) for t in temps)
            return _multi(command, [raw[i : i + 7] for i in range(0, len(raw), 7)])
        if command == 0x97:
            return [frame(command, s.balance_bits.to_bytes(6, "little"))]
        if command == 0x98:
            body = bytearray(8)
            for bit, name in enumerate(PROTECTION_BITS):
                if s.protection_bits >> bit & 1 and name in FAILURE_BITS:
                    byte, b = FAILURE_BITS[name]
                    body[byte] |= 1 << b
            return [frame(command, bytes(body))]
        if command == 0x57:
            return _text_frames(command, BATTERY_CODE, 5)
        if command == 0x62:
            return _text_frames(command, SOFTWARE_VERSION, 2)
        if command == 0x63:
            return _text_frames(command, HARDWARE_VERSION, 2)
        if command in (0xD9, 0xDA):
            on = bool(data[0])
            fw = self.backend.firmware
            disable_charge, disable_discharge = fw.sw_disable_charge, fw.sw_disable_discharge
            if command == 0xDA:
                disable_charge = not on
            else:
                disable_discharge = not on
            self.backend.fet_control(disable_charge, disable_discharge)
            return [frame(command, bytes([int(on)]))]
        return []


def _t(celsius: float) -> int:
    return min(max(round(celsius) + 40, 0), 0xFF)
