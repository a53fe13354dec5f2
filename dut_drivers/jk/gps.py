"""JK "GPS port" protocol of the older JK-B/BD boards (RS485/TTL, 115200 8N1): frames only.

A frame is `4E 57`, a U16 length (big-endian; the frame's length minus the two start
bytes), a 4-byte terminal number, the command (1 activate, 2 write, 3 read, 5 password,
6 read all), the frame source (0 BMS, 1 Bluetooth, 2 GPS, 3 PC), the frame type (0
request, 1 reply, 2 BMS upload), the data, a 4-byte record number, the end byte `68` and
a 4-byte checksum: the plain sum of every byte before it, big-endian (its two high bytes
are zero in every published frame). The read-all request is

    4E 57 00 13 00 00 00 00 06 03 00 00 00 00 00 00 68 00 00 01 29

and the reply's data is a list of tag-value items (`79 n (i mV_hi mV_lo)...` cells, `83`
pack voltage, `84` current, `8B` warning bits, `8E`...`BA` settings, `C0` protocol
version), each of a fixed size per tag. Described publicly in syssi/esphome-jk-bms
(docs/protocol-design-uart-ttl-gps-port.md) and read by mpp-solar's JKSERIAL protocol.
Pure encode and decode, no I/O, so every rule is tested from the published frames and
fuzzed.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

from dut_drivers.base import BmsStatus, ProtectionConfig, ProtectionSet, ProtectionSetting
from dut_drivers.errors import BmsChecksumError, BmsFrameError

START = b"\x4e\x57"
END = 0x68
HEAD_LEN = 11  # start, length, terminal, command, source, type
TAIL_LEN = 9  # record number (4), end byte, checksum (4)
MIN_LEN = HEAD_LEN + TAIL_LEN
MAX_LEN = 1024  # longer announced lengths are noise

READ, WRITE, READ_ALL = 0x03, 0x02, 0x06
SOURCE_BMS, SOURCE_PC = 0x00, 0x03
TYPE_REQUEST, TYPE_REPLY = 0x00, 0x01

CELLS = 0x79
SOC_STEP_PCT = 1.0  # tag 0x85: the SoC as one byte of whole %
# Fixed value size of every other tag the protocol description lists.
TAG_SIZES: dict[int, int] = {
    **dict.fromkeys((0x80, 0x81, 0x82, 0x83, 0x84), 2),
    0x85: 1,
    0x86: 1,
    0x87: 2,
    0x89: 4,
    **dict.fromkeys((0x8A, 0x8B, 0x8C), 2),
    **dict.fromkeys(range(0x8E, 0x9D), 2),
    0x9D: 1,
    **dict.fromkeys(range(0x9E, 0xA9), 2),
    0xA9: 1,
    0xAA: 4,
    0xAB: 1,
    0xAC: 1,
    0xAD: 2,
    0xAE: 1,
    0xAF: 1,
    0xB0: 2,
    0xB1: 1,
    0xB2: 10,
    0xB3: 1,
    0xB4: 8,
    0xB5: 4,
    0xB6: 4,
    0xB7: 15,
    0xB8: 1,
    0xB9: 4,
    0xBA: 24,
    0xBB: 1,
    0xBC: 1,
    0xBD: 1,
    0xBE: 2,
    0xBF: 2,
    0xC0: 1,
}

# Warning bits of tag 0x8B onto the interface's vocabulary. The protocol names one
# "battery over-temperature" and one "battery low temperature" flag for both sides, so
# those map onto the coarse `ot` / `ut`; bit 0 (low capacity) is a warning, an alarm.
WARNING_BITS: dict[int, str] = {
    1: "fet_ot",  # MOS tube over-temperature
    2: "pack_ov",  # charging over-voltage
    3: "pack_uv",  # discharge under-voltage
    4: "ot",  # battery over-temperature
    5: "charge_oc",
    6: "discharge_oc",
    7: "cell_imbalance",  # cell pressure difference
    8: "ot",  # over-temperature in the battery box
    9: "ut",  # battery low temperature
    10: "cell_ov",  # monomer over-voltage
    11: "cell_uv",  # monomer under-voltage
}
ALARM_BITS: dict[int, str] = {0: "soc_low"}


# Settings tags: name, scale to SI, signed. Temperatures in °C.
@dataclass(frozen=True)
class Setting:
    tag: int
    name: str
    scale: float
    signed: bool = False
    unit: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting(0x8E, "pack_ov_v", 0.01, unit="V"),
    Setting(0x8F, "pack_uv_v", 0.01, unit="V"),
    Setting(0x90, "cell_ov_v", 0.001, unit="V"),
    Setting(0x91, "cell_ov_release_v", 0.001, unit="V"),
    Setting(0x92, "cell_ov_delay_s", 1, unit="s"),
    Setting(0x93, "cell_uv_v", 0.001, unit="V"),
    Setting(0x94, "cell_uv_release_v", 0.001, unit="V"),
    Setting(0x95, "cell_uv_delay_s", 1, unit="s"),
    Setting(0x96, "cell_diff_v", 0.001, unit="V"),
    Setting(0x97, "discharge_oc_a", 1, unit="A"),
    Setting(0x98, "discharge_oc_delay_s", 1, unit="s"),
    Setting(0x99, "charge_oc_a", 1, unit="A"),
    Setting(0x9A, "charge_oc_delay_s", 1, unit="s"),
    Setting(0x9B, "balance_start_v", 0.001, unit="V"),
    Setting(0x9C, "balance_diff_v", 0.001, unit="V"),
    Setting(0x9D, "balance_switch", 1),
    Setting(0x9E, "mos_ot_c", 1, unit="°C"),
    Setting(0x9F, "mos_ot_release_c", 1, unit="°C"),
    Setting(0xA0, "box_ot_c", 1, unit="°C"),
    Setting(0xA1, "box_ot_release_c", 1, unit="°C"),
    Setting(0xA2, "temp_diff_c", 1, unit="°C"),
    Setting(0xA3, "charge_ot_c", 1, unit="°C"),
    Setting(0xA4, "discharge_ot_c", 1, unit="°C"),
    Setting(0xA5, "charge_ut_c", 1, signed=True, unit="°C"),
    Setting(0xA6, "charge_ut_release_c", 1, signed=True, unit="°C"),
    Setting(0xA7, "discharge_ut_c", 1, signed=True, unit="°C"),
    Setting(0xA8, "discharge_ut_release_c", 1, signed=True, unit="°C"),
    Setting(0xA9, "cell_count", 1),
    Setting(0xAA, "capacity_ah", 1, unit="Ah"),
    Setting(0xAB, "charge_switch", 1),
    Setting(0xAC, "discharge_switch", 1),
    Setting(0xAD, "current_calibration_a", 0.001, unit="A"),
    Setting(0xAF, "battery_type", 1),
    Setting(0xB0, "sleep_wait_s", 1, unit="s"),
    Setting(0xB1, "low_capacity_alarm_pct", 1, unit="%"),
)
SETTING_BY_NAME = {s.name: s for s in SETTINGS}

# Per protection: setting names of (threshold, release, delay_s, release_delay_s).
PROTECTION_FIELDS: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "cell_ov": ("cell_ov_v", "cell_ov_release_v", "cell_ov_delay_s", None),
    "cell_uv": ("cell_uv_v", "cell_uv_release_v", "cell_uv_delay_s", None),
    "pack_ov": ("pack_ov_v", None, None, None),
    "pack_uv": ("pack_uv_v", None, None, None),
    "charge_oc": ("charge_oc_a", None, "charge_oc_delay_s", None),
    "discharge_oc": ("discharge_oc_a", None, "discharge_oc_delay_s", None),
    "charge_ot": ("charge_ot_c", None, None, None),
    "discharge_ot": ("discharge_ot_c", None, None, None),
    "charge_ut": ("charge_ut_c", "charge_ut_release_c", None, None),
    "discharge_ut": ("discharge_ut_c", "discharge_ut_release_c", None, None),
}
_SETTING_FIELDS = ("threshold", "release", "delay_s", "release_delay_s")


def checksum(body: bytes) -> int:
    """The plain byte sum of everything before the checksum field."""
    return sum(body) & 0xFFFFFFFF


def build_frame(
    command: int,
    data: bytes,
    source: int = SOURCE_PC,
    frame_type: int = TYPE_REQUEST,
    terminal: int = 0,
    record: int = 0,
) -> bytes:
    """A whole frame around `data` (requests, and replies for tests and tools)."""
    length = HEAD_LEN + len(data) + TAIL_LEN - 2
    head = START + struct.pack(">HIBBB", length, terminal, command, source, frame_type)
    body = head + data + struct.pack(">IB", record, END)
    return body + struct.pack(">I", checksum(body))


def build_read_all() -> bytes:
    """`4E 57 00 13 00 00 00 00 06 03 00 00 00 00 00 00 68 00 00 01 29`: every tag."""
    return build_frame(READ_ALL, b"\x00")


def build_read(register: int = 0x00) -> bytes:
    """A read of one register (0x00: all), as mpp-solar's JKSERIAL sends it."""
    return build_frame(READ, bytes([register]))


