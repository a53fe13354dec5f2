"""The JBD EEPROM register map: every documented register, as data.

Each register is one row: address, name (the names the open-source JBD tools use),
encoding and unit. `decode` turns a register's two (or more) data bytes into named SI
values, `encode` does the reverse and refuses what the register cannot hold. The map
onto the interface's protections (`PROTECTION_FIELDS`) is a table too, so a protection
is one line.

Units: V, A, Ah, °C, s; the shunt in mΩ. Temperatures are stored as 0.1 K.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from dut_drivers.errors import BmsFrameError

Kind = Literal["u16", "s16", "temp", "pair", "date", "bits", "str", "sc", "cxvp", "counts"]
KELVIN_DK = 2731


@dataclass(frozen=True)
class Register:
    address: int
    name: str
    kind: Kind
    scale: float = 1.0  # SI units per count (u16/s16)
    unit: str = ""
    fields: tuple[str, ...] = ()  # pair: (byte 0, byte 1); bits: from bit 0

    def names(self) -> tuple[str, ...]:
        """The value names this register holds."""
        if self.kind in ("pair", "bits", "sc", "cxvp", "counts"):
            return self.fields
        return (self.name,)


def _u16(a: int, n: str, scale: float, unit: str) -> Register:
    return Register(a, n, "u16", scale, unit)


def _temp(a: int, n: str) -> Register:
    return Register(a, n, "temp", 0.1, "°C")


def _pair(a: int, n: str, lo: str, hi: str) -> Register:
    return Register(a, n, "pair", 1.0, "s", (lo, hi))


SC_MV = (22, 33, 44, 56, 67, 78, 89, 100)
SC_DELAY_US = (70, 100, 200, 400)
DSGOC2_MV = (8, 11, 14, 17, 19, 22, 25, 28, 31, 33, 36, 39, 42, 44, 47, 50)
DSGOC2_DELAY_MS = (8, 20, 40, 80, 160, 320, 640, 1280)
CUVP_HIGH_DELAY_S = (1, 4, 8, 16)
COVP_HIGH_DELAY_S = (1, 2, 4, 8)
ERROR_COUNTERS = (
    "sc_err_cnt",
    "chgoc_err_cnt",
    "dsgoc_err_cnt",
    "covp_err_cnt",
    "cuvp_err_cnt",
    "chgot_err_cnt",
    "chgut_err_cnt",
    "dsgot_err_cnt",
    "dsgut_err_cnt",
    "povp_err_cnt",
    "puvp_err_cnt",
)

REGISTERS: tuple[Register, ...] = (
    _u16(0x10, "design_cap", 0.01, "Ah"),
    _u16(0x11, "cycle_cap", 0.01, "Ah"),
    _u16(0x12, "cap_100", 0.001, "V"),
    _u16(0x13, "cap_0", 0.001, "V"),
    _u16(0x14, "dsg_rate", 0.1, "%"),
    Register(0x15, "mfg_date", "date"),
    _u16(0x16, "serial_num", 1, ""),
    _u16(0x17, "cycle_cnt", 1, ""),
    _temp(0x18, "chgot"),
    _temp(0x19, "chgot_rel"),
    _temp(0x1A, "chgut"),
    _temp(0x1B, "chgut_rel"),
    _temp(0x1C, "dsgot"),
    _temp(0x1D, "dsgot_rel"),
    _temp(0x1E, "dsgut"),
    _temp(0x1F, "dsgut_rel"),
    _u16(0x20, "povp", 0.01, "V"),
    _u16(0x21, "povp_rel", 0.01, "V"),
    _u16(0x22, "puvp", 0.01, "V"),
    _u16(0x23, "puvp_rel", 0.01, "V"),
    _u16(0x24, "covp", 0.001, "V"),
    _u16(0x25, "covp_rel", 0.001, "V"),
    _u16(0x26, "cuvp", 0.001, "V"),
    _u16(0x27, "cuvp_rel", 0.001, "V"),
    Register(0x28, "chgoc", "s16", 0.01, "A"),
    Register(0x29, "dsgoc", "s16", 0.01, "A"),  # stored negative
    Register(0x2A, "bal_start", "s16", 0.001, "V"),
    _u16(0x2B, "bal_window", 0.001, "V"),
    _u16(0x2C, "shunt_res", 0.1, "mΩ"),
    Register(
        0x2D,
        "func_config",
        "bits",
        fields=("switch", "scrl", "balance_en", "chg_balance_en", "led_en", "led_num"),
    ),
    Register(0x2E, "ntc_config", "bits", fields=tuple(f"ntc{i}" for i in range(1, 9))),
    _u16(0x2F, "cell_cnt", 1, ""),
    _u16(0x30, "fet_ctrl", 1, "s"),
    _u16(0x31, "led_timer", 1, "s"),
    _u16(0x32, "cap_80", 0.001, "V"),
    _u16(0x33, "cap_60", 0.001, "V"),
    _u16(0x34, "cap_40", 0.001, "V"),
    _u16(0x35, "cap_20", 0.001, "V"),
    _u16(0x36, "covp_high", 0.001, "V"),
    _u16(0x37, "cuvp_high", 0.001, "V"),
    Register(
        0x38,
        "sc_dsgoc2",
        "sc",
        fields=("sc_mv", "sc_delay_us", "dsgoc2_mv", "dsgoc2_delay_ms", "sc_dsgoc_x2"),
    ),
    Register(
        0x39,
        "cxvp_high_delay_sc_rel",
        "cxvp",
        fields=("cuvp_high_delay", "covp_high_delay", "sc_rel"),
    ),
    _pair(0x3A, "chg_t_delays", "chgut_delay", "chgot_delay"),
    _pair(0x3B, "dsg_t_delays", "dsgut_delay", "dsgot_delay"),
    _pair(0x3C, "pack_v_delays", "puvp_delay", "povp_delay"),
    _pair(0x3D, "cell_v_delays", "cuvp_delay", "covp_delay"),
    _pair(0x3E, "chgoc_delays", "chgoc_delay", "chgoc_rel"),
    _pair(0x3F, "dsgoc_delays", "dsgoc_delay", "dsgoc_rel"),
    Register(0xA0, "mfg_name", "str"),
    Register(0xA1, "device_name", "str"),
    Register(0xA2, "barcode", "str"),
)
ERROR_COUNTS = Register(0xAA, "error_cnts", "counts", fields=ERROR_COUNTERS)

BY_ADDRESS: dict[int, Register] = {r.address: r for r in REGISTERS}
# By value name, and by register name for the registers holding several values.
BY_NAME: dict[str, Register] = {
    **{r.name: r for r in REGISTERS},
    **{n: r for r in REGISTERS for n in r.names()},
}

# Interface protection → (threshold, release, delay, release delay) value names. The
# delay pairs (0x3A-0x3F) are whole seconds; JBD's own tool shows them as each
# protection's delay.
PROTECTION_FIELDS: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "cell_ov": ("covp", "covp_rel", "covp_delay", None),
    "cell_uv": ("cuvp", "cuvp_rel", "cuvp_delay", None),
    "pack_ov": ("povp", "povp_rel", "povp_delay", None),
    "pack_uv": ("puvp", "puvp_rel", "puvp_delay", None),
    "charge_ot": ("chgot", "chgot_rel", "chgot_delay", None),
    "charge_ut": ("chgut", "chgut_rel", "chgut_delay", None),
    "discharge_ot": ("dsgot", "dsgot_rel", "dsgot_delay", None),
    "discharge_ut": ("dsgut", "dsgut_rel", "dsgut_delay", None),
    "charge_oc": ("chgoc", None, "chgoc_delay", "chgoc_rel"),
    "discharge_oc": ("dsgoc", None, "dsgoc_delay", "dsgoc_rel"),
}


def code_step(value: float, table: tuple[int, ...]) -> float:
    """The wider gap from a table entry to its neighbours: how far apart the settings a
    coded register can hold are around it."""
    i = min(range(len(table)), key=lambda k: abs(table[k] - value))
    gaps = [table[j + 1] - table[j] for j in (i - 1, i) if 0 <= j < len(table) - 1]
    return float(max(gaps))


def _choice(name: str, value: float, table: tuple[int, ...]) -> int:
    for index, entry in enumerate(table):
        if abs(value - entry) < 1e-6:
            return index
    raise ValueError(f"{name} = {value:g} is not one of {', '.join(map(str, table))}")


def decode(reg: Register, data: bytes) -> dict[str, float | int | bool | str]:
    """A register's data bytes → its named values. BmsFrameError on a wrong length."""
    if reg.kind == "str":
        if not data or data[0] > len(data) - 1:
            raise BmsFrameError(f"register 0x{reg.address:02X} ({reg.name}): bad string", b"", data)
        return {reg.name: data[1 : 1 + data[0]].decode("ascii", errors="replace")}
    if reg.kind == "counts":
        if len(data) < 2 * len(reg.fields) or len(data) % 2:
            raise BmsFrameError(f"error counters: {len(data)} bytes", b"", data)
        values = struct.unpack(f">{len(data) // 2}H", data)
        return dict(zip(reg.fields, values, strict=False))
    if len(data) != 2:
        raise BmsFrameError(
            f"register 0x{reg.address:02X} ({reg.name}) is {len(data)} bytes, expected 2", b"", data
        )
    (u,) = struct.unpack(">H", data)
    (s,) = struct.unpack(">h", data)
    if reg.kind == "u16":
        return {reg.name: round(u * reg.scale, 6)}
    if reg.kind == "s16":
        return {reg.name: round(s * reg.scale, 6)}
    if reg.kind == "temp":
        return {reg.name: round((u - KELVIN_DK) / 10, 1)}
    if reg.kind == "pair":
        return {reg.fields[0]: data[0], reg.fields[1]: data[1]}
    if reg.kind == "date":
        return {reg.name: f"{2000 + (u >> 9):04d}-{(u >> 5) & 0x0F:02d}-{u & 0x1F:02d}"}
    if reg.kind == "bits":
        return {f: bool(u >> i & 1) for i, f in enumerate(reg.fields)}
    if reg.kind == "sc":
        x2 = bool(data[0] & 0x80)
        factor = 2 if x2 else 1
        return {
            "sc_mv": SC_MV[data[0] & 0x07] * factor,
            "sc_delay_us": SC_DELAY_US[data[0] >> 3 & 0x03],
            "dsgoc2_mv": DSGOC2_MV[data[1] & 0x0F] * factor,
            "dsgoc2_delay_ms": DSGOC2_DELAY_MS[data[1] >> 4 & 0x07],
            "sc_dsgoc_x2": x2,
        }
    # cxvp
    return {
        "cuvp_high_delay": CUVP_HIGH_DELAY_S[data[0] >> 6 & 0x03],
        "covp_high_delay": COVP_HIGH_DELAY_S[data[0] >> 4 & 0x03],
        "sc_rel": data[1],
    }


