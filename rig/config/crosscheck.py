"""A spec checked against the station it will run on, before anything is driven.

Each file is valid alone; together they can still describe a run that cannot happen: a
threshold search that would step the cells beyond the station's absolute limits would
stop mid-run on a LimitError. That is a configuration mistake, found when the files are
loaded and reported by file, line and field.

The checks are generic over the spec's shape, so new protections and test conditions
are covered without a line here: any `*_v` limit of a `cell_*` protection (widened by
the search margin) must lie within `limits.cell_voltage`, of a `pack_*` protection
within `limits.pack_voltage`; a test current within the station's current limits; every
NTC input under test wired to a thermistor emulator (if the station has any).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from rig.config.errors import ConfigError
from rig.config.loader import field_lines, line_of
from rig.config.spec import TEMPERATURES, DutSpec
from rig.config.station import Range, StationConfig

DEFAULT_SEARCH_MARGIN_V = 0.05  # how far beyond the band a search goes, if the spec is silent


def _limits(node: Any) -> tuple[float, float] | None:
    low, high = getattr(node, "low", None), getattr(node, "high", None)
    if isinstance(low, int | float) and isinstance(high, int | float):
        return float(low), float(high)
    return None


def check_spec_against_station(spec: DutSpec, station: StationConfig) -> None:
    """ConfigError naming the spec's fields whose search would leave the station's limits."""
    problems: list[tuple[str, str]] = []
    tc = spec.test_conditions
    margin = float(getattr(tc, "search_margin_v", DEFAULT_SEARCH_MARGIN_V))
    station_name = station.source or station.name

    def inside(field: str, low: float, high: float, limit: Range, what: str) -> None:
        if low < limit.min or high > limit.max:
            problems.append(
                (
                    field,
                    f"the search spans {low:g}..{high:g} V ({what}), outside the station's "
                    f"{limit.min:g}..{limit.max:g} V ({station_name})",
                )
            )

    protections = spec.protections
    if isinstance(protections, BaseModel):
        for name in type(protections).model_fields:
            protection = getattr(protections, name)
            if not isinstance(protection, BaseModel):
                continue
            for field in type(protection).model_fields:
                band = _limits(getattr(protection, field))
                if band is None or not field.endswith("_v"):
                    continue
                path = f"protections.{name}.{field}"
                low, high = band[0] - margin, band[1] + margin
                what = f"limits ± the {margin:g} V search margin"
                if name.startswith("cell_"):
                    inside(path, low, high, station.limits.cell_voltage, what)
                elif name.startswith("pack_"):
                    inside(path, low, high, station.limits.pack_voltage, what)

    nominal = getattr(tc, "nominal_cell_voltage", None)
    if nominal is not None and not station.limits.cell_voltage.contains(nominal):
        lim = station.limits.cell_voltage
        problems.append(
            (
                "test_conditions.nominal_cell_voltage",
                f"{nominal:g} V is outside the station's cell voltage limits "
                f"{lim.min:g}..{lim.max:g} V ({station_name})",
            )
        )
    for field, limit in (
        ("charge_test_current_a", station.limits.charge_current),
        ("discharge_test_current_a", station.limits.discharge_current),
    ):
        value = getattr(tc, field, None)
        if isinstance(value, int | float) and not limit.contains(value):
            problems.append(
                (
                    f"test_conditions.{field}",
                    f"{value:g} A is outside the station's limit {limit.min:g}..{limit.max:g} A "
                    f"({station_name})",
                )
            )
    soc = getattr(spec, "state_of_charge", None)
    if soc is not None:
        # The charge flows through every emulated cell: the emulators must carry it.
        for field, limit, what in (
            ("state_of_charge.current_a", station.limits.charge_current, "charge current"),
            ("state_of_charge.current_a", station.limits.discharge_current, "discharge current"),
            ("state_of_charge.current_a", station.limits.cell_current, "cell current"),
        ):
            if not limit.contains(soc.current_a):
                problems.append(
                    (
                        field,
                        f"{soc.current_a:g} A is outside the station's {what} limit "
                        f"{limit.min:g}..{limit.max:g} A ({station_name})",
                    )
                )
                break
    balancing = getattr(spec, "balancing", None)
    if balancing is not None:
        top = balancing.start_v.high + 2 * margin + balancing.window_v.high
        for field, level in (("balancing.bleed_at_v", balancing.bleed_at_v), ("balancing", top)):
            if not station.limits.cell_voltage.contains(level):
                lim = station.limits.cell_voltage
                problems.append(
                    (
                        field,
                        f"the plan raises a cell to {level:g} V, outside the station's cell "
                        f"voltage limits {lim.min:g}..{lim.max:g} V ({station_name})",
                    )
                )
    # NTC inputs under test must be wired (a station with none wired: not applicable)
    wired = station.wiring.thermistors
    stated = [n for n in TEMPERATURES if getattr(spec.protections, n, None) is not None]
    if wired and stated:
        unwired = [n for n in spec.ntcs_under_test if n not in wired]
        if unwired:
            problems.append(
                (
                    "test_conditions.ntcs_under_test",
                    f"NTC input(s) {unwired} under test have no thermistor emulator in the "
                    f"station's wiring.thermistors ({station_name})",
                )
            )
    if problems:
        source = spec.source or "<spec>"
        lines = field_lines(source) if spec.source else {}
        raise ConfigError(source, problems, lines={f: line_of(lines, f) for f, _ in problems})


# What each wired role asks of its instrument: (limit field, the model's quantity).
_ROLE_LIMITS = {
    "charger": (("pack_voltage", "voltage_set", "V"), ("charge_current", "current_set", "A")),
    "load": (("discharge_current", "current_set", "A"), ("pack_voltage", "voltage_set", "V")),
    "cells": (("cell_voltage", "voltage_set", "V"), ("cell_current", "current_set", "A")),
}


def check_station_against_models(station: StationConfig) -> None:
    """ConfigError for a limit the wired instrument cannot reach: a station that says the
    charger may go to 80 V on a 60 V supply is wrong about its bench, and its limits would
    not protect anything (the instrument's own range would)."""
    from instruments.registry import driver_for

    wired: dict[str, set[str]] = {"charger": set(), "load": set(), "cells": set()}
    if station.wiring.charger is not None:
        wired["charger"].add(station.wiring.charger.instrument)
    if station.wiring.load is not None:
        wired["load"].add(station.wiring.load.instrument)
    wired["cells"] |= {ref.instrument for ref in station.wiring.cells.values()}
    problems: list[tuple[str, str]] = []
    for role, names in wired.items():
        for name in sorted(names):
            model = station.instruments[name].model
            table = driver_for(model).ACCURACY
            for field, quantity, unit in _ROLE_LIMITS[role]:
                ranges = [e.range_max for e in table.get(quantity, ())]
                if not ranges or max(ranges) == float("inf"):
                    continue  # the model states no range for it
                limit = getattr(station.limits, field).max
                if limit > max(ranges):
                    problems.append(
                        (
                            f"limits.{field}.max",
                            f"{limit:g} {unit} is beyond what {name} ({model}, the {role}) "
                            f"can do: {max(ranges):g} {unit}",
                        )
                    )
    problems += _relay_channel_problems(station)
    if problems:
        source = station.source or "<station>"
        lines = field_lines(source) if station.source else {}
        raise ConfigError(source, problems, lines={f: line_of(lines, f) for f, _ in problems})


def _relay_channel_problems(station: StationConfig) -> list[tuple[str, str]]:
    """The supply relay's channel beyond the channels of the module in its slot (a
    DAQM903A has 20: 101-120): a relay that does not exist carries no supply."""
    from instruments.registry import driver_for

    ref = station.wiring.dut_supply
    if ref is None:
        return []
    inst = station.instruments[ref.instrument]
    slot, n = divmod(ref.channel, 100)
    if not inst.modules or slot > len(inst.modules):
        return []  # the station file's own check names a slot it does not state
    module = inst.modules[slot - 1].strip()
    driver = driver_for(inst.model)
    known = {m.casefold(): c for m, c in getattr(driver, "MODULES", {}).items()}
    count = known.get(module.casefold())
    if count is None:
        return [("wiring.dut_supply", f"{module} (slot {slot}) is no module {inst.model} knows")]
    if module.casefold() in {m.casefold() for m in getattr(driver, "RELAYLESS", ())}:
        return [
            (
                "wiring.dut_supply",
                f"channel {ref.channel}: the {module} in slot {slot} has no relays "
                f"(digital ports, a totalizer, DACs): no supply can be switched through it",
            )
        ]
    if n > count:
        return [
            (
                "wiring.dut_supply",
                f"channel {ref.channel}: the {module} in slot {slot} has channels "
                f"{slot * 100 + 1}-{slot * 100 + count}",
            )
        ]
    return []