def frame_length(head: bytes, sent: bytes = b"") -> int:
    """The whole frame's length from its first four bytes; rejects a wrong start."""
    if len(head) < 4:
        raise BmsFrameError("JK frame header shorter than 4 bytes", sent, head)
    if head[:2] != START:
        raise BmsFrameError(f"JK frame starts with {head[:2].hex(' ')}, not 4e 57", sent, head)
    total = int.from_bytes(head[2:4], "big") + 2
    if not MIN_LEN <= total <= MAX_LEN:
        raise BmsFrameError(f"JK frame announces {total} bytes", sent, head)
    return total


@dataclass(frozen=True)
class Frame:
    command: int
    source: int
    frame_type: int
    terminal: int
    record: int
    data: bytes


def parse_frame(frame: bytes, sent: bytes = b"") -> Frame:
    """Check a whole frame (start, length, end byte, checksum) and split it."""
    total = frame_length(frame, sent)
    if len(frame) != total:
        raise BmsFrameError(f"JK frame is {len(frame)} bytes, header says {total}", sent, frame)
    if frame[-5] != END:
        raise BmsFrameError(f"JK frame's end byte is 0x{frame[-5]:02X}, not 0x68", sent, frame)
    expected, received = checksum(frame[:-4]), int.from_bytes(frame[-4:], "big")
    if expected != received:
        raise BmsChecksumError(
            f"JK checksum 0x{received:08X}, computed 0x{expected:08X}", sent, frame
        )
    terminal, command, source, frame_type = struct.unpack_from(">IBBB", frame, 4)
    (record,) = struct.unpack_from(">I", frame, total - TAIL_LEN)
    return Frame(command, source, frame_type, terminal, record, frame[HEAD_LEN : total - TAIL_LEN])