def encode(reg: Register, values: dict[str, object]) -> bytes:
    """Named values → the register's data bytes; ValueError for what it cannot hold.

    Registers holding several values need all of them (read the register first and
    change what you mean to change).
    """
    missing = [n for n in reg.names() if n not in values]
    if missing:
        raise ValueError(f"register 0x{reg.address:02X} ({reg.name}) also needs {missing}")
    v = values
    if reg.kind == "str":
        text = str(v[reg.name]).encode("ascii")
        if len(text) > 31:
            raise ValueError(f"{reg.name}: at most 31 characters")
        return bytes([len(text)]) + text
    if reg.kind == "counts":
        raise ValueError("the error counters are read-only")
    if reg.kind in ("u16", "s16", "temp"):
        x = float(v[reg.name])  # type: ignore[arg-type]
        raw = round(x * 10) + KELVIN_DK if reg.kind == "temp" else round(x / reg.scale)
        lo, hi = (-0x8000, 0x7FFF) if reg.kind == "s16" else (0, 0xFFFF)
        if not lo <= raw <= hi:
            raise ValueError(
                f"{reg.name} = {x:g} {reg.unit} does not fit register 0x{reg.address:02X}"
            )
        return struct.pack(">h" if reg.kind == "s16" else ">H", raw)
    if reg.kind == "pair":
        out = []
        for f in reg.fields:
            x = float(v[f])  # type: ignore[arg-type]
            if not (0 <= x <= 255 and float(x).is_integer()):
                raise ValueError(f"{f} = {x:g} s: JBD delays are whole seconds, 0..255")
            out.append(int(x))
        return bytes(out)
    if reg.kind == "date":
        year, month, day = (int(p) for p in str(v[reg.name]).split("-"))
        return struct.pack(">H", (year - 2000) << 9 | month << 5 | day)
    if reg.kind == "bits":
        return struct.pack(">H", sum(1 << i for i, f in enumerate(reg.fields) if v[f]))
    if reg.kind == "sc":
        x2 = bool(v["sc_dsgoc_x2"])
        factor = 2 if x2 else 1
        b0 = (
            (0x80 if x2 else 0)
            | _choice("sc_delay_us", float(v["sc_delay_us"]), SC_DELAY_US) << 3  # type: ignore[arg-type]
            | _choice("sc_mv", float(v["sc_mv"]) / factor, SC_MV)  # type: ignore[arg-type]
        )
        b1 = (
            _choice("dsgoc2_delay_ms", float(v["dsgoc2_delay_ms"]), DSGOC2_DELAY_MS) << 4  # type: ignore[arg-type]
            | _choice("dsgoc2_mv", float(v["dsgoc2_mv"]) / factor, DSGOC2_MV)  # type: ignore[arg-type]
        )
        return bytes([b0, b1])
    b0 = (
        _choice("cuvp_high_delay", float(v["cuvp_high_delay"]), CUVP_HIGH_DELAY_S) << 6  # type: ignore[arg-type]
        | _choice("covp_high_delay", float(v["covp_high_delay"]), COVP_HIGH_DELAY_S) << 4  # type: ignore[arg-type]
    )
    sc_rel = int(v["sc_rel"])  # type: ignore[call-overload]
    if not 0 <= sc_rel <= 255:
        raise ValueError("sc_rel must be 0..255 s")
    return bytes([b0, sc_rel])
