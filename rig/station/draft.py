"""A first station file from what `rig station scan` found, every guess marked `# DECIDE`.

The draft is a valid station file (`simulated: false`), so `rig station check` can open it
at once; what only a person can know (the bench's absolute limits, which channel is wired
to what, the NTC curves, the probe scale, the short relay's channel, calibration dates)
is written as a guess from the instruments' own ranges, each on a line that says so.
"""

from __future__ import annotations

import json
import math
from typing import Any

from instruments.registry import driver_for, role_of
from rig.station.scan import ScanResult

DECIDE = "# DECIDE"
DEFAULT_CELL_MAX_V = 4.0
DEFAULT_SAFE_CELL_V = 3.3


def _q(text: str) -> str:
    return json.dumps(text)  # a YAML-safe double-quoted scalar


def _range_max(model: str, attribute: str, default: float) -> float:
    """The top of a model's range as its driver states it (a channel class attribute)."""
    driver = driver_for(model)
    channels = [getattr(driver, n) for n in dir(driver) if n.startswith("ch_")]
    sources = [driver, *(cls for creator in channels for cls, _ in getattr(creator, "pairs", ()))]
    for source in sources:
        value = getattr(source, attribute, None)
        if isinstance(value, tuple | list) and len(value) == 2:
            return float(value[1])
    return default


def draft_station(result: ScanResult, visa_library: str = "@py", name: str = "bench") -> str:
    roles: dict[str, list[Any]] = {}
    for found in result.instruments:
        if found.model is not None and not found.error:
            roles.setdefault(role_of(found.model), []).append(found)
    names: dict[int, str] = {}
    lines = [
        "# Drafted by `rig station scan`. Every line marked DECIDE is a guess: check it",
        "# against the bench before `rig station check`.",
        f"name: {name}",
        "description: drafted by rig station scan  " + DECIDE,
        "simulated: false",
        f"visa_library: {_q(visa_library)}",
        "",
        "instruments:",
    ]
    for role, found_list in roles.items():
        base = _ROLE_BASE[role]
        for i, found in enumerate(found_list):
            if role == "cell_emulator":
                label = f"{base}_{chr(ord('a') + i)}"
            elif role == "thermistor_emulator":
                label = f"{base}_{i + 1}"
            else:
                label = base if i == 0 else f"{base}_{i + 1}"
            names[id(found)] = label
            serial = found.idn.split(",")[2].strip() if found.idn.count(",") >= 2 else ""
            lines += [f"  {label}:", f"    model: {found.model}"]
            lines.append(f"    resource: {_q(found.resource)}")
            if serial:
                lines.append(f"    serial: {_q(serial)}")
            modules = found.facts.get("modules")
            if modules:
                lines.append(f"    modules: [{', '.join(modules)}]")
            if found.baud and found.baud != 9600:
                lines.append(f"    serial_line: {{baud_rate: {found.baud}}}")
            lines.append(f"    # calibration_due: YYYY-MM-DD  {DECIDE}: from its certificate")

    cells = _cells(roles, names)
    cell_count = (result.bms or {}).get("cell_count") or len(cells) or 1
    cells = cells[:cell_count]
    lines += ["", "wiring:"]
    charger = roles.get("power_supply", [None])[0]
    load = roles.get("electronic_load", [None])[0]
    if charger is not None:
        lines.append(f"  charger: {names[id(charger)]}:1  {DECIDE}: the channel on P+/P-")
    if load is not None:
        lines.append(f"  load: {names[id(load)]}:1")
    if cells:
        lines.append(f"  cells:  {DECIDE}: position 1 is the most negative cell")
        lines += [f"    {p}: {ref}" for p, ref in enumerate(cells, 1)]
    ntcs = roles.get("thermistor_emulator", [])
    if ntcs:
        lines.append(f"  thermistors:  {DECIDE}: the curve of the NTC each input expects")
        lines += [
            f'    {n}: {{channel: "{names[id(f)]}:1", r25_ohm: 10000, beta_k: 3435}}'
            for n, f in enumerate(ntcs, 1)
        ]
    digitizer = roles.get("digitizer", [None])[0]
    if digitizer is not None:
        lines += [
            f"  digitizer:  {DECIDE}: what the input sees and its volts per unit",
            f'    channel: "{names[id(digitizer)]}:1"',
            "    measures: discharge_current",
            "    scale: 0.001",
        ]
    switch = roles.get("switch", [None])[0]
    if switch is not None:
        lines += [
            f"  short: {names[id(switch)]}:101  {DECIDE}: the channel driving the short contactor",
            "  # switch:  fault insertion, e.g.",
            f'  #   cell_5_sense_open: {{channel: "{names[id(switch)]}:102", '
            "action: open_cell_sense, target: 5}",
            f"  # dut_supply: {names[id(switch)]}:103  where a module powers the BMS board: a "
            "relay in its feed, through the NC contact, so the recovery can power-cycle it",
        ]

    pack_max = _pack_max(charger, cell_count)
    lines += [
        "",
        f"limits:  {DECIDE}: the bench's absolute limits; nothing beyond them is ever sent",
        f"  cell_voltage: {{min: 0.0, max: {DEFAULT_CELL_MAX_V}}}",
        f"  pack_voltage: {{min: 0.0, max: {pack_max}}}",
        f"  charge_current: {{max: {_floor(charger, 'current_limit_values', 1.0)}}}",
        f"  discharge_current: {{max: {_load_max(load)}}}",
        f"  cell_current: {{max: {_cell_current(roles)}}}",
        "  temperature: {min: -30.0, max: 80.0}",
        "",
        f"safe_state:  {DECIDE}: the chemistry's nominal cell voltage",
        f"  cell_voltage: {DEFAULT_SAFE_CELL_V}",
        "  cell_current_limit: 1.0",
        "",
    ]
    lines += _dut(result, cell_count)
    return "\n".join(lines) + "\n"


