"""Simulated JK boards on a pseudo-terminal: the GPS-port protocol and JK-PB's RS485.

- `JkGpsUartServer` (`jk_gps`): `4E 57` frames; a read-all (command 0x06) or a read of
  register 0x00 (command 0x03, as mpp-solar's JKSERIAL sends it) gets every tag.
- `JkPbUartServer` (`jk_pb`): Modbus writes of register 0x161C / 0x161E / 0x1620 (function
  0x10, one register, value 0) get the device-info / settings / cell-data frame (300
  bytes, `55 AA EB 90`), followed by the Modbus reply to the write.
- `Jk02Commands` (`jk_ble`'s engine, served over BLE by simlab.servers.ble): 20-byte
  `AA 55 90 EB` commands; 0x97 gets the device information, 0x96 the settings and then
  a cell-data frame, writes of 0x1D / 0x1E switch the charge / discharge FET.

A frame with a bad checksum, and a request the board does not know, get no reply.
Replies describe the firmware's last scan, under the lab lock (see PtyUartServer for the
link habits `bms.uart.*` adds).
"""

from __future__ import annotations

import struct
import threading
from typing import Any

from simlab.servers import jk_frames
from simlab.servers.pty_uart import PtyUartServer

GPS_START = b"\x4e\x57"
GPS_MAX = 256  # a request is short: longer claimed lengths are noise
MODBUS_LEN = 11
MODBUS_FRAMES = {0x161C: 0x03, 0x161E: 0x01, 0x1620: 0x02}
JK02_COMMAND = b"\xaa\x55\x90\xeb"


class _Buffered(PtyUartServer):
    """A byte buffer that `feed` appends to and the subclass cuts requests from."""

    def __init__(self, backend: Any, lock: threading.RLock, idle_reset_s: float = 0.2):
        super().__init__(backend, lock, idle_reset_s)
        self.buf = bytearray()
        self.counter = 0

    def reset_parser(self) -> None:
        self.buf.clear()

    def has_partial(self) -> bool:
        return bool(self.buf)

    def _next_counter(self) -> int:
        self.counter = (self.counter + 1) & 0xFF
        return self.counter

    def _status(self) -> Any:
        return self.backend.bms_status()


class JkGpsUartServer(_Buffered):
    protocol = "jk_gps"

    def feed(self, data: bytes) -> list[tuple[int, int]]:
        buf, out = self.buf, []
        buf += data
        while True:
            start = buf.find(GPS_START)
            if start < 0:
                del buf[: max(len(buf) - 1, 0)]
                return out
            del buf[:start]
            if len(buf) < 4:
                return out
            total = int.from_bytes(buf[2:4], "big") + 2
            if not 20 <= total <= GPS_MAX:
                del buf[0]
                continue
            if len(buf) < total:
                return out
            frame = bytes(buf[:total])
            if frame[-5] != 0x68 or int.from_bytes(frame[-4:], "big") != jk_frames.gps_checksum(
                frame[:-4]
            ):
                del buf[0]
                continue
            del buf[:total]
            out.append((frame[8], frame[11] if total > 20 else 0))

    def command_of(self, request: tuple[int, int]) -> int:
        return request[0]

    def handle(self, request: tuple[int, int]) -> list[bytes]:
        command, register = request
        with self.lock:
            if not self.backend.bms_powered():
                return []
            if command == 0x06 or (command == 0x03 and register == 0x00):
                data = jk_frames.gps_tags(
                    self._status(), self.backend.firmware, self.backend.t, self.comms.current_sign
                )
                return [jk_frames.gps_frame(command, data)]
        return []


def modbus_crc(data: bytes) -> int:
    value = 0xFFFF
    for byte in data:
        value ^= byte
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
    return value


class JkPbUartServer(_Buffered):
    protocol = "jk_pb"
    ADDRESS = 0x01

    def feed(self, data: bytes) -> list[int]:
        buf, out = self.buf, []
        buf += data
        while True:
            start = buf.find(bytes([self.ADDRESS, 0x10]))
            if start < 0:
                del buf[: max(len(buf) - 1, 0)]
                return out
            del buf[:start]
            if len(buf) < MODBUS_LEN:
                return out
            frame = bytes(buf[:MODBUS_LEN])
            if int.from_bytes(frame[-2:], "little") != modbus_crc(frame[:-2]):
                del buf[0]
                continue
            del buf[:MODBUS_LEN]
            register, count, size = struct.unpack_from(">HHB", frame, 2)
            if count == 1 and size == 2:
                out.append(register)

    def command_of(self, request: int) -> int:
        return request

    def handle(self, request: int) -> list[bytes]:
        frame_type = MODBUS_FRAMES.get(request)
        if frame_type is None:
            return []
        with self.lock:
            if not self.backend.bms_powered():
                return []
            frame = jk02_frame(self, frame_type)
        echo = struct.pack(">BBHH", self.ADDRESS, 0x10, request, 1)
        return [frame + echo + modbus_crc(echo).to_bytes(2, "little")]


def jk02_frame(server: _Buffered, frame_type: int) -> bytes:
    """One JK02 frame of `frame_type` from the lab's present state (under its lock)."""
    backend, counter = server.backend, server._next_counter()
    fw = backend.firmware
    if frame_type == 0x01:
        return jk_frames.settings_frame(fw, fw.cell_count, counter)
    if frame_type == 0x03:
        return jk_frames.device_frame(counter, uptime_s=backend.t)
    return jk_frames.cell_frame(server._status(), counter, backend.t, server.comms.current_sign)


class Jk02Commands(_Buffered):
    """The JK02 command side of a BLE board (no pty: simlab.servers.ble serves it)."""

    protocol = "jk_ble"

    def feed(self, data: bytes) -> list[tuple[int, int]]:
        buf, out = self.buf, []
        buf += data
        while True:
            start = buf.find(JK02_COMMAND)
            if start < 0:
                del buf[: max(len(buf) - 3, 0)]
                return out
            del buf[:start]
            if len(buf) < 20:
                return out
            frame = bytes(buf[:20])
            if sum(frame[:19]) & 0xFF != frame[19]:
                del buf[0]
                continue
            del buf[:20]
            out.append((frame[4], int.from_bytes(frame[6:10], "little")))

    def command_of(self, request: tuple[int, int]) -> int:
        return request[0]

    def other_request(self, request: tuple[int, int]) -> tuple[int, int]:
        """The request whose reply a confused module sends instead (bms.ble.wrong_reply_every)."""
        return (0x97 if request[0] == 0x96 else 0x96, 0)

    def handle(self, request: tuple[int, int]) -> list[bytes]:
        command, value = request
        with self.lock:
            if not self.backend.bms_powered():
                return []
            if command == 0x97:
                return [jk02_frame(self, 0x03)]
            if command == 0x96:
                return [jk02_frame(self, 0x01), jk02_frame(self, 0x02)]
            if command in (0x1D, 0x1E):
                fw = self.backend.firmware
                disable_charge, disable_discharge = fw.sw_disable_charge, fw.sw_disable_discharge
                if command == 0x1D:
                    disable_charge = not value
                else:
                    disable_discharge = not value
                self.backend.fet_control(disable_charge, disable_discharge)
        return []
