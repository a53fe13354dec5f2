"""Every level a plan commands lies inside every instrument it flows through.

The test walks every station file in stations/ and every plan in test_plans/ (their
markers, as pytest collects them), keeps the plans that run on that station (roles
wired, protections stated, `rig.station.fitness` satisfied: what the run's collection
does) and, for each operating point such a plan commands, checks it against the rated
envelope of each instrument in its path, read from the models' own tables
(`instruments.ratings`): the charger (current within its power at that voltage), the
load, every cell emulator channel the current flows through or the battery simulator
behind the BMS, a generator's swing for an emulated current, the digitizer's sample
interval for a capture.

It is checked independently of the capacity sums `fitness` makes: instrument by
instrument. And it fails on the default station as it was before these checks existed
(kept in data/): that bench ran its charge over-current plan at 8.9 A through an
E36234A that gives 3.6 A at 54.8 V and through N6781A channels rated ±3.06 A, and its
short circuit through the same channels.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from instruments.ratings import output, rating
from rig.config import load_spec, load_station
from rig.config.spec import DutSpec
from rig.config.station import StationConfig
from rig.plugin.markers import STATION_ROLES
from rig.station import fitness
from rig.station.fitness import Level

REPO = Path(__file__).resolve().parents[3]
BEFORE = Path(__file__).parent / "data" / "sim-16s-before-issue-17.yaml"
STATIONS = sorted((REPO / "stations").glob("*.yaml"))


def spec_for(station: StationConfig) -> DutSpec:
    name = "jbd-4s-lfp.yaml" if station.dut.cell_count == 4 else "jbd-16s-lfp.yaml"
    return load_spec(REPO / "specs" / name)


@dataclass(frozen=True)
class Plan:
    name: str
    protections: tuple[str, ...]
    needs: frozenset[str]


def plans() -> list[Plan]:
    """Every plan function with its markers (module's, then its own)."""
    found = []
    for path in sorted((REPO / "test_plans").glob("test_*.py")):
        module = importlib.import_module(f"test_plans.{path.stem}")
        module_marks = getattr(module, "pytestmark", [])
        for name, fn in vars(module).items():
            if not name.startswith("test_") or not callable(fn):
                continue
            marks = [*module_marks, *getattr(fn, "pytestmark", [])]
            prots = tuple(str(m.args[0]) for m in marks if m.name == "protection")
            needs = frozenset(str(a) for m in marks if m.name == "needs" for a in m.args)
            found.append(Plan(f"{path.stem}::{name}", prots, needs))
    return found


def runs_on(plan: Plan, station: StationConfig, spec: DutSpec) -> bool:
    """What the run's collection decides (roles, stated protections, fitness)."""
    wired = {
        "cells": bool(station.wiring.cells),
        "thermistors": bool(station.wiring.thermistors),
        "digitizer": station.wiring.digitizer is not None,
        "short": station.wiring.short is not None,
        "switch": bool(station.wiring.switch),
        "shunt": station.wiring.shunt is not None,
        "thermocouples": bool(station.wiring.thermocouples),
    }
    if any(not wired[r] for r in plan.needs & STATION_ROLES):
        return False
    unstated = {
        n for n in type(spec.protections).model_fields if getattr(spec.protections, n) is None
    }
    unstated |= spec.unstated_functions()
    if unstated & set(plan.protections):
        return False
    return fitness.unfit(station, spec, list(plan.protections)) is None


# --- instrument by instrument ------------------------------------------------------------


def _out(station: StationConfig, ref) -> tuple[str, object]:  # type: ignore[no-untyped-def]
    inst = station.instruments[ref.instrument]
    return f"{ref} ({inst.model})", output(inst.model, ref.channel, inst.modules)


def current_violations(station: StationConfig, level: Level) -> list[str]:
    """Each instrument a real current of `level` flows through, where it cannot."""
    bad: list[str] = []
    w, amps, volts = station.wiring, level.amps, level.volts
    p_side = w.charger if level.path == "charge" else w.load
    if p_side is None:
        return [f"{level.what}: no {'charger' if level.path == 'charge' else 'load'}"]
    inst = station.instruments[p_side.instrument]
    load_rating = rating(inst.model).load
    if level.path == "discharge" and load_rating is not None:
        if amps > load_rating.sink_at(volts) + 1e-9 or volts > load_rating.v_max:
            bad.append(
                f"{p_side} ({inst.model}) sinks {load_rating.sink_at(volts):.3g} A at {volts:.3g} V"
            )
    else:
        name, src = _out(station, p_side)
        if src is None:
            bad.append(f"{name}: no rating")
        else:
            cap = src.source_at(volts) if level.path == "charge" else src.sink_at(volts)
            if amps > cap + 1e-9 or volts > src.v_max:
                verb = "sources" if level.path == "charge" else "sinks"
                bad.append(f"{name} {verb} {cap:.3g} A at {volts:.3g} V")
    if w.pack is not None:
        name, src = _out(station, w.pack)
        cap = src.sink_at(volts) if level.path == "charge" else src.source_at(volts)  # type: ignore[union-attr]
        if amps > cap + 1e-9:
            bad.append(f"battery simulator {name} carries {cap:.3g} A at {volts:.3g} V")
    elif w.cells:
        cell_v = volts / len(w.cells)
        for pos, ref in w.cells.items():
            name, src = _out(station, ref)
            cap = src.sink_at(cell_v) if level.path == "charge" else src.source_at(cell_v)  # type: ignore[union-attr]
            if amps > cap + 1e-9:
                bad.append(f"cell {pos}: {name} carries ±{cap:.3g} A")
                break  # the same model on every channel: one line says it
    elif station.module is not None and amps > station.module.max_current_a:
        bad.append(f"the module is rated {station.module.max_current_a:g} A")
    return [f"{level.what} {amps:.3g} A: {b}" for b in bad]


def generator_violations(station: StationConfig, spec: DutSpec, plan: Plan) -> list[str]:
    """An emulated current within the generator's open-circuit swing."""
    sh = station.wiring.shunt
    if sh is None:
        return []
    model = station.instruments[sh.channel.instrument].model
    gen = rating(model).generator
    assert gen is not None
    levels: list[float] = []
    for name in plan.protections:
        stated = getattr(spec.protections, name, None) is not None
        emulated = name in fitness.CURRENT_PROTECTIONS and stated
        if emulated and fitness.current_mode(station, spec, name)[0] == "emulated":
            levels += [lv.amps for lv in fitness.current_levels(spec, name)]
        if name == "short_circuit" and fitness.short_mode(station, spec)[0] == "emulated":
            levels.append(fitness.short_step(spec))
    bad = []
    for amps in levels:
        volts = amps * sh.shunt_ohm * sh.attenuation
        if volts > gen.emf_peak_v:
            bad.append(
                f"emulated {amps:g} A needs {volts:.3g} V of {model}'s ±{gen.emf_peak_v:g} V"
            )
    return bad


def capture_violations(station: StationConfig, spec: DutSpec, plan: Plan) -> list[str]:
    if "short_circuit" not in plan.protections or spec.protections.short_circuit is None:
        return []
    d = station.wiring.digitizer
    assert d is not None
    model = station.instruments[d.channel.instrument].model
    dig = rating(model).digitizer
    assert dig is not None
    mode = fitness.short_mode(station, spec)[0]
    inputs = 2 if mode == "emulated" else 1
    want = spec.test_conditions.capture.sample_interval_s
    if dig.interval_with(inputs) > want * (1 + 1e-9):
        return [f"{model} samples {inputs} input(s) every {dig.interval_with(inputs):g} s"]
    return []


def short_violations(station: StationConfig, spec: DutSpec, plan: Plan) -> list[str]:
    """A real short's current flows through the battery side: it must reach the band."""
    if "short_circuit" not in plan.protections or spec.protections.short_circuit is None:
        return []
    if fitness.short_mode(station, spec)[0] != "relay":
        return []
    level = Level(
        "short-circuit current",
        spec.protections.short_circuit.threshold_a.high,
        fitness.pack_volts(spec),
        "discharge",
    )
    w = station.wiring
    if w.pack is None and not w.cells:
        return []  # a module's own prospective current (checked by fitness)
    return [v for v in current_violations(station, level) if "battery" in v or "cell" in v]


def violations(station: StationConfig, spec: DutSpec, plan: Plan, levels: list[Level]) -> list[str]:
    out: list[str] = []
    for level in levels:
        out += current_violations(station, level)
    out += generator_violations(station, spec, plan)
    out += capture_violations(station, spec, plan)
    out += short_violations(station, spec, plan)
    return out


PLANS = plans()


@pytest.mark.parametrize("path", STATIONS, ids=[p.stem for p in STATIONS])
def test_every_level_of_every_plan_that_runs_lies_inside_every_instrument(path):
    station = load_station(path)
    spec = spec_for(station)
    ran, found = 0, []
    for plan in PLANS:
        if not runs_on(plan, station, spec):
            continue
        ran += 1
        levels = fitness.plan_levels(station, spec, list(plan.protections))
        found += [f"{plan.name}: {v}" for v in violations(station, spec, plan, levels)]
    assert ran > 0
    assert found == []


def test_the_default_station_before_these_checks_fails():
    """Today's default station (before issue 17), every plan run as it ran then: every
    current level for real through its charger, load and emulator channels, the short
    through the same channels."""
    station = load_station(BEFORE)
    spec = spec_for(station)
    found = []
    for plan in PLANS:
        levels = fitness.test_current_levels(spec)
        for name in plan.protections:
            if name in fitness.CURRENT_PROTECTIONS and getattr(spec.protections, name, None):
                levels += fitness.current_levels(spec, name)
            if name == "soc":
                levels += fitness.soc_levels(spec)
            if name == "short_circuit":
                p = spec.protections.short_circuit
                levels.append(
                    Level(
                        "short-circuit current",
                        p.threshold_a.high,
                        fitness.pack_volts(spec),
                        "discharge",
                    )
                )
        found += [f"{plan.name}: {v}" for v in violations(station, spec, plan, levels)]
    text = "\n".join(found)
    assert "test_charge_oc" in text and "(Keysight E36234A) sources 3.65 A at 54.8 V" in text
    assert "(Keysight N6705C) carries ±3.06 A" in text
    assert "short-circuit current 180 A" in text
    assert "discharge_oc2 discharge current 32 A" in text
    assert not any(math.isnan(len(f)) for f in found)
