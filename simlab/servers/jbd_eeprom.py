"""The simulated JBD board's EEPROM: registers 0x10-0x3F and 0xA0-0xA2, tied to the firmware.

A register is two bytes (strings: a length byte and text). Registers that hold a
firmware parameter are live: a read encodes the parameter's present value, and a saved
write sets the parameter, so `--sim-set firmware.cell_ov.threshold_v=3.7` shows in a
register read and a configuration written by a client changes how the simulated BMS
protects. The rest hold what a factory-fresh 16S LFP board holds, and keep what a client
writes.

Factory mode as on the real board: writes go to a shadow; leaving with 28 28 saves them
(and applies the live ones), leaving with 00 00 drops them.

The link between register and parameter is the table `LIVE`: one line per value. A
protection the firmware does not model yet is not live until the firmware has a
parameter of that name; its line is already here. Register 0x38 (short circuit and the
second discharge over-current level) holds table codes, not values: it reads the codes
nearest the firmware's parameters, as a board configured to the nearest setting would.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

KELVIN_DK = 2731


class ParamStore(Protocol):
    def parameters(self) -> dict[str, object]: ...

    def get(self, path: object) -> object: ...

    def set(self, path: object, value: object) -> object: ...


@dataclass(frozen=True)
class Live:
    """One register value backed by a firmware parameter."""

    address: int
    byte: int | None  # None: the whole 16-bit register; 0/1: one byte of a pair
    protection: str  # firmware protection name, or "" for a top-level firmware parameter
    field: str  # "threshold", "release", "delay_s", "release_delay_s", or a parameter name
    to_raw: Callable[[float], int]
    from_raw: Callable[[int], float]
    signed: bool = False
    bit: int | None = None  # a flag: this bit of the 16-bit register (byte is None)


def _scale(step: float) -> tuple[Callable[[float], int], Callable[[int], float]]:
    return (lambda x: round(x / step)), (lambda raw: round(raw * step, 6))


MV = _scale(0.001)
V10MV = _scale(0.01)
A10MA = _scale(0.01)
AH10MAH = _scale(0.01)
SECONDS = (lambda x: round(x)), (lambda raw: float(raw))
TEMP = (lambda c: round(c * 10) + KELVIN_DK), (lambda raw: round((raw - KELVIN_DK) / 10, 1))
NEG_A = (lambda a: -round(abs(a) / 0.01)), (lambda raw: round(abs(raw) * 0.01, 6))


def _row(a: int, b: int | None, p: str, f: str, codec: Any, signed: bool = False) -> Live:
    return Live(a, b, p, f, codec[0], codec[1], signed)


FLAG = (lambda x: int(bool(x))), (lambda raw: bool(raw))


def _flag(a: int, bit: int, f: str) -> Live:
    return Live(a, None, "", f, FLAG[0], FLAG[1], bit=bit)


LIVE: tuple[Live, ...] = (
    _row(0x10, None, "", "full_capacity_ah", AH10MAH),
    _row(0x24, None, "cell_ov", "threshold", MV),
    _row(0x25, None, "cell_ov", "release", MV),
    _row(0x26, None, "cell_uv", "threshold", MV),
    _row(0x27, None, "cell_uv", "release", MV),
    _row(0x20, None, "pack_ov", "threshold", V10MV),
    _row(0x21, None, "pack_ov", "release", V10MV),
    _row(0x22, None, "pack_uv", "threshold", V10MV),
    _row(0x23, None, "pack_uv", "release", V10MV),
    _row(0x3D, 1, "cell_ov", "delay_s", SECONDS),
    _row(0x3D, 0, "cell_uv", "delay_s", SECONDS),
    _row(0x3C, 1, "pack_ov", "delay_s", SECONDS),
    _row(0x3C, 0, "pack_uv", "delay_s", SECONDS),
    _row(0x18, None, "charge_ot", "threshold", TEMP),
    _row(0x19, None, "charge_ot", "release", TEMP),
    _row(0x1A, None, "charge_ut", "threshold", TEMP),
    _row(0x1B, None, "charge_ut", "release", TEMP),
    _row(0x1C, None, "discharge_ot", "threshold", TEMP),
    _row(0x1D, None, "discharge_ot", "release", TEMP),
    _row(0x1E, None, "discharge_ut", "threshold", TEMP),
    _row(0x1F, None, "discharge_ut", "release", TEMP),
    _row(0x3A, 1, "charge_ot", "delay_s", SECONDS),
    _row(0x3A, 0, "charge_ut", "delay_s", SECONDS),
    _row(0x3B, 1, "discharge_ot", "delay_s", SECONDS),
    _row(0x3B, 0, "discharge_ut", "delay_s", SECONDS),
    _row(0x28, None, "charge_oc", "threshold", A10MA, signed=True),
    _row(0x3E, 0, "charge_oc", "delay_s", SECONDS),
    _row(0x3E, 1, "charge_oc", "release_delay_s", SECONDS),
    _row(0x29, None, "discharge_oc1", "threshold", NEG_A, signed=True),
    _row(0x3F, 0, "discharge_oc1", "delay_s", SECONDS),
    _row(0x3F, 1, "discharge_oc1", "release_delay_s", SECONDS),
    _row(0x39, 1, "short_circuit", "release_delay_s", SECONDS),
    _row(0x2A, None, "", "balance.start_v", MV, signed=True),
    _row(0x2B, None, "", "balance.window_v", MV),
    _flag(0x2D, 2, "balance.enabled"),
    _flag(0x2D, 3, "balance.only_charging"),
)

# Parameter field names the firmware may use for each logical field, in order of
# preference (voltage protections say threshold_v; others may say threshold_a/_c).
FIELD_NAMES = {
    "threshold": ("threshold", "threshold_v", "threshold_a", "threshold_c"),
    "release": ("release", "release_v", "release_a", "release_c"),
    "delay_s": ("delay_s",),
    "release_delay_s": ("release_delay_s",),
}


def _string(text: str) -> bytes:
    raw = text.encode("ascii", errors="replace")[:31]
    return bytes([len(raw)]) + raw


# A factory-fresh 16S LFP board: every register a client may ask for has a value.
DEFAULTS: dict[int, bytes] = {
    addr: struct.pack(">H", raw)
    for addr, raw in {
        0x10: 10000,  # design capacity, 10 mAh
        0x11: 10000,  # cycle capacity
        0x12: 3450,  # 100 % voltage, mV
        0x13: 2800,  # 0 % voltage
        0x14: 20,  # self-discharge, 0.1 %
        0x15: (24 << 9) | (3 << 5) | 15,  # 2024-03-15
        0x16: 1,  # serial number
        0x17: 0,  # cycles
        0x18: 500 + KELVIN_DK,  # charge OT 50 °C
        0x19: 450 + KELVIN_DK,
        0x1A: 0 + KELVIN_DK,  # charge UT 0 °C
        0x1B: 50 + KELVIN_DK,
        0x1C: 600 + KELVIN_DK,  # discharge OT 60 °C
        0x1D: 550 + KELVIN_DK,
        0x1E: KELVIN_DK - 200,  # discharge UT -20 °C
        0x1F: KELVIN_DK - 150,
        0x20: 5840,  # pack OV 58.40 V
        0x21: 5440,
        0x22: 4000,
        0x23: 4640,
        0x24: 3650,
        0x25: 3400,
        0x26: 2500,
        0x27: 2900,
        0x28: 2000,  # charge OC 20.00 A
        0x29: (-4000) & 0xFFFF,  # discharge OC -40.00 A
        0x2A: 3400,  # balance start mV
        0x2B: 30,  # balance window mV
        0x2C: 10,  # shunt 1.0 mΩ
        0x2D: 0b0000_1100,  # balance enabled, only while charging
        0x2E: 0b11,  # NTC 1 and 2
        0x2F: 16,  # cells
        0x30: 10,
        0x31: 5,
        0x32: 3350,
        0x33: 3300,
        0x34: 3250,
        0x35: 3200,
        0x36: 3800,  # secondary cell OV
        0x37: 2300,  # secondary cell UV
        0x38: (0b0001_0011 << 8) | 0b0101_0011,  # coded: read from the firmware (CODED)
        0x39: (0b0001_0000 << 8) | 5,  # secondary delays; SC release 5 s
        0x3A: (2 << 8) | 2,
        0x3B: (2 << 8) | 2,
        0x3C: (2 << 8) | 2,
        0x3D: (2 << 8) | 2,
        0x3E: (2 << 8) | 32,
        0x3F: (2 << 8) | 32,
    }.items()
}
STRINGS = {0xA0: "JBD", 0xA2: "SIM-0001"}  # 0xA1 (device name) is the firmware's


# Register 0x38: the AFE's short-circuit and second discharge over-current settings,
# held as codes (mV across the shunt, and delays) from fixed tables; bit 7 doubles both
# thresholds. Read: the codes nearest the firmware's parameters; saved: the parameters
# become what the codes mean. Tables as the JBD protocol documents them.
SC_MV = (22, 33, 44, 56, 67, 78, 89, 100)
SC_DELAY_US = (70, 100, 200, 400)
OCD2_MV = (8, 11, 14, 17, 19, 22, 25, 28, 31, 33, 36, 39, 42, 44, 47, 50)
OCD2_DELAY_MS = (8, 20, 40, 80, 160, 320, 640, 1280)
CODED = 0x38
CODED_PATHS = (
    "firmware.short_circuit.threshold_a",
    "firmware.short_circuit.delay_s",
    "firmware.discharge_oc2.threshold_a",
    "firmware.discharge_oc2.delay_s",
)


def _nearest(value: float, table: tuple[int, ...]) -> int:
    return min(range(len(table)), key=lambda i: abs(table[i] - value))


def encode_coded(
    sc_a: float, sc_s: float, ocd2_a: float, ocd2_s: float, shunt_mohm: float
) -> bytes:
    """The 0x38 codes nearest these settings, with the doubling that fits both best."""

    def fit(x2: bool) -> tuple[float, int, int]:
        f = 2 if x2 else 1
        sc = _nearest(sc_a * shunt_mohm / f, SC_MV)
        oc = _nearest(ocd2_a * shunt_mohm / f, OCD2_MV)
        err = abs(SC_MV[sc] * f / shunt_mohm - sc_a) / sc_a
        err += abs(OCD2_MV[oc] * f / shunt_mohm - ocd2_a) / ocd2_a
        return err, sc, oc

    (_, sc, oc), x2 = min((fit(x2), x2) for x2 in (False, True))
    b0 = (0x80 if x2 else 0) | _nearest(sc_s * 1e6, SC_DELAY_US) << 3 | sc
    b1 = _nearest(ocd2_s * 1e3, OCD2_DELAY_MS) << 4 | oc
    return bytes([b0, b1])


def decode_coded(data: bytes, shunt_mohm: float) -> tuple[float, float, float, float]:
    """(short-circuit A, s, OCD2 A, s) the 0x38 codes stand for."""
    f = 2 if data[0] & 0x80 else 1
    return (
        round(SC_MV[data[0] & 0x07] * f / shunt_mohm, 6),
        SC_DELAY_US[data[0] >> 3 & 0x03] / 1e6,
        round(OCD2_MV[data[1] & 0x0F] * f / shunt_mohm, 6),
        OCD2_DELAY_MS[data[1] >> 4 & 0x07] / 1e3,
    )


class JbdEeprom:
    """The register file; every call is made under the lab lock by the UART server."""

    def __init__(self, params: ParamStore, device_name: Callable[[], str]):
        self.params = params
        self.device_name = device_name
        self.stored: dict[int, bytes] = dict(DEFAULTS)
        self.stored.update({a: _string(t) for a, t in STRINGS.items()})
        self.shadow: dict[int, bytes] = {}

    @staticmethod
    def holds(address: int) -> bool:
        return address in DEFAULTS or address in (0xA0, 0xA1, 0xA2)

    def _path(self, row: Live, known: dict[str, object]) -> str | None:
        if not row.protection:
            path = f"firmware.{row.field}"
            return path if path in known else None
        for name in FIELD_NAMES.get(row.field, (row.field,)):
            path = f"firmware.{row.protection}.{name}"
            if path in known:
                return path
        return None

    def live_paths(self) -> dict[tuple[int, int | str | None], str]:
        """Which register values are tied to which firmware parameter right now, keyed
        by (address, byte) and, for a flag, (address, "bit<n>")."""
        known = self.params.parameters()
        out: dict[tuple[int, int | str | None], str] = {}
        for row in LIVE:
            path = self._path(row, known)
            if path is not None:
                out[(row.address, row.byte if row.bit is None else f"bit{row.bit}")] = path
        return out

    def read(self, address: int) -> bytes:
        if address in self.shadow:
            return self.shadow[address]
        if address == 0xA1:
            return _string(self.device_name())
        data = bytearray(self.stored[address])
        known = self.params.parameters()
        if address == CODED and all(p in known for p in CODED_PATHS):
            values = [float(self.params.get(p)) for p in CODED_PATHS]  # type: ignore[arg-type]
            return encode_coded(*values, self._shunt_mohm())
        for row in LIVE:
            if row.address != address:
                continue
            path = self._path(row, known)
            if path is None:
                continue
            raw = row.to_raw(float(self.params.get(path)))  # type: ignore[arg-type]
            if row.bit is not None:
                (word,) = struct.unpack(">H", data[0:2])
                word = word | 1 << row.bit if raw else word & ~(1 << row.bit)
                data[0:2] = struct.pack(">H", word)
            elif row.byte is None:
                fmt = ">h" if row.signed else ">H"
                lo, hi = (-0x8000, 0x7FFF) if row.signed else (0, 0xFFFF)
                data[0:2] = struct.pack(fmt, min(max(raw, lo), hi))
            else:
                data[row.byte] = min(max(raw, 0), 0xFF)
        return bytes(data)

    def write(self, address: int, data: bytes) -> bool:
        """Stage a write; False (refused) for a wrong length."""
        if address in (0xA0, 0xA1, 0xA2):
            if not data or data[0] != len(data) - 1 or data[0] > 31:
                return False
        elif len(data) != 2:
            return False
        self.shadow[address] = bytes(data)
        return True

    def save(self) -> list[str]:
        """Commit the shadow: store it and set the live parameters; errors as text."""
        errors: list[str] = []
        known = self.params.parameters()
        for address, data in sorted(self.shadow.items()):
            if address == 0xA1:
                self._set("firmware.device_name", data[1:].decode("ascii", "replace"), errors)
                continue
            self.stored[address] = data
            if address == CODED and all(p in known for p in CODED_PATHS):
                coded = decode_coded(data, self._shunt_mohm())
                for path, value in zip(CODED_PATHS, coded, strict=True):
                    self._set(path, value, errors)
            for row in LIVE:
                if row.address != address:
                    continue
                path = self._path(row, known)
                if path is None:
                    continue
                if row.bit is not None:
                    raw = struct.unpack(">H", data)[0] >> row.bit & 1
                elif row.byte is None:
                    (raw,) = struct.unpack(">h" if row.signed else ">H", data)
                else:
                    raw = data[row.byte]
                self._set(path, row.from_raw(raw), errors)
        self.shadow.clear()
        return errors

    def _shunt_mohm(self) -> float:
        """The board's shunt (0x2C, 0.1 mΩ units): the AFE's thresholds are mV across it."""
        (raw,) = struct.unpack(">H", self.stored[0x2C])
        return max(raw, 1) / 10

    def _set(self, path: str, value: object, errors: list[str]) -> None:
        try:
            self.params.set(path, value)
        except (KeyError, ValueError) as exc:
            errors.append(f"{path}: {exc}")

    def discard(self) -> None:
        self.shadow.clear()
