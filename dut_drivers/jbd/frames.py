"""JBD / Xiaoxiang / Overkill Solar BMS frames: pure encode and decode, no I/O.

Request: `DD A5|5A reg len data chk_hi chk_lo 77`.
Reply:   `DD reg status len data chk_hi chk_lo 77`.
The checksum is `0x10000 - sum(bytes[2 : 4 + len])` (register/status through data),
big-endian. Kept free of I/O so every byte rule can be tested from known vectors and
fuzzed without a port.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from dut_drivers.base import BmsStatus, ProtectionSet
from dut_drivers.errors import BmsChecksumError, BmsFrameError, BmsNack

START = 0xDD
END = 0x77
READ = 0xA5
WRITE = 0x5A
STATUS_OK = 0x00
STATUS_ERROR = 0x80

REG_BASIC_INFO = 0x03
REG_CELL_VOLTAGES = 0x04
REG_HARDWARE = 0x05

# Protection status bits 0..12 of register 0x03, in JBD's order, as canonical names.
PROTECTION_BITS: tuple[str, ...] = (
    "cell_ov",
    "cell_uv",
    "pack_ov",
    "pack_uv",
    "charge_ot",
    "charge_ut",
    "discharge_ot",
    "discharge_ut",
    "charge_oc",
    "discharge_oc",
    "short_circuit",
    "afe_error",
    "fet_lock",
)

HEADER_LEN = 4  # DD reg status len
TRAILER_LEN = 3  # chk_hi chk_lo 77
BASIC_INFO_FIXED_LEN = 23  # bytes before the NTC temperatures
KELVIN_OFFSET_DK = 2731  # 0.1 K at 0 °C, as the firmware encodes it


def checksum(body: bytes) -> int:
    """JBD checksum of the register/status, length and data bytes."""
    return (0x10000 - sum(body)) & 0xFFFF


def build_request(command: int, register: int, data: bytes = b"") -> bytes:
    body = bytes([register, len(data)]) + data
    return bytes([START, command]) + body + checksum(body).to_bytes(2, "big") + bytes([END])


def build_read(register: int) -> bytes:
    """A read request, e.g. `DD A5 03 00 FF FD 77` for basic info."""
    return build_request(READ, register)


def build_write(register: int, data: bytes) -> bytes:
    return build_request(WRITE, register, data)


def frame_length(header: bytes, sent: bytes = b"") -> int:
    """Total reply length announced by a 4-byte header; rejects a wrong start byte."""
    if len(header) < HEADER_LEN:
        raise BmsFrameError("reply header shorter than 4 bytes", sent, header)
    if header[0] != START:
        raise BmsFrameError(f"reply starts with 0x{header[0]:02X}, not 0xDD", sent, header)
    return HEADER_LEN + header[3] + TRAILER_LEN


def parse_reply(frame: bytes, register: int, sent: bytes = b"") -> bytes:
    """Check a whole reply frame and return its data bytes.

    Raises BmsFrameError (layout), BmsChecksumError, or BmsNack (status 0x80).
    """
    total = frame_length(frame, sent)
    if len(frame) != total:
        raise BmsFrameError(f"reply is {len(frame)} bytes, header says {total}", sent, frame)
    if frame[-1] != END:
        raise BmsFrameError(f"reply ends with 0x{frame[-1]:02X}, not 0x77", sent, frame)
    if frame[1] != register:
        raise BmsFrameError(
            f"reply is for register 0x{frame[1]:02X}, asked 0x{register:02X}", sent, frame
        )
    length = frame[3]
    expected = checksum(frame[2 : HEADER_LEN + length])
    received = int.from_bytes(frame[HEADER_LEN + length : HEADER_LEN + length + 2], "big")
    if expected != received:
        raise BmsChecksumError(f"checksum 0x{received:04X}, computed 0x{expected:04X}", sent, frame)
    if frame[2] != STATUS_OK:
        raise BmsNack(f"BMS answered status 0x{frame[2]:02X}", sent, frame)
    return frame[HEADER_LEN : HEADER_LEN + length]


def build_reply(register: int, data: bytes, status: int = STATUS_OK) -> bytes:
    """A reply frame as a BMS would send it (used by tests and fuzzing)."""
    body = bytes([status, len(data)]) + data
    return bytes([START, register]) + body + checksum(body).to_bytes(2, "big") + bytes([END])


@dataclass(frozen=True)
class BasicInfo:
    """Register 0x03 decoded: the canonical status plus what only identity needs."""

    status: BmsStatus
    software_version: str
    production_date: str
    protection_bits: int


def decode_date(raw: int) -> str:
    """Production date U16 (year-2000 in bits 15-9, month 8-5, day 4-0) as ISO text.

    Not validated as a calendar date: a unit with an unset EEPROM reports what it
    reports, and the report should show that rather than hide it.
    """
    return f"{2000 + (raw >> 9):04d}-{(raw >> 5) & 0x0F:02d}-{raw & 0x1F:02d}"


def decode_version(raw: int) -> str:
    """Software version byte, BCD-like: 0x10 is 1.0, 0x21 is 2.1."""
    return f"{raw >> 4}.{raw & 0x0F}"


def _bit_positions(bitmap: int, first: int = 1) -> frozenset[int]:
    return frozenset(i + first for i in range(bitmap.bit_length()) if bitmap >> i & 1)


def decode_protections(bitmap: int) -> frozenset[str]:
    """Protection bits 0..12 onto the canonical names, in JBD's bit order."""
    return ProtectionSet(name for bit, name in enumerate(PROTECTION_BITS) if bitmap >> bit & 1)


