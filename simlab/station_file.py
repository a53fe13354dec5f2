"""Reading a station YAML from simlab's side of the wire.

simlab stands where the hardware would, so it does not import the rig's config models;
it reads the few keys it needs (instruments, wiring, dut, simlab) with yaml.safe_load and
reports bad content as a ValueError naming the file and the key.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simlab.servers.dut import DUT_SERVERS


@dataclass(frozen=True)
class SimInstrument:
    name: str
    model: str
    serial: str
    modules: list[str] | None


@dataclass
class StationSpec:
    """What simlab must build for one station file."""

    source: str
    instruments: dict[str, SimInstrument]  # only `resource: sim` ones
    charger: tuple[str, int] | None
    load: tuple[str, int] | None
    cells: dict[int, tuple[str, int]]  # position (1-based) → (instrument, channel)
    cell_count: int
    protocol: str
    seed: int | None
    sets: dict[str, object] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)
    thermistors: dict[int, tuple[str, int]] = field(default_factory=dict)  # NTC n → channel
    thermistor_safe_ohms: dict[int, float] = field(default_factory=dict)  # at 25 °C
    digitizer: DigitizerSpec | None = None
    short: tuple[str, int] | None = None
    # a relay in the BMS board's supply feed, through its NC contact: closed, the board
    # is unpowered (`wiring.dut_supply`)
    dut_supply: tuple[str, int] | None = None
    faults: dict[str, FaultSpec] = field(default_factory=dict)
    # The station's safe state (`safe_state:`), so simlab can judge its own outputs and,
    # like an outboard watchdog, put them there itself.
    safe_cell_voltage: float | None = None
    safe_cell_current_limit: float = 1.0
    shunt: ShuntSpec | None = None  # current-sense emulation (`wiring.shunt`)
    # A DMM channel measuring NTC n's line (`wiring.thermistors.<n>.readback`), and
    # thermocouples by where they are attached (`wiring.thermocouples`: fets, ambient).
    ntc_readback: dict[int, tuple[str, int]] = field(default_factory=dict)
    thermocouples: dict[str, tuple[str, int]] = field(default_factory=dict)
    # How the rig reaches the instruments (`simlab.transport`): socket, hislip or serial.
    transport: str = "socket"
    interlock: InterlockSpec | None = None
    pack: tuple[str, int] | None = None  # a battery simulator on the battery terminals
    safe_pack_voltage: float | None = None
    safe_pack_current_limit: float = 5.0
    module: dict[str, float] | None = None  # a real module: cells, capacity, resistance


@dataclass(frozen=True)
class InterlockSpec:
    """The station's interlock loop: which digital input line reads it, and the level
    that line has while the loop is closed (safe)."""

    ref: tuple[str, int]
    line: int  # 0-7
    safe_level: int  # 0 or 1


@dataclass(frozen=True)
class DigitizerSpec:
    ref: tuple[str, int]
    measures: str  # discharge_current | pack_current | pack_voltage | sense_current
    scale: float  # volts at the input per unit
    also: tuple[DigitizerSpec, ...] = ()  # further inputs of the same instrument


@dataclass(frozen=True)
class ShuntSpec:
    """A generator output driving the BMS's shunt sense input through an attenuator."""

    ref: tuple[str, int]
    attenuation: float  # generator EMF per volt at the sense input
    positive: str  # discharge | charge: the current a positive voltage reads as


@dataclass(frozen=True)
class FaultSpec:
    ref: tuple[str, int]
    action: str  # open_cell_sense | short_ntc | open_ntc
    target: int


MEASURABLE = ("discharge_current", "pack_current", "pack_voltage", "sense_current")
FAULT_ACTIONS = ("open_cell_sense", "short_ntc", "open_ntc")
THERMOCOUPLE_PLACES = ("fets", "ambient")


