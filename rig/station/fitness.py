"""Can this bench carry what a plan will command? Decided from the files, before the run.

A plan commands levels (a charge current of 8.9 A at 54.8 V, a 180 A short pulse, a
capture at 1 µs); each level flows through instruments (the charger, the cells or the
battery simulator behind the BMS, the load) that have rated envelopes
(`instruments.ratings`). A plan whose levels no path of the station can carry is not
applicable there, with the reason, listed up front: never an error after the plans
before it have run.

Current protections are stimulated one of two ways, and this module picks the one a
station can serve (the plans ask it too, so what is checked is what is commanded):

- **real**: the charger or the load drives the level through the FETs; every instrument
  in the path must carry it (the charger within its limit and power, the battery side
  sinking or sourcing it: emulator channels, a battery simulator, a module);
- **emulated**: a generator into the BMS's shunt sense input (`wiring.shunt`) makes the
  BMS see the level while the charger or load drives only the small test current.

The short circuit: a short relay across a path whose prospective current reaches the
level, with a digitizer fast enough; or a generator's pulse, with a digitizer recording
the sense input and the load current together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from instruments.ratings import SourceRating, output, rating
from rig.config.spec import DutSpec
from rig.config.station import StationConfig

CURRENT_PROTECTIONS = ("charge_oc", "discharge_oc1", "discharge_oc2")
SHORT_STEP_FACTOR = 1.5  # the trip-time step: this far beyond the short's band
# An emulated short's edge must be this small a part of the shortest acceptable delay:
# the front end times from the edge's crossing, a slow edge would shift it.
EDGE_OF_DELAY = 0.01


@dataclass(frozen=True)
class Level:
    """One operating point a plan commands: `amps` on `path` with the pack at `volts`."""

    what: str
    amps: float
    volts: float
    path: str  # charge | discharge


@dataclass(frozen=True)
class Capacity:
    """What a path carries at a voltage, and the instrument (or limit) that bounds it."""

    amps: float
    bound: str


def pack_volts(spec: DutSpec) -> float:
    """The pack at its nominal cells: where the current plans drive their levels."""
    return spec.dut.cell_count * spec.test_conditions.nominal_cell_voltage


def charge_volts(spec: DutSpec) -> float:
    """The charger's output while a charge current is the stimulus (its CV above the pack)."""
    return pack_volts(spec) + spec.test_conditions.current.charge_headroom_v


# --- the levels a plan commands ------------------------------------------------------


def delay_level(spec: DutSpec, protection: str) -> float:
    """The step of a current protection's delay: clearly beyond its band, and below the
    next level's band where there is one (discharge level 1 below level 2)."""
    margin = spec.test_conditions.current.search_margin_a
    p = getattr(spec.protections, protection)
    level = p.threshold_a.high + margin
    above = spec.protections.discharge_oc2 if protection == "discharge_oc1" else None
    if above is not None:
        level = (level + above.threshold_a.low - margin) / 2
    return level


def search_span(spec: DutSpec, protection: str) -> tuple[float, float]:
    """The threshold search's span: the band widened by the search margin."""
    margin = spec.test_conditions.current.search_margin_a
    p = getattr(spec.protections, protection)
    return p.threshold_a.low - margin, p.threshold_a.high + margin


def short_step(spec: DutSpec) -> float:
    """The emulated short's step for the trip time: clearly beyond the band."""
    p = spec.protections.short_circuit
    assert p is not None
    return SHORT_STEP_FACTOR * p.threshold_a.high


def current_levels(spec: DutSpec, protection: str) -> list[Level]:
    """Every level a current protection's plans command (search span, delay step)."""
    path = "charge" if protection == "charge_oc" else "discharge"
    volts = charge_volts(spec) if path == "charge" else pack_volts(spec)
    low, high = search_span(spec, protection)
    step = delay_level(spec, protection)
    what = f"{protection} {path} current"
    return [Level(what, a, volts, path) for a in (low, high, step)]


def test_current_levels(spec: DutSpec) -> list[Level]:
    """The small currents every trip is seen by (and the state-of-charge current)."""
    tc = spec.test_conditions
    out = [
        Level("charge test current", tc.charge_test_current_a, charge_volts(spec), "charge"),
        Level("discharge test current", tc.discharge_test_current_a, pack_volts(spec), "discharge"),
    ]
    return out


