"""What a simulated JK board sends: its GPS-port tag list and its JK02 frames, from the firmware.

Both protocols are written here from their public descriptions (syssi/esphome-jk-bms
docs and parsers, mpp-solar's JKSERIAL and JKPB protocols, aiobmsble's jikong_bms), on
simlab's side of the wire: nothing is shared with the rig's drivers. The settings a
board reports are the firmware's parameters (`firmware.cell_ov.threshold_v=3.62` shows
in both), read-only: the twins do not take configuration writes.

Protections are reported in each protocol's own bits, from the firmware's reported
names (the JBD-ordered `PROTECTION_BITS`), so an `unreported_flag` defect hides them
here as on every twin.
"""

from __future__ import annotations

import struct
from typing import Any

from simlab.firmware import PROTECTION_BITS, BmsStatus

MODEL = "JK_PB2A16S15P"
HARDWARE = "15.XA"
SOFTWARE = "15.10"  # firmware 11 and later: the JK02_32S layout
SERIAL = "SIM20240315"
DEVICE_NAME = "JK-SIM-16S"
MANUFACTURED = "240315"
GPS_DEVICE_ID = "48300001"  # 0xB4: 48 V class, LFP, unit 1
GPS_SOFTWARE = "10.XW_S10.05___"  # 0xB7, 15 characters
GPS_MANUFACTURER = "JK_B2A16S20P_SIM_0000001"  # 0xBA, 24 characters

# -- GPS port (4E 57) ---------------------------------------------------------------------

GPS_WARNING_BITS = {
    "cell_ov": 10,
    "cell_uv": 11,
    "pack_ov": 2,
    "pack_uv": 3,
    "charge_ot": 4,
    "discharge_ot": 4,
    "charge_ut": 9,
    "discharge_ut": 9,
    "charge_oc": 5,
    "discharge_oc": 6,
    "short_circuit": 6,  # the protocol has no short-circuit flag of its own
    "fet_ot": 1,
    "cell_imbalance": 7,  # "cell pressure difference"
}


def gps_checksum(body: bytes) -> int:
    return sum(body) & 0xFFFFFFFF


def gps_frame(command: int, data: bytes, source: int = 0x00, frame_type: int = 0x01) -> bytes:
    length = 11 + len(data) + 9 - 2
    head = b"\x4e\x57" + struct.pack(">HIBBB", length, 0, command, source, frame_type)
    body = head + data + struct.pack(">IB", 0, 0x68)
    return body + struct.pack(">I", gps_checksum(body))


def _t(celsius: float) -> int:
    c = round(celsius)
    return min(c, 100) if c >= 0 else min(100 - c, 140)


def _h(x: float) -> bytes:
    return struct.pack(">H", min(max(round(x), 0), 0xFFFF))


def _sh(x: float) -> bytes:
    return struct.pack(">h", min(max(round(x), -0x8000), 0x7FFF))


def _text(text: str, size: int) -> bytes:
    return text.encode("ascii")[:size].ljust(size, b"\x00")


def _bits(protection_bits: int, table: dict[str, int]) -> int:
    out = 0
    for bit, name in enumerate(PROTECTION_BITS):
        if protection_bits >> bit & 1 and name in table:
            out |= 1 << table[name]
    return out


