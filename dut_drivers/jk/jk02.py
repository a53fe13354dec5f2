"""JK02 protocol of the newer JK boards (JK-B2A..., JK-PB): commands and 300-byte frames.

A command is 20 bytes: `AA 55 90 EB`, the command (0x97 device info, 0x96 settings and
cell data, or a register to write such as 0x1D charge switch, 0x1E discharge switch),
a length, a little-endian U32 value, padding, a counter at byte 16, and the low byte of
the sum of bytes 0-18. A reply frame is 300 bytes: `55 AA EB 90`, its type (0x01
settings, 0x02 cell data, 0x03 device information), a frame counter, the fields
(little-endian) and the low byte of the sum of bytes 0-298. Over BLE it arrives split
over notifications (characteristic FFE1 of service FFE0); over RS485 (JK-PB) a Modbus
write of register 0x161C/0x161E/0x1620 asks for the frame, which is followed by the
Modbus echo of that write.

Field offsets are the JK02_32S layout (firmware 11 and later), as syssi/esphome-jk-bms
(components/jk_bms_ble) and patman15/aiobmsble (jikong_bms.py) read it. Pure encode and
decode, no I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from dut_drivers.base import BmsStatus, ProtectionConfig, ProtectionSet, ProtectionSetting
from dut_drivers.errors import BmsChecksumError, BmsFrameError

COMMAND_HEADER = b"\xaa\x55\x90\xeb"
FRAME_HEADER = b"\x55\xaa\xeb\x90"
COMMAND_LEN = 20
FRAME_LEN = 300

SETTINGS, CELL_INFO, DEVICE_INFO = 0x01, 0x02, 0x03
CMD_CELL_INFO, CMD_DEVICE_INFO = 0x96, 0x97  # 0x96: settings frame, then cell data
REG_CHARGE_SWITCH, REG_DISCHARGE_SWITCH = 0x1D, 0x1E
FRAME_NAMES = {
    SETTINGS: "settings (0x01)",
    CELL_INFO: "cell data (0x02)",
    DEVICE_INFO: "device info (0x03)",
}

# JK-PB over RS485: the Modbus register whose write asks for each frame.
MODBUS_REGISTERS = {DEVICE_INFO: 0x161C, SETTINGS: 0x161E, CELL_INFO: 0x1620}
MODBUS_ECHO_LEN = 8


def crc(data: bytes) -> int:
    """JK02's check byte: the low byte of the plain sum."""
    return sum(data) & 0xFF


def build_command(command: int, value: int = 0, length: int = 0, counter: int = 0) -> bytes:
    """E.g. `AA 55 90 EB 97 00 ... 00 11` asks for the device information."""
    body = bytearray(COMMAND_LEN - 1)
    body[:4] = COMMAND_HEADER
    body[4], body[5] = command, length
    body[6:10] = (value & 0xFFFFFFFF).to_bytes(4, "little")
    body[16] = counter & 0xFF
    return bytes(body) + bytes([crc(body)])


def modbus_crc(data: bytes) -> int:
    """Modbus RTU CRC-16 (polynomial 0xA001, initial 0xFFFF), sent low byte first."""
    value = 0xFFFF
    for byte in data:
        value ^= byte
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
    return value


def modbus_request(frame_type: int, address: int = 0x01) -> bytes:
    """The JK-PB Modbus write that asks for one frame, e.g. `01 10 16 20 00 01 02 00 00 D6 F1`."""
    register = MODBUS_REGISTERS[frame_type]
    body = struct.pack(">BBHHBH", address, 0x10, register, 1, 2, 0)
    return body + modbus_crc(body).to_bytes(2, "little")


def modbus_echo(frame_type: int, address: int = 0x01) -> bytes:
    """The Modbus reply to that write, sent after the frame: `01 10 16 20 00 01 <crc>`."""
    body = struct.pack(">BBHH", address, 0x10, MODBUS_REGISTERS[frame_type], 1)
    return body + modbus_crc(body).to_bytes(2, "little")


def parse_frame(frame: bytes, sent: bytes = b"") -> int:
    """Check one 300-byte frame (header, length, check byte) and return its type."""
    if len(frame) < FRAME_LEN:
        raise BmsFrameError(f"JK02 frame is {len(frame)} bytes, not {FRAME_LEN}", sent, frame)
    if frame[:4] != FRAME_HEADER:
        raise BmsFrameError(f"JK02 frame starts {frame[:4].hex(' ')}, not 55 aa eb 90", sent, frame)
    if crc(frame[: FRAME_LEN - 1]) != frame[FRAME_LEN - 1]:
        raise BmsChecksumError(
            f"JK02 check byte 0x{frame[FRAME_LEN - 1]:02X}, computed "
            f"0x{crc(frame[: FRAME_LEN - 1]):02X}",
            sent,
            frame[:FRAME_LEN],
        )
    return frame[4]