def parse_tags(data: bytes, sent: bytes = b"") -> dict[int, bytes]:
    """A reply's data as {tag: value bytes}; cells (0x79) keep their triples."""
    tags: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        tag = data[i]
        if tag == CELLS:
            if i + 1 >= len(data):
                raise BmsFrameError("JK cell list (0x79) without its length", sent, data)
            size = data[i + 1]
            if size % 3:
                raise BmsFrameError(f"JK cell list of {size} bytes, not triples", sent, data)
            start = i + 2
        elif tag in TAG_SIZES:
            size, start = TAG_SIZES[tag], i + 1
        else:
            raise BmsFrameError(f"JK reply holds unknown tag 0x{tag:02X} at {i}", sent, data)
        if start + size > len(data):
            raise BmsFrameError(f"JK tag 0x{tag:02X} cut short", sent, data)
        tags[tag] = data[start : start + size]
        i = start + size
    return tags


def encode_tags(tags: Mapping[int, bytes]) -> bytes:
    """The inverse of parse_tags (tests and tools)."""
    out = bytearray()
    for tag, value in tags.items():
        out.append(tag)
        if tag == CELLS:
            out.append(len(value))
        elif len(value) != TAG_SIZES[tag]:
            raise ValueError(f"tag 0x{tag:02X} holds {TAG_SIZES[tag]} bytes, got {len(value)}")
        out += value
    return bytes(out)


def _u(value: bytes) -> int:
    return int.from_bytes(value, "big")


def _s(value: bytes) -> int:
    return int.from_bytes(value, "big", signed=True)


def decode_temperature(raw: int) -> float:
    """0..100 are °C; above 100 the part over 100 is below zero (101 is -1 °C)."""
    return float(raw if raw <= 100 else 100 - raw)


def encode_temperature(celsius: float) -> int:
    c = round(celsius)
    return c if c >= 0 else 100 - c


def decode_current(raw: int, protocol_version: int) -> float:
    """A, charging positive. Version 1: 10 mA, the top bit set while charging; version
    0: 10 mA offset from 10000, values below it charging."""
    if protocol_version >= 1:
        amps = (raw & 0x7FFF) / 100
        return amps if raw & 0x8000 or not amps else -amps
    return (10000 - raw) / 100


def decode_cells(value: bytes) -> list[float]:
    """Tag 0x79: (cell number, mV) triples, put in cell order."""
    triples = [struct.unpack_from(">BH", value, i) for i in range(0, len(value), 3)]
    return [mv / 1000 for _, mv in sorted(triples)]


