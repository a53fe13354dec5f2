"""Pylontech-style CAN frames, decoded with cantools from the DBC beside this module.

The DBC (`pylontech.dbc`) is the protocol's description as data: ids, byte layout,
scale, sign and unit of every signal. This module only turns a decoded frame into the
interface's terms and refuses what does not fit: an id it does not know, a frame of the
wrong length, a value no BMS sends.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import cantools

from dut_drivers.base import ChargeLimits, ProtectionSet
from dut_drivers.errors import BmsFrameError

DBC = Path(__file__).with_name("pylontech.dbc")
LIMITS, SOC_SOH, MEASUREMENTS, ALARMS, REQUEST, NAME = 0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E
KEEPALIVE = 0x305
STATUS_FRAMES = (LIMITS, SOC_SOH, MEASUREMENTS, ALARMS, REQUEST)

# 0x359 signal → interface condition; the protocol does not say cell or pack, charge or
# discharge for voltage and temperature, so those are the coarse names.
PROTECTION_SIGNALS = {
    "ProtOverVoltage": "ov",
    "ProtUnderVoltage": "uv",
    "ProtOverTemp": "ot",
    "ProtUnderTemp": "ut",
    "ProtDischargeOverCurrent": "discharge_oc",
    "ProtChargeOverCurrent": "charge_oc",
    "ProtSystemError": "system_error",
}
WARNING_SIGNALS = {
    "WarnHighVoltage": "ov",
    "WarnLowVoltage": "uv",
    "WarnHighTemp": "ot",
    "WarnLowTemp": "ut",
    "WarnDischargeHighCurrent": "discharge_oc",
    "WarnChargeHighCurrent": "charge_oc",
    "WarnInternalComm": "comm_fault",
}


@cache
def database() -> Any:
    return cantools.database.load_file(str(DBC))


def frame_name(arbitration_id: int) -> str:
    try:
        return f"0x{arbitration_id:03X} {database().get_message_by_frame_id(arbitration_id).name}"
    except KeyError:
        return f"0x{arbitration_id:03X}"


def decode(arbitration_id: int, data: bytes) -> dict[str, Any]:
    """One frame's signals by name; BmsFrameError for an unknown id or a bad length."""
    db = database()
    try:
        message = db.get_message_by_frame_id(arbitration_id)
    except KeyError:
        raise BmsFrameError(
            f"CAN id 0x{arbitration_id:03X} is not in {DBC.name}", b"", data
        ) from None
    if len(data) != message.length:
        raise BmsFrameError(
            f"{message.name} (0x{arbitration_id:03X}) is {len(data)} bytes, "
            f"expected {message.length}",
            b"",
            data,
        )
    if arbitration_id == NAME:
        return {"Name": data.decode("ascii", errors="replace").strip()}
    try:
        signals = dict(message.decode(data, decode_choices=False))
    except Exception as exc:  # cantools raises its own DecodeError and ValueError
        raise BmsFrameError(f"{message.name}: {exc}", b"", data) from None
    _check(arbitration_id, signals, data)
    return signals


def _check(arbitration_id: int, s: dict[str, Any], data: bytes) -> None:
    bad = ""
    if arbitration_id == SOC_SOH and not (
        0 <= s["StateOfCharge"] <= 100 and 0 <= s["StateOfHealth"] <= 100
    ):
        bad = "SoC/SoH beyond 0..100 %"
    elif arbitration_id == LIMITS and (
        s["ChargeCurrentLimit"] < 0 or s["DischargeCurrentLimit"] < 0
    ):
        bad = "a negative current limit"
    elif arbitration_id == ALARMS and (s["MarkP"], s["MarkN"]) != (ord("P"), ord("N")):
        bad = "bytes 5-6 are not 'P' 'N'"
    if bad:
        raise BmsFrameError(f"0x{arbitration_id:03X}: {bad}", b"", data)


def protections(alarms: dict[str, Any]) -> ProtectionSet:
    return ProtectionSet(name for sig, name in PROTECTION_SIGNALS.items() if alarms[sig])


def warnings(alarms: dict[str, Any]) -> ProtectionSet:
    return ProtectionSet(name for sig, name in WARNING_SIGNALS.items() if alarms[sig])


def limits(s: dict[str, Any]) -> ChargeLimits:
    return ChargeLimits(
        charge_voltage=round(s["ChargeVoltageLimit"], 3),
        charge_current=round(s["ChargeCurrentLimit"], 3),
        discharge_current=round(s["DischargeCurrentLimit"], 3),
        discharge_voltage=round(s["DischargeVoltageLimit"], 3),
    )


def encode(arbitration_id: int, signals: dict[str, Any]) -> bytes:
    """Signals → frame bytes (the inverter's keep-alive; tests)."""
    return bytes(database().encode_message(arbitration_id, signals))