def _positive(source: str, key: str, value: Any, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _err(source, key, f"{what} must be an integer, got {value!r}") from None
    if isinstance(value, bool) or number < 1 or (number != value and str(number) != str(value)):
        raise _err(source, key, f"{what} must be an integer >= 1, got {value!r}")
    return number


def _err(source: str, key: str, msg: str) -> ValueError:
    return ValueError(f"{source}: {key}: {msg}")


def _mapping(source: str, key: str, value: Any, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise _err(source, key, f"expected a mapping, got {value!r}")
    return value


def _ref(
    source: str, key: str, value: Any, sims: dict[str, SimInstrument], all_names: set
) -> tuple[str, int]:
    if not isinstance(value, str) or ":" not in value:
        raise _err(source, key, f'expected "instrument:channel", got {value!r}')
    name, _, ch = value.rpartition(":")
    if name not in all_names:
        raise _err(
            source, key, f"no instrument named {name!r} (have: {', '.join(sorted(all_names))})"
        )
    if name not in sims:
        raise _err(source, key, f"instrument {name!r} is not simulated (resource is not 'sim')")
    try:
        return name, int(ch)
    except ValueError:
        raise _err(source, key, f"channel must be an integer, got {ch!r}") from None


def parse_station(path: str | Path) -> StationSpec:
    """Parse and check a station file; ValueError('<file>: <key>: ...') on bad content."""
    source = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"{source}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None
    doc = _mapping(source, "(top level)", doc)

    instruments = _mapping(source, "instruments", doc.get("instruments"))
    sims: dict[str, SimInstrument] = {}
    for name, inst in instruments.items():
        key = f"instruments.{name}"
        inst = _mapping(source, key, inst)
        model = inst.get("model")
        if not isinstance(model, str) or not model:
            raise _err(source, f"{key}.model", "missing or not a string")
        if inst.get("resource") != "sim":
            continue
        modules = inst.get("modules")
        if modules is not None and not (
            isinstance(modules, list) and all(isinstance(m, str) for m in modules)
        ):
            raise _err(source, f"{key}.modules", f"expected a list of strings, got {modules!r}")
        sims[str(name)] = SimInstrument(str(name), model, str(inst.get("serial", "")), modules)
    names = {str(n) for n in instruments}

    wiring = _mapping(source, "wiring", doc.get("wiring"))
    charger = wiring.get("charger")
    load = wiring.get("load")
    charger_ref = _ref(source, "wiring.charger", charger, sims, names) if charger else None
    load_ref = _ref(source, "wiring.load", load, sims, names) if load else None
    if load_ref is not None and load_ref == charger_ref:
        load_ref = None  # one regenerative source is both: the charger's output sinks
    pack_ref = (
        _ref(source, "wiring.pack", wiring["pack"], sims, names) if wiring.get("pack") else None
    )
    cells: dict[int, tuple[str, int]] = {}
    for pos, ref in _mapping(source, "wiring.cells", wiring.get("cells"), required=False).items():
        key = f"wiring.cells.{pos}"
        try:
            position = int(pos)
        except (TypeError, ValueError):
            raise _err(source, key, "cell position must be an integer") from None
        cells[position] = _ref(source, key, ref, sims, names)

    thermistors: dict[int, tuple[str, int]] = {}
    thermistor_safe: dict[int, float] = {}
    ntc_readback: dict[int, tuple[str, int]] = {}
    for n, ntc in _mapping(
        source, "wiring.thermistors", wiring.get("thermistors"), required=False
    ).items():
        key = f"wiring.thermistors.{n}"
        ntc = _mapping(source, key, ntc)
        number = _positive(source, key, n, "NTC number")
        thermistors[number] = _ref(source, f"{key}.channel", ntc.get("channel"), sims, names)
        ohms = _ohms_at_25(ntc)
        if ohms is not None:
            thermistor_safe[number] = ohms
        if ntc.get("readback") is not None:
            ntc_readback[number] = _ref(source, f"{key}.readback", ntc.get("readback"), sims, names)
    thermocouples: dict[str, tuple[str, int]] = {}
    for place, tc in _mapping(
        source, "wiring.thermocouples", wiring.get("thermocouples"), required=False
    ).items():
        key = f"wiring.thermocouples.{place}"
        if place not in THERMOCOUPLE_PLACES:
            raise _err(source, key, f"one of {THERMOCOUPLE_PLACES}, got {place!r}")
        tc = _mapping(source, key, tc)
        thermocouples[str(place)] = _ref(source, f"{key}.channel", tc.get("channel"), sims, names)
    digitizer = None
    if wiring.get("digitizer") is not None:
        dig = _mapping(source, "wiring.digitizer", wiring.get("digitizer"))
        also = dig.get("also") or []
        if not isinstance(also, list):
            raise _err(source, "wiring.digitizer.also", f"expected a list, got {also!r}")
        more = tuple(
            _probe(source, f"wiring.digitizer.also.{i}", _mapping(source, "", a), sims, names)
            for i, a in enumerate(also)
        )
        first = _probe(source, "wiring.digitizer", dig, sims, names)
        digitizer = DigitizerSpec(first.ref, first.measures, first.scale, more)
    shunt = None
    if wiring.get("shunt") is not None:
        sh = _mapping(source, "wiring.shunt", wiring.get("shunt"))
        att = sh.get("attenuation", 1.0)
        if isinstance(att, bool) or not isinstance(att, int | float) or not att >= 1:
            raise _err(source, "wiring.shunt.attenuation", f"a number >= 1, got {att!r}")
        positive = sh.get("positive", "discharge")
        if positive not in ("discharge", "charge"):
            raise _err(source, "wiring.shunt.positive", f"discharge or charge, got {positive!r}")
        shunt = ShuntSpec(
            _ref(source, "wiring.shunt.channel", sh.get("channel"), sims, names),
            float(att),
            positive,
        )
    short_ref = (
        _ref(source, "wiring.short", wiring.get("short"), sims, names)
        if wiring.get("short")
        else None
    )
    supply_ref = (
        _ref(source, "wiring.dut_supply", wiring.get("dut_supply"), sims, names)
        if wiring.get("dut_supply")
        else None
    )
    faults: dict[str, FaultSpec] = {}
    for name, fault in _mapping(
        source, "wiring.switch", wiring.get("switch"), required=False
    ).items():
        key = f"wiring.switch.{name}"
        fault = _mapping(source, key, fault)
        action = fault.get("action")
        if action not in FAULT_ACTIONS:
            raise _err(source, f"{key}.action", f"one of {FAULT_ACTIONS}, got {action!r}")
        faults[str(name)] = FaultSpec(
            _ref(source, f"{key}.channel", fault.get("channel"), sims, names),
            action,
            _positive(source, f"{key}.target", fault.get("target"), "target"),
        )

    dut = _mapping(source, "dut", doc.get("dut"))
    protocol = dut.get("protocol")
    if protocol not in DUT_SERVERS:
        known = ", ".join(sorted(DUT_SERVERS))
        raise _err(source, "dut.protocol", f"simlab serves {known}; got {protocol!r}")
    count = dut.get("cell_count", max(cells, default=0))
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise _err(source, "dut.cell_count", f"expected a positive integer, got {count!r}")
    for position in cells:
        if not 1 <= position <= count:
            raise _err(source, f"wiring.cells.{position}", f"position outside 1..{count}")
    for name, fault in faults.items():
        if fault.action == "open_cell_sense" and fault.target > count:
            raise _err(source, f"wiring.switch.{name}.target", f"cell outside 1..{count}")
        if fault.action != "open_cell_sense" and fault.target not in thermistors:
            raise _err(source, f"wiring.switch.{name}.target", "no such NTC in wiring.thermistors")
    used: dict[tuple[str, int], str] = {}
    wired = [("wiring.charger", charger_ref), ("wiring.load", load_ref)]
    wired += [(f"wiring.cells.{p}", r) for p, r in cells.items()]
    wired += [(f"wiring.thermistors.{n}.channel", r) for n, r in thermistors.items()]
    wired += [(f"wiring.thermistors.{n}.readback", r) for n, r in ntc_readback.items()]
    wired += [(f"wiring.thermocouples.{k}.channel", r) for k, r in thermocouples.items()]
    if digitizer is not None:
        wired.append(("wiring.digitizer.channel", digitizer.ref))
        wired += [(f"wiring.digitizer.also.{i}", d.ref) for i, d in enumerate(digitizer.also)]
    if shunt is not None:
        wired.append(("wiring.shunt.channel", shunt.ref))
    wired.append(("wiring.pack", pack_ref))
    wired.append(("wiring.short", short_ref))
    wired.append(("wiring.dut_supply", supply_ref))
    wired += [(f"wiring.switch.{n}.channel", f.ref) for n, f in faults.items()]
    for key, ref in wired:
        if ref is None:
            continue
        if ref in used:
            raise _err(source, key, f"{ref[0]}:{ref[1]} is already wired to {used[ref]}")
        used[ref] = key

    sim = _mapping(source, "simlab", doc.get("simlab"), required=False)
    seed = sim.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise _err(source, "simlab.seed", f"expected an integer, got {seed!r}")
    sets = _mapping(source, "simlab.set", sim.get("set"), required=False)
    defects = sim.get("defects") or []
    if not isinstance(defects, list) or not all(isinstance(d, str) for d in defects):
        raise _err(source, "simlab.defects", f"expected a list of spec strings, got {defects!r}")
    transport = sim.get("transport", "socket")
    if transport not in ("socket", "hislip", "serial"):
        raise _err(source, "simlab.transport", f"socket, hislip or serial; got {transport!r}")
    interlock = _interlock(source, doc.get("interlock"), sims, names)
    if interlock is not None and interlock.ref in used:
        raise _err(source, "interlock.input", f"already wired to {used[interlock.ref]}")
    safe = _mapping(source, "safe_state", doc.get("safe_state"), required=False)
    safe_v = _number(source, "safe_state.cell_voltage", safe.get("cell_voltage"))
    safe_a = _number(source, "safe_state.cell_current_limit", safe.get("cell_current_limit"))
    pack_v = _number(source, "safe_state.pack_voltage", safe.get("pack_voltage"))
    if pack_v is None and safe_v is not None:
        pack_v = safe_v * count
    pack_a = _number(source, "safe_state.pack_current_limit", safe.get("pack_current_limit"))
    module = None
    if doc.get("module") is not None:
        mod = _mapping(source, "module", doc.get("module"))
        module = {
            k: _number(source, f"module.{k}", mod.get(k)) or 0.0
            for k in ("cells", "capacity_ah", "resistance_ohm", "max_current_a")
        }
    return StationSpec(
        source=source,
        instruments=sims,
        charger=charger_ref,
        load=load_ref,
        cells=cells,
        cell_count=count,
        protocol=protocol,
        seed=seed,
        sets={str(k): v for k, v in sets.items()},
        defects=list(defects),
        thermistors=thermistors,
        thermistor_safe_ohms=thermistor_safe,
        digitizer=digitizer,
        short=short_ref,
        dut_supply=supply_ref,
        faults=faults,
        safe_cell_voltage=safe_v,
        safe_cell_current_limit=1.0 if safe_a is None else safe_a,
        shunt=shunt,
        transport=transport,
        interlock=interlock,
        pack=pack_ref,
        safe_pack_voltage=pack_v,
        safe_pack_current_limit=5.0 if pack_a is None else pack_a,
        module=module,
        ntc_readback=ntc_readback,
        thermocouples=thermocouples,
    )


def _probe(
    source: str, key: str, dig: dict[str, Any], sims: dict[str, SimInstrument], names: set
) -> DigitizerSpec:
    """One digitizer input: its channel, what it measures, volts per unit there."""
    measures = dig.get("measures")
    if measures not in MEASURABLE:
        raise _err(source, f"{key}.measures", f"one of {MEASURABLE}, got {measures!r}")
    scale = dig.get("scale")
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
        raise _err(source, f"{key}.scale", f"a number > 0, got {scale!r}")
    return DigitizerSpec(
        _ref(source, f"{key}.channel", dig.get("channel"), sims, names), measures, float(scale)
    )


def _interlock(
    source: str, value: Any, sims: dict[str, SimInstrument], names: set
) -> InterlockSpec | None:
    if value is None:
        return None
    section = _mapping(source, "interlock", value)
    ref = _ref(source, "interlock.input", section.get("input"), sims, names)
    line = section.get("line", 0)
    if isinstance(line, bool) or not isinstance(line, int) or not 0 <= line <= 7:
        raise _err(source, "interlock.line", f"a line number 0-7, got {line!r}")
    level = section.get("safe_level", 1)
    if isinstance(level, bool) or level not in (0, 1):
        raise _err(source, "interlock.safe_level", f"0 or 1, got {level!r}")
    return InterlockSpec(ref, line, level)


def _number(source: str, key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _err(source, key, f"expected a number >= 0, got {value!r}")
    return float(value)


def _ohms_at_25(ntc: dict[str, Any]) -> float | None:
    """The thermistor's resistance at 25 °C (its safe state): `r25_ohm`, or its R-T
    table interpolated in ln R against 1/T (the rig checks the curve itself)."""
    r25 = ntc.get("r25_ohm")
    if isinstance(r25, int | float) and r25 > 0:
        return float(r25)
    table = ntc.get("table")
    try:
        points = sorted((float(t), float(r)) for t, r in table)
    except (TypeError, ValueError):
        return None
    x = 1 / (25.0 + 273.15)
    for (t0, r0), (t1, r1) in itertools.pairwise(points):
        if t0 <= 25.0 <= t1 and r0 > 0 and r1 > 0:
            x0, x1 = 1 / (t0 + 273.15), 1 / (t1 + 273.15)
            return math.exp(math.log(r0) + (math.log(r1) - math.log(r0)) * (x - x0) / (x1 - x0))
    return None