def decode_basic_info(data: bytes) -> BasicInfo:
    """Register 0x03. Extra trailing bytes (newer firmware) are ignored."""
    if len(data) < BASIC_INFO_FIXED_LEN:
        raise BmsFrameError(
            f"basic info is {len(data)} bytes, need {BASIC_INFO_FIXED_LEN}", b"", data
        )
    (
        pack_v,
        current,
        remaining,
        full,
        cycles,
        date,
        balance_lo,
        balance_hi,
        protection,
        version,
        rsoc,
        fets,
        cell_count,
        ntc_count,
    ) = struct.unpack_from(">HhHHHHHHHBBBBB", data)
    temps_end = BASIC_INFO_FIXED_LEN + 2 * ntc_count
    if len(data) < temps_end:
        raise BmsFrameError(f"basic info announces {ntc_count} NTCs but is short", b"", data)
    raw_temps = struct.unpack_from(f">{ntc_count}H", data, BASIC_INFO_FIXED_LEN)
    status = BmsStatus(
        pack_voltage=pack_v / 100,
        current=current / 100,
        remaining_capacity_ah=remaining / 100,
        full_capacity_ah=full / 100,
        cycles=cycles,
        soc_percent=float(rsoc),
        charge_fet=bool(fets & 0x01),
        discharge_fet=bool(fets & 0x02),
        protections=decode_protections(protection),
        balancing=_bit_positions(balance_lo | balance_hi << 16),
        cell_count=cell_count,
        temperatures_c=tuple((t - KELVIN_OFFSET_DK) / 10 for t in raw_temps),
    )
    return BasicInfo(status, decode_version(version), decode_date(date), protection)


def encode_basic_info(
    status: BmsStatus,
    software_version: int = 0x10,
    production_date: int = 0,
    protection_bits: int | None = None,
) -> bytes:
    """The inverse of decode_basic_info (tests, fuzzing, tools that craft frames).

    Values are rounded to the wire resolution; protection bits default to the
    canonical names in `status.protections`.
    """
    if protection_bits is None:
        protection_bits = sum(1 << PROTECTION_BITS.index(name) for name in status.protections or ())
    balance = sum(1 << (cell - 1) for cell in status.balancing or ())
    fets = int(status.charge_fet) | int(status.discharge_fet) << 1
    temps = [round(t * 10) + KELVIN_OFFSET_DK for t in status.temperatures_c]
    return struct.pack(
        f">HhHHHHHHHBBBBB{len(temps)}H",
        round(status.pack_voltage * 100),
        round(status.current * 100),
        round((status.remaining_capacity_ah or 0) * 100),
        round((status.full_capacity_ah or 0) * 100),
        status.cycles or 0,
        production_date,
        balance & 0xFFFF,
        balance >> 16,
        protection_bits,
        software_version,
        round(status.soc_percent),
        fets,
        status.cell_count or 0,
        len(temps),
        *temps,
    )


def decode_cell_voltages(data: bytes) -> list[float]:
    """Register 0x04: U16 millivolts per cell, cell 1 first."""
    if len(data) % 2:
        raise BmsFrameError(f"cell voltage data has odd length {len(data)}", b"", data)
    return [mv / 1000 for (mv,) in struct.iter_unpack(">H", data)]


def decode_hardware(data: bytes) -> str:
    """Register 0x05: the ASCII device string (non-ASCII shown, not fatal)."""
    return data.decode("ascii", errors="replace").strip("\x00 ").strip()