_ROLE_BASE = {
    "power_supply": "charger",
    "electronic_load": "load",
    "cell_emulator": "cellsim",
    "thermistor_emulator": "ntc",
    "digitizer": "scope",
    "switch": "daq",
    "function_generator": "awg",
    "battery_simulator": "battery_sim",
}


def _cells(roles: dict[str, list[Any]], names: dict[int, str]) -> list[str]:
    refs: list[str] = []
    for found in roles.get("cell_emulator", []):
        count = len(found.facts.get("modules") or []) or int(found.facts.get("channels", 1))
        refs += [f"{names[id(found)]}:{ch}" for ch in range(1, count + 1)]
    return refs


def _floor(found: Any, attribute: str, default: float) -> float:
    if found is None:
        return default
    return float(math.floor(_range_max(found.model, attribute, default)))


def _pack_max(charger: Any, cells: int) -> float:
    chemistry_max = DEFAULT_CELL_MAX_V * cells
    if charger is None:
        return chemistry_max
    return round(min(_range_max(charger.model, "voltage_setpoint_values", 60.0), chemistry_max), 1)


def _load_max(load: Any) -> float:
    if load is None:
        return 1.0
    levels = getattr(driver_for(load.model), "LEVELS", {})
    return float(math.floor(levels.get("CC", (0, 1.0))[1]))


def _cell_current(roles: dict[str, list[Any]]) -> float:
    emulators = roles.get("cell_emulator", [])
    if not emulators:
        return 1.0
    return _floor(emulators[0], "current_limit_values", 1.0)


def _dut(result: ScanResult, cell_count: int) -> list[str]:
    bms = result.bms
    if bms is not None:
        return [
            "dut:",
            f"  protocol: {bms['protocol']}  # found answering on {bms['port']}",
            f"  port: {_q(bms['port'])}",
            f"  cell_count: {cell_count}",
        ]
    can = result.can[0] if result.can else None
    lines = [f"dut:  {DECIDE}: no UART BMS answered; name its protocol and link"]
    if can is not None:
        lines += [
            "  protocol: pylontech_can",
            "  can:",
            f"    interface: {can.get('interface')}",
            f"    channel: {_q(str(can.get('channel')))}",
        ]
    else:
        lines += ["  protocol: jbd", "  port: /dev/ttyUSB0"]
    lines.append(f"  cell_count: {cell_count}")
    return lines