def find_frame(buffer: bytes | bytearray) -> tuple[int, int] | None:
    """(start, type) of the first whole frame in `buffer` by its header, or None."""
    start = bytes(buffer).find(FRAME_HEADER)
    if start < 0 or len(buffer) - start < FRAME_LEN:
        return None
    return start, buffer[start + 4]


def _u16(f: bytes, i: int) -> int:
    return int.from_bytes(f[i : i + 2], "little")


def _s16(f: bytes, i: int) -> int:
    return int.from_bytes(f[i : i + 2], "little", signed=True)


def _u32(f: bytes, i: int) -> int:
    return int.from_bytes(f[i : i + 4], "little")


def _s32(f: bytes, i: int) -> int:
    return int.from_bytes(f[i : i + 4], "little", signed=True)


def _text(f: bytes, start: int, end: int) -> str:
    return f[start:end].split(b"\x00")[0].decode("ascii", errors="replace").strip()


# Error bits of the cell-data frame (U32 at 166) onto the interface's vocabulary, in
# the order esphome-jk-bms lists them (bit 4, once "cell over-voltage", reads "battery is
# fully charged" in its newer list: the cell over-voltage protection).
ERROR_BITS: dict[int, str] = {
    0: "sense_wire_open",  # wire resistance
    1: "fet_ot",
    2: "system_error",  # cell count not equal to the setting
    4: "cell_ov",
    5: "pack_ov",
    6: "charge_oc",
    7: "short_circuit",  # charge short circuit
    8: "charge_ot",
    9: "charge_ut",
    10: "comm_fault",  # coprocessor communication
    11: "cell_uv",
    12: "pack_uv",
    13: "discharge_oc",
    14: "short_circuit",
    15: "discharge_ot",
    16: "fet_fault",  # charging MOSFET abnormal
    17: "fet_fault",  # discharging MOSFET abnormal
    21: "ot",  # battery over-temperature
    22: "temp_sensor_fault",
    25: "discharge_oc",  # discharge OCP II
    26: "discharge_oc",  # discharge OCP III
    27: "discharge_ut",
}

CELLS_MAX = 32
OFF_CELLS, OFF_ENABLED = 6, 70
OFF_MOS_T, OFF_PACK_V, OFF_CURRENT = 144, 150, 158
OFF_T1, OFF_T2, OFF_ERRORS = 162, 164, 166
OFF_BALANCE_A, OFF_BALANCING, OFF_SOC = 170, 172, 173
OFF_REMAINING, OFF_NOMINAL, OFF_CYCLES, OFF_SOH = 174, 178, 182, 190
OFF_CHARGE_FET, OFF_DISCHARGE_FET, OFF_TEMP_MASK = 198, 199, 214


@dataclass(frozen=True)
class CellInfo:
    status: BmsStatus
    cells: list[float]
    errors: int
    mos_temperature_c: float | None
    balance_current_a: float


def decode_cell_info(frame: bytes) -> CellInfo:
    """A cell-data frame (type 0x02). Cells are those the enabled mask (U32 at 70) names."""
    mask = _u32(frame, OFF_ENABLED)
    count = bin(mask).count("1")
    cells = [_u16(frame, OFF_CELLS + 2 * i) / 1000 for i in range(min(count, CELLS_MAX))]
    sensors = _u16(frame, OFF_TEMP_MASK)
    temps = tuple(
        _s16(frame, off) / 10 for bit, off in ((1, OFF_T1), (2, OFF_T2)) if sensors >> bit & 1
    )
    errors = _u32(frame, OFF_ERRORS)
    status = BmsStatus(
        pack_voltage=_u32(frame, OFF_PACK_V) / 1000,
        current=_s32(frame, OFF_CURRENT) / 1000,
        remaining_capacity_ah=_u32(frame, OFF_REMAINING) / 1000,
        full_capacity_ah=_u32(frame, OFF_NOMINAL) / 1000,
        cycles=_u32(frame, OFF_CYCLES),
        soc_percent=float(frame[OFF_SOC]),
        charge_fet=bool(frame[OFF_CHARGE_FET]),
        discharge_fet=bool(frame[OFF_DISCHARGE_FET]),
        protections=ProtectionSet(name for bit, name in ERROR_BITS.items() if errors >> bit & 1),
        balancing=None,
        cell_count=count,
        temperatures_c=temps,
        soh_percent=float(frame[OFF_SOH]),
        cell_min_v=min(cells) if cells else None,
        cell_max_v=max(cells) if cells else None,
    )
    mos = _s16(frame, OFF_MOS_T) / 10 if sensors & 1 else None
    return CellInfo(status, cells, errors, mos, _s16(frame, OFF_BALANCE_A) / 1000)


