"""Daly UART/RS485 frames: pure encode and decode, no I/O.

Every frame is 13 bytes: `A5`, address, data ID, `08`, 8 data bytes, checksum (the low
byte of the sum of the first 12). A host sends from 0x40 (PC/RS485) or 0x80
(UART/Bluetooth); the BMS answers from 0x01. Multi-frame replies (cell voltages 0x95,
temperatures 0x96, version strings) carry a 1-based frame number in data byte 0 and
are assembled by that number, never by arrival order.

Current (0x90) is sent as 30000 + 10 x I in 0.1 A, and clients disagree on the sign:
most open-source tools read a raw value below 30000 as charging, which is the
convention here (charging positive); firmware that does the opposite is handled by the
driver's `current_sign`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from dut_drivers.base import ProtectionSet
from dut_drivers.errors import BmsChecksumError, BmsFrameError, BmsIncomplete

FRAME_LEN = 13
START = 0xA5
LENGTH = 0x08
BMS_ADDRESS = 0x01
HOST_PC = 0x40  # PC software / RS485
HOST_UART = 0x80  # UART / Bluetooth module
CURRENT_ZERO = 30000
TEMP_OFFSET = 40

SOC, CELL_RANGE, TEMP_RANGE, MOS, STATUS = 0x90, 0x91, 0x92, 0x93, 0x94
CELL_VOLTAGES, TEMPERATURES, BALANCE, FAILURES = 0x95, 0x96, 0x97, 0x98
BATTERY_CODE, SOFTWARE_VERSION, HARDWARE_VERSION = 0x57, 0x62, 0x63
DISCHARGE_FET, CHARGE_FET = 0xD9, 0xDA
CELLS_PER_FRAME, TEMPS_PER_FRAME, CHARS_PER_FRAME = 3, 7, 7


def checksum(first12: bytes) -> int:
    return sum(first12) & 0xFF


def build_request(command: int, host: int = HOST_PC, data: bytes = bytes(8)) -> bytes:
    """E.g. `A5 40 90 08 00 00 00 00 00 00 00 00 7D` for 0x90 from a PC."""
    if len(data) != 8:
        raise ValueError("Daly frames carry exactly 8 data bytes")
    head = bytes([START, host, command, LENGTH]) + data
    return head + bytes([checksum(head)])


def build_reply(command: int, data: bytes) -> bytes:
    """A reply as the BMS sends it (tests and fuzzing)."""
    return build_request(command, BMS_ADDRESS, data)


def parse_frame(frame: bytes, command: int, sent: bytes = b"") -> bytes:
    """Check one reply frame and return its 8 data bytes."""
    if len(frame) != FRAME_LEN:
        raise BmsFrameError(f"Daly frame is {len(frame)} bytes, not 13", sent, frame)
    if frame[0] != START:
        raise BmsFrameError(f"frame starts with 0x{frame[0]:02X}, not 0xA5", sent, frame)
    if frame[12] != checksum(frame[:12]):
        raise BmsChecksumError(
            f"checksum 0x{frame[12]:02X}, computed 0x{checksum(frame[:12]):02X}", sent, frame
        )
    if frame[1] != BMS_ADDRESS:
        raise BmsFrameError(f"frame from address 0x{frame[1]:02X}, not the BMS (0x01)", sent, frame)
    if frame[2] != command:
        raise BmsFrameError(f"frame answers 0x{frame[2]:02X}, asked 0x{command:02X}", sent, frame)
    if frame[3] != LENGTH:
        raise BmsFrameError(f"length byte 0x{frame[3]:02X}, not 0x08", sent, frame)
    return frame[4:12]


def split_frames(stream: bytes) -> tuple[list[bytes], bytes]:
    """Cut a byte stream into checksum-valid 13-byte frames, skipping noise between
    them; returns (frames, unconsumed tail that may be the start of a frame)."""
    frames: list[bytes] = []
    i = 0
    while True:
        i = stream.find(bytes([START]), i)
        if i < 0:
            return frames, b""
        if len(stream) - i < FRAME_LEN:
            return frames, stream[i:]
        candidate = stream[i : i + FRAME_LEN]
        if candidate[3] == LENGTH and candidate[12] == checksum(candidate[:12]):
            frames.append(candidate)
            i += FRAME_LEN
        else:
            i += 1


def _need(data: bytes, what: str) -> None:
    if len(data) != 8:
        raise BmsFrameError(f"{what}: {len(data)} data bytes, not 8", b"", data)


@dataclass(frozen=True)
class Soc:
    pack_voltage: float
    current: float  # A, charging positive (see module docstring)
    soc_percent: float


def decode_soc(data: bytes) -> Soc:
    """0x90: pack V (0.1 V), second V, current (30000 offset, 0.1 A), SoC (0.1 %)."""
    _need(data, "0x90")
    pack, _second, raw, soc = struct.unpack(">HHHH", data)
    if soc > 1000:
        raise BmsFrameError(f"0x90: SoC {soc / 10:g} % is beyond 100 %", b"", data)
    return Soc(pack / 10, round((CURRENT_ZERO - raw) / 10, 1), soc / 10)


@dataclass(frozen=True)
class CellRange:
    max_v: float
    max_cell: int
    min_v: float
    min_cell: int


def decode_cell_range(data: bytes) -> CellRange:
    _need(data, "0x91")
    hi, hi_no, lo, lo_no = struct.unpack_from(">HBHB", data)
    return CellRange(hi / 1000, hi_no, lo / 1000, lo_no)


@dataclass(frozen=True)
class Mos:
    state: int  # 0 idle, 1 charging, 2 discharging
    charge_fet: bool
    discharge_fet: bool
    life: int
    remaining_ah: float


def decode_mos(data: bytes) -> Mos:
    """0x93: state, charge FET, discharge FET, life byte, residual capacity (mAh)."""
    _need(data, "0x93")
    state, chg, dsg, life, mah = struct.unpack(">BBBBl", data)
    if state > 2 or chg > 1 or dsg > 1 or mah < 0:
        raise BmsFrameError("0x93: state/FET bytes or capacity out of range", b"", data)
    return Mos(state, bool(chg), bool(dsg), life, mah / 1000)


@dataclass(frozen=True)
class Status:
    cell_count: int
    ntc_count: int
    charger: bool
    load: bool
    dio: int
    cycles: int


def decode_status(data: bytes) -> Status:
    """0x94: cells, NTCs, charger present, load present, DIO bits, cycles."""
    _need(data, "0x94")
    cells, ntcs, chg, load, dio, cycles = struct.unpack_from(">BBBBBH", data)
    if not 1 <= cells <= 48 or ntcs > 21:
        raise BmsFrameError(f"0x94: {cells} cells / {ntcs} NTCs is not a Daly pack", b"", data)
    return Status(cells, ntcs, bool(chg), bool(load), dio, cycles)


def frames_needed(count: int, per_frame: int) -> int:
    return -(-count // per_frame)


def by_frame_number(
    frames: Iterable[bytes], needed: int, what: str, sent: bytes = b""
) -> dict[int, bytes]:
    """Data of a multi-frame reply keyed by frame number; typed errors for a frame
    number out of range, a repeat that differs, or frames missing (named)."""
    out: dict[int, bytes] = {}
    for data in frames:
        number = data[0]
        if not 1 <= number <= needed:
            continue  # a frame of a longer reply (Bluetooth modules send them all)
        if number in out and out[number] != data:
            raise BmsFrameError(f"{what}: frame {number} arrived twice, differing", sent, data)
        out[number] = data
    missing = [n for n in range(1, needed + 1) if n not in out]
    if missing:
        raise BmsIncomplete(
            f"{what}: frame(s) {', '.join(map(str, missing))} of {needed} missing",
            sent,
            b"".join(out[n] for n in sorted(out)),
        )
    return out


def decode_cells(frames: dict[int, bytes], cell_count: int) -> list[float]:
    """0x95: each frame = number + 3 x U16 mV (+1 spare byte)."""
    volts: list[float] = []
    for n in sorted(frames):
        volts += [mv / 1000 for mv in struct.unpack_from(">3H", frames[n], 1)]
    return volts[:cell_count]


def decode_temperatures(frames: dict[int, bytes], ntc_count: int) -> list[float]:
    """0x96: each frame = number + 7 x (°C + 40)."""
    temps: list[float] = []
    for n in sorted(frames):
        temps += [float(b - TEMP_OFFSET) for b in frames[n][1:8]]
    return temps[:ntc_count]


def decode_text(frames: dict[int, bytes]) -> str:
    """Version strings and the battery code: number + 7 ASCII characters per frame."""
    raw = b"".join(frames[n][1:8] for n in sorted(frames))
    return raw.decode("ascii", errors="replace").replace("\x00", " ").strip()


def decode_balance(data: bytes, cell_count: int) -> frozenset[int]:
    """0x97: bit j of byte i is cell 8i + j + 1."""
    _need(data, "0x97")
    return frozenset(
        8 * i + j + 1
        for i in range(6)
        for j in range(8)
        if data[i] >> j & 1 and 8 * i + j + 1 <= cell_count
    )


# 0x98 failure bits: (byte, bit) → (condition, is_protection). Level 1 is an alarm
# (warning), level 2 and hardware faults are protections.
def _levels(byte: int, first_bit: int, name: str) -> dict[tuple[int, int], tuple[str, bool]]:
    return {(byte, first_bit): (name, False), (byte, first_bit + 1): (name, True)}


FAILURE_BITS: dict[tuple[int, int], tuple[str, bool]] = {
    **_levels(0, 0, "cell_ov"),
    **_levels(0, 2, "cell_uv"),
    **_levels(0, 4, "pack_ov"),
    **_levels(0, 6, "pack_uv"),
    **_levels(1, 0, "charge_ot"),
    **_levels(1, 2, "charge_ut"),
    **_levels(1, 4, "discharge_ot"),
    **_levels(1, 6, "discharge_ut"),
    **_levels(2, 0, "charge_oc"),
    **_levels(2, 2, "discharge_oc"),
    **_levels(2, 4, "soc_high"),
    **_levels(2, 6, "soc_low"),
    **_levels(3, 0, "cell_imbalance"),
    **_levels(3, 2, "temp_imbalance"),
    (4, 0): ("fet_ot", False),
    (4, 1): ("fet_ot", False),
    (4, 2): ("temp_sensor_fault", True),
    (4, 3): ("temp_sensor_fault", True),
    (4, 4): ("fet_fault", True),  # charge MOS stuck closed
    (4, 5): ("fet_fault", True),
    (4, 6): ("fet_fault", True),  # charge MOS stuck open
    (4, 7): ("fet_fault", True),
    (5, 0): ("afe_error", True),
    (5, 1): ("sense_wire_open", True),
    (5, 2): ("temp_sensor_fault", True),
    (5, 3): ("eeprom_fault", True),
    (5, 4): ("rtc_fault", True),
    (5, 5): ("precharge_fault", True),
    (5, 6): ("comm_fault", True),
    (5, 7): ("comm_fault", True),
    (6, 0): ("current_sensor_fault", True),
    (6, 1): ("voltage_sensor_fault", True),
    (6, 2): ("short_circuit", True),
    (6, 3): ("charge_inhibited", True),
}


@dataclass(frozen=True)
class Failures:
    protections: frozenset[str]
    alarms: frozenset[str]
    fault_code: int


def decode_failures(data: bytes) -> Failures:
    """0x98: 7 bytes of fault bits and a fault code."""
    _need(data, "0x98")
    protections, alarms = set(), set()
    for byte in range(7):
        for bit in range(8):
            if data[byte] >> bit & 1 and (byte, bit) in FAILURE_BITS:
                name, protection = FAILURE_BITS[(byte, bit)]
                (protections if protection else alarms).add(name)
    return Failures(ProtectionSet(protections), ProtectionSet(alarms), data[7])