def soc_levels(spec: DutSpec) -> list[Level]:
    soc = spec.state_of_charge
    if soc is None:
        return []
    return [
        Level("state-of-charge charge current", soc.current_a, charge_volts(spec), "charge"),
        Level("state-of-charge discharge current", soc.current_a, pack_volts(spec), "discharge"),
    ]


# --- what the station's paths carry --------------------------------------------------


def _source(station: StationConfig, ref: Any) -> SourceRating | None:
    inst = station.instruments[ref.instrument]
    return output(inst.model, ref.channel, inst.modules)


def battery_side(station: StationConfig, path: str, volts: float) -> Capacity:
    """What the battery side sinks (charge) or sources (discharge): a battery simulator,
    the emulator string (its weakest channel and `limits.cell_current`), or a module."""
    w = station.wiring
    if w.pack is not None:
        r = _source(station, w.pack)
        name = f"{w.pack.instrument} ({station.instruments[w.pack.instrument].model})"
        if r is None:
            return Capacity(0.0, f"{name}: no rating for output {w.pack.channel}")
        amps = r.sink_at(volts) if path == "charge" else r.source_at(volts)
        lim = station.limits.pack_current
        if lim is not None and lim.max < amps:
            return Capacity(lim.max, f"limits.pack_current ({lim.max:g} A)")
        return Capacity(amps, name)
    if w.cells:
        worst = Capacity(math.inf, "")
        for pos, ref in w.cells.items():
            r = _source(station, ref)
            inst = station.instruments[ref.instrument]
            if r is None:
                return Capacity(0.0, f"cell {pos}: {inst.model} output {ref.channel} unrated")
            cell_v = volts / len(w.cells)
            amps = r.sink_at(cell_v) if path == "charge" else r.source_at(cell_v)
            if amps < worst.amps:
                worst = Capacity(amps, f"the cell emulators ({inst.model}, {amps:g} A)")
        lim = station.limits.cell_current.max
        if lim < worst.amps:
            worst = Capacity(lim, f"limits.cell_current ({lim:g} A)")
        return worst
    if station.module is not None:
        return Capacity(station.module.max_current_a, "the module's rated current")
    return Capacity(0.0, "nothing wired on the battery side")


def p_side(station: StationConfig, path: str, volts: float) -> Capacity:
    """What the charger sources (charge) or the load sinks (discharge) at `volts`, within
    the station's limits."""
    w = station.wiring
    ref = w.charger if path == "charge" else w.load
    if ref is None:
        return Capacity(0.0, f"no {'charger' if path == 'charge' else 'load'} wired")
    inst = station.instruments[ref.instrument]
    name = f"{ref.instrument} ({inst.model})"
    r = rating(inst.model)
    if path == "charge":
        src = output(inst.model, ref.channel, inst.modules)
        amps = src.source_at(volts) if src is not None else 0.0
        lim = station.limits.charge_current.max
    elif r.load is not None:
        amps, lim = r.load.sink_at(volts), station.limits.discharge_current.max
    else:  # a regenerative source used as the load
        src = output(inst.model, ref.channel, inst.modules)
        amps = src.sink_at(volts) if src is not None else 0.0
        lim = station.limits.discharge_current.max
    if lim < amps:
        return Capacity(lim, f"limits.{path}_current ({lim:g} A)")
    return Capacity(amps, f"{name} at {volts:.3g} V")


def real_capacity(station: StationConfig, path: str, volts: float) -> Capacity:
    """The current a real path carries: the smaller of the P side and the battery side."""
    a, b = p_side(station, path, volts), battery_side(station, path, volts)
    return a if a.amps <= b.amps else b