# Settings frame (type 0x01): (offset, name, scale, signed). Voltages V, currents A,
# temperatures °C, times s.
SETTING_FIELDS: tuple[tuple[int, str, float, bool], ...] = (
    (6, "smart_sleep_v", 0.001, False),
    (10, "cell_uv_v", 0.001, False),
    (14, "cell_uv_release_v", 0.001, False),
    (18, "cell_ov_v", 0.001, False),
    (22, "cell_ov_release_v", 0.001, False),
    (26, "balance_trigger_v", 0.001, False),
    (30, "soc100_v", 0.001, False),
    (34, "soc0_v", 0.001, False),
    (38, "request_charge_v", 0.001, False),
    (42, "request_float_v", 0.001, False),
    (46, "power_off_v", 0.001, False),
    (50, "charge_oc_a", 0.001, False),
    (54, "charge_oc_delay_s", 1, False),
    (58, "charge_oc_release_s", 1, False),
    (62, "discharge_oc_a", 0.001, False),
    (66, "discharge_oc_delay_s", 1, False),
    (70, "discharge_oc_release_s", 1, False),
    (74, "short_circuit_release_s", 1, False),
    (78, "balance_max_a", 0.001, False),
    (82, "charge_ot_c", 0.1, True),
    (86, "charge_ot_release_c", 0.1, True),
    (90, "discharge_ot_c", 0.1, True),
    (94, "discharge_ot_release_c", 0.1, True),
    (98, "charge_ut_c", 0.1, True),
    (102, "charge_ut_release_c", 0.1, True),
    (106, "mos_ot_c", 0.1, True),
    (110, "mos_ot_release_c", 0.1, True),
    (114, "cell_count", 1, False),
    (118, "charge_switch", 1, False),
    (122, "discharge_switch", 1, False),
    (126, "balancer_switch", 1, False),
    (130, "nominal_capacity_ah", 0.001, False),
    (134, "short_circuit_delay_us", 1, False),
    (138, "balance_start_v", 0.001, False),
)
OFF_DISCHARGE_UT, OFF_DISCHARGE_UT_RELEASE = 296, 297  # I8, °C
SETTING_STEPS = {name: scale for _, name, scale, _ in SETTING_FIELDS} | {
    "discharge_ut_c": 1.0,
    "discharge_ut_release_c": 1.0,
    "short_circuit_delay_s": 1e-6,
}

# Per protection: setting names of (threshold, release, delay_s, release_delay_s).
PROTECTION_FIELDS: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "cell_ov": ("cell_ov_v", "cell_ov_release_v", None, None),
    "cell_uv": ("cell_uv_v", "cell_uv_release_v", None, None),
    "charge_oc": ("charge_oc_a", None, "charge_oc_delay_s", "charge_oc_release_s"),
    "discharge_oc": ("discharge_oc_a", None, "discharge_oc_delay_s", "discharge_oc_release_s"),
    "short_circuit": (None, None, "short_circuit_delay_s", "short_circuit_release_s"),
    "charge_ot": ("charge_ot_c", "charge_ot_release_c", None, None),
    "discharge_ot": ("discharge_ot_c", "discharge_ot_release_c", None, None),
    "charge_ut": ("charge_ut_c", "charge_ut_release_c", None, None),
    "discharge_ut": ("discharge_ut_c", "discharge_ut_release_c", None, None),
}
_FIELDS = ("threshold", "release", "delay_s", "release_delay_s")


def decode_settings(frame: bytes) -> dict[str, float]:
    out: dict[str, float] = {}
    for offset, name, scale, signed in SETTING_FIELDS:
        raw = _s32(frame, offset) if signed else _u32(frame, offset)
        out[name] = round(raw * scale, 6)
    out["short_circuit_delay_s"] = out["short_circuit_delay_us"] / 1e6
    out["discharge_ut_c"] = float(int.from_bytes(frame[296:297], "little", signed=True))
    out["discharge_ut_release_c"] = float(int.from_bytes(frame[297:298], "little", signed=True))
    return out


def protection_config(settings: dict[str, float]) -> ProtectionConfig:
    """The protection settings with the step each is coded in (1 mV, 1 mA, 0.1 °C, 1 s,
    1 µs); the frame holds no cell over/under-voltage delays and no pack levels."""
    out: dict[str, ProtectionSetting] = {}
    for name, names in PROTECTION_FIELDS.items():
        values: dict[str, float | None] = {}
        steps: dict[str, float] = {}
        for field_name, setting in zip(_FIELDS, names, strict=True):
            if setting is None:
                values[field_name] = None
                continue
            values[field_name] = float(settings[setting])
            steps[field_name] = SETTING_STEPS[setting]
        out[name] = ProtectionSetting(**values, steps=steps)
    return ProtectionConfig(settings=out, extra=dict(settings))


@dataclass(frozen=True)
class DeviceInfo:
    model: str
    hardware: str
    software: str
    name: str
    manufacture_date: str
    serial: str


def decode_device_info(frame: bytes) -> DeviceInfo:
    """A device-info frame (type 0x03)."""
    return DeviceInfo(
        model=_text(frame, 6, 22),
        hardware=_text(frame, 22, 30),
        software=_text(frame, 30, 38),
        name=_text(frame, 46, 62),
        manufacture_date=_text(frame, 78, 86),
        serial=_text(frame, 86, 97),
    )