def gps_tags(s: BmsStatus, fw: Any, t: float, current_sign: int = 1) -> bytes:
    """The read-all reply's data, tags in the order the protocol description lists them
    (mpp-solar reads them by position)."""
    p = fw.params.protections
    balance = fw.params.balance
    amps = s.current_a * current_sign
    current = min(round(abs(amps) * 100), 0x7FFF) | (0x8000 if amps > 0 else 0)
    status_bits = int(s.charge_fet) | int(s.discharge_fet) << 1 | int(balance.enabled) << 2 | 8
    temps = [*s.temps_c, 25.0, 25.0][:2]
    cells = b"".join(struct.pack(">BH", i + 1, round(v * 1000)) for i, v in enumerate(s.cells_v))
    items: list[tuple[int, bytes]] = [
        (0x79, bytes([len(cells)]) + cells),
        (0x80, _h(25)),  # MOS temperature: not simulated
        (0x81, _h(_t(temps[0]))),
        (0x82, _h(_t(temps[1]))),
        (0x83, _h(s.pack_v * 100)),
        (0x84, struct.pack(">H", current)),
        (0x85, bytes([min(max(s.soc_pct, 0), 100)])),
        (0x86, bytes([len(s.temps_c)])),
        (0x87, _h(s.cycles)),
        (0x89, struct.pack(">I", round(s.cycles * s.full_ah))),
        (0x8A, _h(len(s.cells_v))),
        (0x8B, _h(_bits(s.protection_bits, GPS_WARNING_BITS))),
        (0x8C, _h(status_bits)),
        (0x8E, _h(p["pack_ov"].threshold * 100)),
        (0x8F, _h(p["pack_uv"].threshold * 100)),
        (0x90, _h(p["cell_ov"].threshold * 1000)),
        (0x91, _h(p["cell_ov"].release * 1000)),
        (0x92, _h(p["cell_ov"].delay_s)),
        (0x93, _h(p["cell_uv"].threshold * 1000)),
        (0x94, _h(p["cell_uv"].release * 1000)),
        (0x95, _h(p["cell_uv"].delay_s)),
        (0x96, _h(300)),
        (0x97, _h(p["discharge_oc1"].threshold)),
        (0x98, _h(p["discharge_oc1"].delay_s)),
        (0x99, _h(p["charge_oc"].threshold)),
        (0x9A, _h(p["charge_oc"].delay_s)),
        (0x9B, _h(balance.start_v * 1000)),
        (0x9C, _h(balance.window_v * 1000)),
        (0x9D, bytes([int(balance.enabled)])),
        (0x9E, _h(90)),
        (0x9F, _h(70)),
        (0xA0, _h(100)),
        (0xA1, _h(100)),
        (0xA2, _h(20)),
        (0xA3, _h(p["charge_ot"].threshold)),
        (0xA4, _h(p["discharge_ot"].threshold)),
        (0xA5, _sh(p["charge_ut"].threshold)),
        (0xA6, _sh(p["charge_ut"].release)),
        (0xA7, _sh(p["discharge_ut"].threshold)),
        (0xA8, _sh(p["discharge_ut"].release)),
        (0xA9, bytes([len(s.cells_v)])),
        (0xAA, struct.pack(">I", round(s.full_ah))),
        (0xAB, bytes([int(not fw.sw_disable_charge)])),
        (0xAC, bytes([int(not fw.sw_disable_discharge)])),
        (0xAD, _h(1000)),
        (0xAE, b"\x01"),
        (0xAF, b"\x00"),  # lithium iron phosphate
        (0xB0, _h(10)),
        (0xB1, bytes([20])),
        (0xB2, _text("000000", 10)),
        (0xB3, b"\x00"),
        (0xB4, _text(GPS_DEVICE_ID, 8)),
        (0xB5, _text(MANUFACTURED[:4], 4)),
        (0xB6, struct.pack(">I", int(t // 60))),
        (0xB7, _text(GPS_SOFTWARE, 15)),
        (0xB8, b"\x00"),
        (0xB9, struct.pack(">I", round(s.full_ah))),
        (0xBA, _text(GPS_MANUFACTURER, 24)),
        (0xC0, b"\x01"),  # protocol version 1: current in 10 mA, top bit charging
    ]
    return b"".join(bytes([tag]) + value for tag, value in items)


# -- JK02 ----------------------------------------------------------------------------------

FRAME_LEN = 300
HEADER = b"\x55\xaa\xeb\x90"
JK02_ERROR_BITS = {
    "cell_ov": 4,
    "pack_ov": 5,
    "charge_oc": 6,
    "charge_ot": 8,
    "charge_ut": 9,
    "afe_error": 10,
    "cell_uv": 11,
    "pack_uv": 12,
    "discharge_oc": 13,
    "short_circuit": 14,
    "discharge_ot": 15,
    "discharge_ut": 27,
    "sense_wire_open": 0,  # "wire resistance"
    "fet_ot": 1,
    "temp_sensor_fault": 22,
}


def _frame(frame_type: int, counter: int, fields: dict[int, bytes]) -> bytes:
    body = bytearray(FRAME_LEN)
    body[:4] = HEADER
    body[4], body[5] = frame_type, counter & 0xFF
    for offset, value in fields.items():
        body[offset : offset + len(value)] = value
    body[-1] = sum(body[:-1]) & 0xFF
    return bytes(body)


def _u32(x: float) -> bytes:
    return struct.pack("<I", min(max(round(x), 0), 0xFFFFFFFF))


def _s32(x: float) -> bytes:
    return struct.pack("<i", round(x))


def _s16(x: float) -> bytes:
    return struct.pack("<h", min(max(round(x), -0x8000), 0x7FFF))


def cell_frame(s: BmsStatus, counter: int, t: float, current_sign: int = 1) -> bytes:
    """Frame 0x02, JK02_32S layout."""
    cells = s.cells_v
    fields: dict[int, bytes] = {
        6 + 2 * i: struct.pack("<H", round(v * 1000)) for i, v in enumerate(cells[:32])
    }
    mv = [round(v * 1000) for v in cells] or [0]
    temps = [*s.temps_c, 25.0, 25.0][:2]
    amps = s.current_a * current_sign
    fields.update(
        {
            70: _u32((1 << len(cells)) - 1),
            74: struct.pack("<H", round(sum(mv) / len(mv))),
            76: struct.pack("<H", max(mv) - min(mv)),
            78: bytes([mv.index(max(mv)), mv.index(min(mv))]),
            144: _s16(250),  # MOS temperature: not simulated
            150: _u32(s.pack_v * 1000),
            154: _u32(abs(s.pack_v * amps) * 1000),
            158: _s32(amps * 1000),
            162: _s16(temps[0] * 10),
            164: _s16(temps[1] * 10),
            166: _u32(_bits(s.protection_bits, JK02_ERROR_BITS)),
            172: bytes([1 if s.balance_bits else 0]),
            173: bytes([min(max(s.soc_pct, 0), 100)]),
            174: _u32(s.remaining_ah * 1000),
            178: _u32(s.full_ah * 1000),
            182: _u32(s.cycles),
            186: _u32(s.cycles * s.full_ah * 1000),
            190: bytes([100]),
            194: _u32(t),
            198: bytes([int(s.charge_fet), int(s.discharge_fet)]),
            214: struct.pack("<H", 0b111),  # MOS, T1, T2 present
        }
    )
    return _frame(0x02, counter, fields)


def settings_frame(fw: Any, cell_count: int, counter: int) -> bytes:
    """Frame 0x01, from the firmware's parameters."""
    p = fw.params.protections
    balance = fw.params.balance
    sc = p["short_circuit"]
    fields = {
        6: _u32(3300),
        10: _u32(p["cell_uv"].threshold * 1000),
        14: _u32(p["cell_uv"].release * 1000),
        18: _u32(p["cell_ov"].threshold * 1000),
        22: _u32(p["cell_ov"].release * 1000),
        26: _u32(balance.window_v * 1000),
        30: _u32(3450),
        34: _u32(2800),
        38: _u32(3450),
        42: _u32(3400),
        46: _u32(2500),
        50: _u32(p["charge_oc"].threshold * 1000),
        54: _u32(p["charge_oc"].delay_s),
        58: _u32(p["charge_oc"].release_delay_s),
        62: _u32(p["discharge_oc1"].threshold * 1000),
        66: _u32(p["discharge_oc1"].delay_s),
        70: _u32(p["discharge_oc1"].release_delay_s),
        74: _u32(sc.release_delay_s),
        78: _u32(2000),
        82: _s32(p["charge_ot"].threshold * 10),
        86: _s32(p["charge_ot"].release * 10),
        90: _s32(p["discharge_ot"].threshold * 10),
        94: _s32(p["discharge_ot"].release * 10),
        98: _s32(p["charge_ut"].threshold * 10),
        102: _s32(p["charge_ut"].release * 10),
        106: _s32(1000),
        110: _s32(800),
        114: _u32(cell_count),
        118: _u32(int(not fw.sw_disable_charge)),
        122: _u32(int(not fw.sw_disable_discharge)),
        126: _u32(int(balance.enabled)),
        130: _u32(fw.params.full_capacity_ah * 1000),
        134: _u32(sc.delay_s * 1e6),
        138: _u32(balance.start_v * 1000),
        296: struct.pack(
            "<bb", round(p["discharge_ut"].threshold), round(p["discharge_ut"].release)
        ),
    }
    return _frame(0x01, counter, fields)


def _i8_pair(p: Any) -> bytes:
    """Discharge UT and its release, whole °C as signed bytes (296, 297)."""
    return struct.pack("<bb", round(p.threshold), round(p.release))


def device_frame(counter: int, power_ons: int = 1, uptime_s: float = 0.0) -> bytes:
    """Frame 0x03: model, versions, name, date, serial."""
    return _frame(
        0x03,
        counter,
        {
            6: _text(MODEL, 16),
            22: _text(HARDWARE, 8),
            30: _text(SOFTWARE, 8),
            38: _u32(uptime_s),
            42: _u32(power_ons),
            46: _text(DEVICE_NAME, 16),
            62: _text("1234", 16),
            78: _text(MANUFACTURED, 8),
            86: _text(SERIAL, 11),
        },
    )