def emulated_capacity(station: StationConfig) -> Capacity:
    """The largest current the generator on the shunt input can make the BMS see."""
    sh = station.wiring.shunt
    if sh is None:
        return Capacity(0.0, "no current-sense emulation wired (wiring.shunt)")
    model = station.instruments[sh.channel.instrument].model
    gen = rating(model).generator
    if gen is None:
        return Capacity(0.0, f"{model} is not a generator")
    amps = gen.emf_peak_v / (sh.shunt_ohm * sh.attenuation)
    lim = station.limits.emulated_current
    if lim is not None and lim.max < amps:
        return Capacity(lim.max, f"limits.emulated_current ({lim.max:g} A)")
    return Capacity(amps, f"{sh.channel.instrument} ({model}): ±{gen.emf_peak_v:g} V")


# --- decisions ---------------------------------------------------------------------------


def carries(station: StationConfig, levels: list[Level]) -> str | None:
    """Why the real paths cannot carry `levels` (None: they can): the largest level each
    path cannot carry."""
    for level in sorted(levels, key=lambda lv: -lv.amps):
        cap = real_capacity(station, level.path, level.volts)
        if level.amps > cap.amps + 1e-9:
            return (
                f"{level.what} {level.amps:g} A at {level.volts:.3g} V: the {level.path} path "
                f"carries {cap.amps:.3g} A ({cap.bound})"
            )
    return None


def current_mode(station: StationConfig, spec: DutSpec, protection: str) -> tuple[str, str]:
    """("real" | "emulated" | "", why): how this station stimulates a current protection."""
    levels = current_levels(spec, protection)
    why_real = carries(station, levels)
    if why_real is None:
        return "real", ""
    top = max(lv.amps for lv in levels)
    cap = emulated_capacity(station)
    if station.wiring.shunt is not None and top <= cap.amps:
        why_test = carries(station, test_current_levels(spec))
        if why_test is None:
            return "emulated", ""
        return "", why_test
    why_emulated = (
        f"; current-sense emulation reaches {cap.amps:.3g} A ({cap.bound})"
        if station.wiring.shunt is not None
        else "; no current-sense emulation is wired"
    )
    return "", why_real + why_emulated


def _capture_fits(station: StationConfig, spec: DutSpec, inputs: int) -> str | None:
    d = station.wiring.digitizer
    if d is None:
        return "no digitizer wired"
    model = station.instruments[d.channel.instrument].model
    dig = rating(model).digitizer
    want = spec.test_conditions.capture.sample_interval_s
    if dig is None:
        return f"{model} states no digitizer rating"
    best = dig.interval_with(inputs)
    if best > want * (1 + 1e-9):
        what = "one input" if inputs == 1 else f"{inputs} inputs at once"
        return (
            f"the digitizer {d.channel.instrument} ({model}) samples {what} every "
            f"{best:g} s at best; the capture needs {want:g} s"
        )
    return None


def short_mode(station: StationConfig, spec: DutSpec) -> tuple[str, str]:
    """("relay" | "emulated" | "", why): how this station stimulates the short circuit."""
    p = spec.protections.short_circuit
    if p is None:
        return "", "the spec states no short circuit"
    w = station.wiring
    reasons: list[str] = []
    if w.shunt is not None:
        cap = emulated_capacity(station)
        need = short_step(spec)
        d = w.digitizer
        gen = rating(station.instruments[w.shunt.channel.instrument].model).generator
        fast = EDGE_OF_DELAY * p.delay_s.low
        quantities = {d.measures, *(x.measures for x in d.also)} if d is not None else set()
        if need > cap.amps:
            reasons.append(
                f"current-sense emulation reaches {cap.amps:.3g} A, the step needs {need:g} A"
            )
        elif gen is None or gen.edge_min_s > fast:
            edge = "no edge rating" if gen is None else f"its fastest edge is {gen.edge_min_s:g} s"
            reasons.append(f"the generator's step must rise within {fast:g} s; {edge}")
        elif not {"sense_current", "discharge_current"} <= quantities:
            reasons.append("the digitizer must record sense_current and discharge_current")
        else:
            why = _capture_fits(station, spec, 2) or carries(station, test_current_levels(spec))
            if why is None:
                return "emulated", ""
            reasons.append(why)
    if w.short is not None:
        volts = pack_volts(spec)
        cap = battery_side(station, "discharge", volts)
        if station.module is not None and w.pack is None and not w.cells:
            amps = volts / station.module.resistance_ohm  # its internal resistance alone
            cap = Capacity(amps, f"the module's prospective current ({amps:.3g} A)")
        d = w.digitizer
        relay: list[str] = []
        if p.threshold_a.high > cap.amps:
            relay.append(
                f"a short across the pack reaches {cap.amps:.3g} A ({cap.bound}), below the "
                f"short-circuit band's top {p.threshold_a.high:g} A"
            )
        if d is None or d.measures == "pack_voltage":
            relay.append("the digitizer must record the pack current")
        else:
            why = _capture_fits(station, spec, 1)
            if why is not None:
                relay.append(why)
        if not relay:
            return "relay", ""
        reasons += relay
    if not reasons:
        return "", "no short relay (wiring.short) and no current-sense emulation (wiring.shunt)"
    return "", "; ".join(reasons)