def decode_flags(bits: int, table: Mapping[int, str]) -> frozenset[str]:
    return ProtectionSet(name for bit, name in table.items() if bits >> bit & 1)


def decode_settings(tags: Mapping[int, bytes]) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in SETTINGS:
        if s.tag in tags:
            raw = _s(tags[s.tag]) if s.signed else _u(tags[s.tag])
            out[s.name] = round(raw * s.scale, 6)
    return out


def text(value: bytes) -> str:
    return value.split(b"\x00")[0].decode("ascii", errors="replace").strip()


@dataclass(frozen=True)
class Reading:
    """One read-all reply decoded."""

    status: BmsStatus
    cells: list[float]
    mos_temperature_c: float | None
    settings: dict[str, float]
    warning_bits: int
    status_bits: int
    protocol_version: int
    device_id: str = ""
    software: str = ""
    manufacture_date: str = ""
    manufacturer_id: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def decode_reading(tags: Mapping[int, bytes], sent: bytes = b"") -> Reading:
    """A read-all reply's tags as a status, cells and settings."""
    missing = [f"0x{t:02X}" for t in (CELLS, 0x83, 0x84, 0x85, 0x8B, 0x8C) if t not in tags]
    if missing:
        raise BmsFrameError(f"JK reply lacks tag(s) {', '.join(missing)}", sent)
    version = _u(tags.get(0xC0, b"\x00"))
    cells = decode_cells(tags[CELLS])
    warnings, bits = _u(tags[0x8B]), _u(tags[0x8C])
    temps = tuple(decode_temperature(_u(tags[t])) for t in (0x81, 0x82) if t in tags)
    settings = decode_settings(tags)
    soc = float(_u(tags[0x85]))
    status = BmsStatus(
        pack_voltage=_u(tags[0x83]) / 100,
        current=decode_current(_u(tags[0x84]), version),
        # the port carries the count as a whole-% SoC (0x85) only: SoC x capacity would
        # be a remaining capacity in steps of 1 % of it, which no plan may take for a count
        remaining_capacity_ah=None,
        full_capacity_ah=settings.get("capacity_ah"),
        cycles=_u(tags[0x87]) if 0x87 in tags else None,
        soc_percent=soc,
        charge_fet=bool(bits & 0x01),
        discharge_fet=bool(bits & 0x02),
        protections=decode_flags(warnings, WARNING_BITS),
        balancing=None,
        cell_count=len(cells),
        temperatures_c=temps,
        alarms=decode_flags(warnings, ALARM_BITS),
        cell_min_v=min(cells) if cells else None,
        cell_max_v=max(cells) if cells else None,
        # what the port's tags code them in: a whole-% byte, the setting's whole Ah
        steps={
            "soc_percent": SOC_STEP_PCT,
            "full_capacity_ah": float(SETTING_BY_NAME["capacity_ah"].scale),
        },
    )
    return Reading(
        status=status,
        cells=cells,
        mos_temperature_c=decode_temperature(_u(tags[0x80])) if 0x80 in tags else None,
        settings=settings,
        warning_bits=warnings,
        status_bits=bits,
        protocol_version=version,
        device_id=text(tags.get(0xB4, b"")),
        software=text(tags.get(0xB7, b"")),
        manufacture_date=text(tags.get(0xB5, b"")),
        manufacturer_id=text(tags.get(0xBA, b"")),
        extra={"balancing_switch": bool(bits & 0x04)},
    )


# What the board holds, and the step it holds it in (the step of its tag's unit).
def protection_config(settings: Mapping[str, float]) -> ProtectionConfig:
    """The protection settings as the interface's ProtectionConfig, each field with the
    step its tag is coded in (1 mV, 10 mV, 1 A, 1 °C, 1 s)."""
    out: dict[str, ProtectionSetting] = {}
    for name, names in PROTECTION_FIELDS.items():
        values: dict[str, float | None] = {}
        steps: dict[str, float] = {}
        for field_name, setting in zip(_SETTING_FIELDS, names, strict=True):
            if setting is None or setting not in settings:
                values[field_name] = None
                continue
            values[field_name] = float(settings[setting])
            steps[field_name] = float(SETTING_BY_NAME[setting].scale)
        if any(v is not None for v in values.values()):
            out[name] = ProtectionSetting(**values, steps=steps)
    return ProtectionConfig(settings=out, extra=dict(settings))
