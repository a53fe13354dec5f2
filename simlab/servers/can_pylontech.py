"""The simulated BMS as a Pylontech-style CAN node towards an inverter.

Every `bms.can.period_s` of the lab's time (1 s, as the protocol's BMSs do) it
broadcasts, little-endian, 11-bit ids:

    0x351  charge voltage limit (0.1 V), charge current limit (0.1 A),
           discharge current limit (0.1 A), discharge voltage limit (0.1 V)
    0x355  SoC (%), SoH (%)
    0x356  pack voltage (0.01 V), current (0.1 A, + charging), temperature (0.1 °C)
    0x359  protection flags, warning flags, module count, 'P' 'N'
    0x35C  charge enable (b7), discharge enable (b6)
    0x35E  manufacturer name, ASCII, space padded

The limits follow the firmware: a tripped charge path (cell/pack OV, charge OT/UT/OC)
asks for 0 A charge current and clears charge enable, and likewise for discharge; below
that, the derating table by temperature and state of charge, and a lost inverter link
(`simlab.servers.can_derating`). The
encoding is written here from the protocol description, independently of the rig's DBC,
so a round trip checks one against the other. The inverter's keep-alive (0x305) is
counted and otherwise ignored. `bms.can.silent` stops the broadcasts (a lost node).
"""

from __future__ import annotations

import struct
import threading
from collections import Counter
from typing import Any

from simlab.firmware import PROTECTION_BITS
from simlab.servers.can_bus import CanFrame, SimCanBus, VirtualBusBridge
from simlab.servers.can_derating import LinkWatch, limits
from simlab.servers.socketcand import SocketcandServer

NAME = b"PYLON   "
KEEPALIVE = 0x305
# 0x359 (byte, bit) per firmware protection
PROTECTION_FLAGS: dict[str, tuple[int, int]] = {
    "cell_ov": (0, 1),
    "pack_ov": (0, 1),
    "cell_uv": (0, 2),
    "pack_uv": (0, 2),
    "charge_ot": (0, 3),
    "discharge_ot": (0, 3),
    "charge_ut": (0, 4),
    "discharge_ut": (0, 4),
    "discharge_oc": (0, 7),
    "discharge_oc1": (0, 7),
    "discharge_oc2": (0, 7),
    "short_circuit": (0, 7),
    "charge_oc": (1, 0),
    "afe_error": (1, 3),
}


def _s16(x: float) -> int:
    return min(max(round(x), -0x8000), 0x7FFF)


def _u16(x: float) -> int:
    return min(max(round(x), 0), 0xFFFF)


def encode_frames(
    status: Any, comms: Any, derate: bool = True, link_lost: bool = False
) -> list[tuple[int, bytes]]:
    """The broadcast set for one instant, from the firmware's status and `bms.*`."""
    can = comms.can
    n = len(status.cells_v)
    charge_ok, discharge_ok = status.charge_fet, status.discharge_fet
    charge_a, discharge_a, warn_comm = limits(
        status, can.charge_current_a, can.discharge_current_a, derate, link_lost
    )
    frames = [
        (
            0x351,
            struct.pack(
                "<HhhH",
                _u16(can.charge_voltage_per_cell_v * n * 10),
                _s16(charge_a * 10),
                _s16(discharge_a * 10),
                _u16(can.discharge_voltage_per_cell_v * n * 10),
            ),
        ),
        (0x355, struct.pack("<HH", min(max(status.soc_pct, 0), 100), 100)),
        (
            0x356,
            struct.pack(
                "<hhh",
                _s16(status.pack_v * 100),
                _s16(status.current_a * 10 * comms.current_sign),
                _s16(max(status.temps_c, default=25.0) * 10),
            ),
        ),
    ]
    flags = bytearray(4)
    for bit, name in enumerate(PROTECTION_BITS):
        if status.protection_bits >> bit & 1 and name in PROTECTION_FLAGS:
            byte, b = PROTECTION_FLAGS[name]
            flags[byte] |= 1 << b
    if warn_comm:
        flags[3] |= 1 << 3  # internal communication (bit 27)
    frames.append((0x359, bytes(flags) + bytes([1]) + b"PN"))
    frames.append((0x35C, bytes([(0x80 if charge_ok else 0) | (0x40 if discharge_ok else 0), 0])))
    frames.append((0x35E, NAME))
    return frames


class PylontechCanServer:
    """The node, its bus, and the ways onto the bus (socketcand; optionally virtual)."""

    protocol = "pylontech_can"

    def __init__(self, backend: Any, lock: threading.RLock, virtual_channel: str | None = None):
        self.backend = backend
        self.lock = lock
        self.bus = SimCanBus()
        self.socketcand = SocketcandServer(self.bus)
        self.bridge = VirtualBusBridge(self.bus, virtual_channel) if virtual_channel else None
        self.stats: Counter[str] = Counter()
        self._ticker: Any = None
        self._keepalive_heard = False
        self.watch = LinkWatch()

    @property
    def endpoint(self) -> dict[str, Any]:
        out: dict[str, Any] = {"can": self.socketcand.endpoint}
        if self.bridge is not None:
            out["virtual"] = self.bridge.endpoint
        return out

    def start(self) -> None:
        self.bus.attach(self._receive)
        self.socketcand.start()
        if self.bridge is not None:
            self.bridge.start()
        self._ticker = self.backend.every(lambda: self.backend.comms.can.period_s, self.broadcast)

    def broadcast(self, t: float) -> None:
        """Called under the lab lock at each period of the lab's time."""
        if self._keepalive_heard:
            self._keepalive_heard = False
            self.watch.last_heard = t
            self.backend.host_traffic()
        if self.backend.comms.can.silent or not self.backend.bms_broadcasting():
            self.stats["silent"] += 1
            return
        status = self.backend.bms_status()
        faults = getattr(self.backend, "link_faults", None)
        defects = self.backend.firmware.defects
        lost = self.watch.lost(t, self.backend.comms.can.keepalive_timeout_s)
        lost = lost and not defects.has("lost_link_unsignalled")
        derate = not defects.has("derating_ignored")
        for ident, data in encode_frames(status, self.backend.comms, derate, lost):
            if faults is not None and not faults.can_frame_passes():
                self.stats["lost"] += 1  # simlab.faults: a dropped frame or a stopped node
                continue
            self.bus.send(CanFrame(ident, data, timestamp=t), source=self)
        self.stats["broadcasts"] += 1

    def _receive(self, frame: CanFrame, source: object) -> None:
        if source is self:
            return
        self.stats["keepalive" if frame.arbitration_id == KEEPALIVE else "other"] += 1
        if frame.arbitration_id == KEEPALIVE:
            # taken at the next period, under the lab's lock (this thread may not wait
            # for it: the lab's time step holds it while it puts frames on the bus)
            self._keepalive_heard = True

    def stop(self) -> None:
        if self._ticker is not None:
            self.backend.cancel(self._ticker)
            self._ticker = None
        self.socketcand.stop()
        if self.bridge is not None:
            self.bridge.stop()
        self.bus.detach(self._receive)