def unfit(station: StationConfig, spec: DutSpec, protections: list[str]) -> str | None:
    """Why a plan of these protections cannot run on this station (None: it can)."""
    why = carries(station, test_current_levels(spec))
    if why is not None:
        return why
    for name in protections:
        if name in CURRENT_PROTECTIONS and getattr(spec.protections, name, None) is not None:
            mode, why = current_mode(station, spec, name)
            if not mode:
                return why
        elif name == "short_circuit" and spec.protections.short_circuit is not None:
            mode, why = short_mode(station, spec)
            if not mode:
                return why
        elif name == "soc":
            why = carries(station, soc_levels(spec))
            if why is not None:
                return why
        elif name == "heating" and spec.heating is not None:
            why = carries(station, heating_levels(spec))
            if why is not None:
                return why
        elif name == "current_reporting" and spec.reporting is not None:
            why = reporting_current_unfit(station, spec)
            if why is not None:
                return why
    return None


def reporting_carried(station: StationConfig, spec: DutSpec, level: float) -> Capacity | None:
    """The real path's capacity where it carries the reporting plan's `level` (+ charging)
    within the station's limit, None where the level must be emulated on the shunt's
    sense input: the one decision test_plans/_reporting.py commands and this checks."""
    path = "charge" if level > 0 else "discharge"
    lim = station.limits.charge_current if level > 0 else station.limits.discharge_current
    carried = real_capacity(station, path, pack_volts(spec))
    return carried if abs(level) <= min(carried.amps, lim.max) else None


def reporting_current_unfit(station: StationConfig, spec: DutSpec) -> str | None:
    """Why the reporting plan's pack currents cannot all be made here (None: they can):
    each level real where a path carries it, else emulated on the shunt's sense input."""
    emulated = emulated_capacity(station)
    for level in spec.reporting.current_levels_a:
        if reporting_carried(station, spec, level) is not None:
            continue
        if station.wiring.shunt is not None and abs(level) <= emulated.amps + 1e-9:
            continue
        path = "charge" if level > 0 else "discharge"
        carried = real_capacity(station, path, pack_volts(spec))
        return (
            f"reporting current {level:g} A: the {path} path carries {carried.amps:.3g} A "
            f"({carried.bound}) and "
            + (
                f"current-sense emulation reaches {emulated.amps:.3g} A ({emulated.bound})"
                if station.wiring.shunt is not None
                else "no current-sense emulation is wired (wiring.shunt)"
            )
        )
    return None


def heating_levels(spec: DutSpec) -> list[Level]:
    """The heat run's rated current through the discharge path, for its whole time."""
    h = spec.heating
    if h is None:
        return []
    return [Level("heating (rated continuous) current", h.current_a, pack_volts(spec), "discharge")]


def plan_levels(station: StationConfig, spec: DutSpec, protections: list[str]) -> list[Level]:
    """The real operating points a plan of these protections commands on this station
    (what the envelope test checks): the test currents always, a current protection's
    levels where it is stimulated for real, the state-of-charge currents."""
    levels = test_current_levels(spec)
    for name in protections:
        if name in CURRENT_PROTECTIONS and getattr(spec.protections, name, None) is not None:
            if current_mode(station, spec, name)[0] == "real":
                levels += current_levels(spec, name)
        elif name == "soc":
            levels += soc_levels(spec)
        elif name == "heating":
            levels += heating_levels(spec)
    return levels
