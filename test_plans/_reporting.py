"""Measurement accuracy: what the BMS says it measures, against the station's instruments.

A BMS protects on its own readings: a cell read 30 mV high trips 30 mV early, a current
read 10 % high trips every current protection 10 % early, an NTC read through the wrong
curve protects at the wrong temperature. So each reading is judged on its own
(`evidence: dut`), the error being the BMS's reading minus the station's, with the
uncertainty of the station's side, at every point of a sweep across the range (a gain
error is small at one level and large at the ends), against the spec's `reporting`
limits:

- cell voltages: every emulator channel at each of `levels_v`, position by position,
  against the emulator's read-back;
- pack current: each of `current_levels_a` (+ charging, - discharging), as % of reading
  + offset (`current_error_pct`, `current_error_a`). A level the bench carries flows
  for real through the charger or the load, the reference being that instrument's
  read-back taken before and after the BMS's reading; a level beyond what the bench
  carries is emulated on the BMS's shunt input (`station.shunt`), the reference being
  the generator chain's level. No level may reach a current protection: each stays one
  reference accuracy short of the near edge of charge over-current's or discharge
  over-current's band (`_isolation`), or the plan is an error before anything is sent;
- temperatures: one NTC input at a time at each of `temperature_levels_c` (the others
  at 25 °C), against the line's resistance through the NTC's curve: measured by a DMM
  on the line where the station wires one (`readback:`), else the emulator's echo of
  its setting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dut_drivers.base import BmsLink
from rig.clock import Clock
from rig.config import DutSpec
from rig.measure import Component, Stimulus, rectangular
from rig.plugin.fixtures import Recorder
from rig.safety import check_limit
from rig.station import Station
from rig.station.fitness import reporting_carried
from test_plans._isolation import Competitor, Reach, reach
from test_plans._power_path import PowerPath, open_pack, pack_ceiling


def cell_voltages(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    tc, limit = spec.test_conditions, spec.reporting.cell_voltage_error_v
    cells = station.cells
    levels = spec.reporting.levels_v or [tc.nominal_cell_voltage]
    lim = station.config.limits.cell_voltage
    for level in levels:  # refused before anything is sent
        check_limit("cells", "voltage", level, lim.min, lim.max, "V")
    for level in levels:
        cells.set_all(level)
        clock.sleep(tc.settle_s)
        reported = dut.read_cell_voltages()
        for position in cells.positions:
            readback = cells.measure_voltage(position)
            band = cells.accuracy(position, "voltage_meas", readback)
            ch = cells.channel_of(position)
            record(
                f"cell{position}_reading_error_at_{level:.2f}V",
                reported[position - 1] - readback,
                "V",
                low=limit.low,
                high=limit.high,
                nominal=limit.nominal,
                clause=spec.reporting.clause,
                budget=[
                    rectangular("emulator read-back accuracy", band.limit(readback), band.source)
                ],
                evidence="dut",
                instrument="dut",
                stimulus=Stimulus(
                    "cell_voltage", "V", level, readback, f"{ch.instrument}:{ch.channel}"
                ),
                context={"cell": position, "level_v": level, "reported_v": reported[position - 1]},
            )


@dataclass(frozen=True)
class CurrentPoint:
    """One level of the current sweep and how the bench makes it."""

    level: float  # A, + charging
    emulated: bool  # on the shunt's sense input (else through the charger or the load)

    @property
    def path(self) -> str:
        return "charge" if self.level > 0 else "discharge"


def current_points(station: Station, spec: DutSpec) -> list[CurrentPoint]:
    """Each level real where the bench's path carries it, else emulated; LimitError
    (nothing sent) for one neither way can make."""
    limits = station.config.limits
    points = []
    for level in spec.reporting.current_levels_a:
        path = "charge" if level > 0 else "discharge"
        lim = limits.charge_current if level > 0 else limits.discharge_current
        if reporting_carried(station.config, spec, level) is not None:
            role = station.charger if level > 0 else station.load
            check_limit(role.name, f"{path} current", abs(level), lim.min, lim.max, "A")
            points.append(CurrentPoint(level, False))
        else:
            station.shunt.check(abs(level), path)  # LimitError, or RoleNotFitted: no shunt
            points.append(CurrentPoint(level, True))
    return points


def current_reach(spec: DutSpec, path: str, guard: float) -> Reach:
    """How far a current on `path` may go before a current protection may act: the near
    edge of charge over-current's band (charging) or of the lowest discharge level's."""
    names = (
        ("charge_oc",) if path == "charge" else ("discharge_oc1", "discharge_oc2", "short_circuit")
    )
    rivals = []
    for name in names:
        p = getattr(spec.protections, name)
        if p is not None:
            edge = p.threshold_a.low
            rivals.append(Competitor(name, edge, f"its band begins at {edge:g} A"))
    return reach("reporting", +1.0, rivals, guard)


def _reference_band(station: Station, point: CurrentPoint) -> tuple[float, str, str]:
    """± A of the station's reference at the point, its source and the instrument."""
    amps = abs(point.level)
    if point.emulated:
        band = station.shunt.accuracy(amps, point.path)
        return band.limit(amps), band.source, station.shunt.name
    role = station.charger if point.level > 0 else station.load
    band = role.accuracy("current_meas", amps)
    return band.limit(amps), band.source, role.name


def pack_current(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    """Each level through the charger or the load (the cells at nominal, the charger's
    CV above the pack, so the current is its limit), or emulated on the shunt input."""
    tc = spec.test_conditions
    limits = station.config.limits
    points = current_points(station, spec)
    for point in points:  # before anything is sent: no level may reach a protection
        guard, _, _ = _reference_band(station, point)
        reach_of = current_reach(spec, point.path, guard)
        reach_of.check(abs(point.level), "A")
    real = [abs(p.level) for p in points if not p.emulated]
    wiring = station.config.wiring
    if real:
        largest = max(real)
        if wiring.cells and wiring.pack is None:
            # the emulated cells carry the current: their channels limit it to what the
            # station's safe state allows unless told more (as for a state-of-charge run)
            check_limit("cells", "cell current", largest, 0.0, limits.cell_current.max, "A")
            station.cells.set_current_limit(min(limits.cell_current.max, largest * 1.2 + 0.1))
        open_pack(station, largest * 1.2 + 0.1)  # a battery simulator on the battery terminals
    pack = pack_ceiling(station, spec)
    for point in points:
        if point.emulated:
            _emulated_point(station, dut, clock, spec, record, point)
            continue
        path = PowerPath(station, spec, point.path)  # type: ignore[arg-type]
        path.current_a = abs(point.level)
        role = station.charger if point.level > 0 else station.load
        sign = 1.0 if point.level > 0 else -1.0
        path.start(pack)
        clock.sleep(tc.settle_s)
        before = sign * abs(role.measure_current())
        bms = dut.read_status().current
        after = sign * abs(role.measure_current())
        path.stop()
        station_a = (before + after) / 2
        band = role.accuracy("current_meas", abs(station_a))
        budget: list[Component] = [
            rectangular(f"{role.name} current read-back", band.limit(station_a), band.source),
            rectangular(
                "current drift around the BMS's reading",
                abs(after - before) / 2,
                "measured: half the change between the read-backs before and after it",
            ),
        ]
        _record_current(
            record, spec, point, bms, station_a, budget, role.name,
            {"station_a": [before, after], "how": "real"},
        )  # fmt: skip


def _emulated_point(
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    point: CurrentPoint,
) -> None:
    """The level on the shunt's sense input alone (nothing flows): the BMS measures the
    generator's EMF through the attenuator and its shunt; the reference is that level."""
    shunt = station.shunt
    amps = abs(point.level)
    shunt.set_current_equivalent(amps, point.path)
    try:
        clock.sleep(spec.test_conditions.settle_s)
        bms = dut.read_status().current
    finally:
        shunt.off()
    band = shunt.accuracy(amps, point.path)
    budget = [rectangular(f"{shunt.name} emulated current", band.limit(amps), band.source)]
    _record_current(
        record, spec, point, bms, point.level, budget, shunt.name,
        {"how": "emulated", "volts": shunt.volts(amps, point.path)},
    )  # fmt: skip


def _record_current(
    record: Recorder,
    spec: DutSpec,
    point: CurrentPoint,
    bms: float,
    station_a: float,
    budget: list[Component],
    instrument: str,
    context: dict[str, object],
) -> None:
    rep = spec.reporting
    widen = rep.current_error_pct / 100.0 * abs(station_a)
    limit = rep.current_error_a
    record(
        f"current_reading_error_at_{point.level:+g}A",
        bms - station_a,
        "A",
        low=limit.low - widen,
        high=limit.high + widen,
        nominal=limit.nominal,
        clause=rep.clause,
        budget=budget,
        evidence="dut",
        instrument="dut",
        stimulus=Stimulus("pack_current", "A", point.level, station_a, instrument),
        context={"level_a": point.level, "reported_a": bms, **context,
                 "limit": f"±({rep.current_error_pct:g} % of reading + offset)"},
        note=f"BMS reports {bms:+.4g} A; {instrument} {station_a:+.4g} A",
    )  # fmt: skip


def temperatures(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    tc, rep = spec.test_conditions, spec.reporting
    therm = station.thermistors
    lim = station.config.limits.temperature
    for level in rep.temperature_levels_c:
        check_limit("thermistors", "temperature", level, lim.min, lim.max, "°C")
    ntcs = [n for n in spec.ntcs_under_test if n in therm.positions]
    for ntc in ntcs:
        for level in rep.temperature_levels_c:
            therm.set_all(therm.SAFE_C)
            therm.set_temperature(ntc, level)
            clock.sleep(tc.settle_s)
            reported = dut.read_temperatures()
            ref = therm.reference(ntc)
            value = reported[ntc - 1] - ref.celsius if len(reported) >= ntc else None
            if value is not None and not math.isfinite(value):
                value = None
            record(
                f"ntc{ntc}_reading_error_at_{level:g}C",
                value,
                "°C",
                low=rep.temperature_error_c.low,
                high=rep.temperature_error_c.high,
                nominal=rep.temperature_error_c.nominal,
                clause=rep.clause,
                budget=[rectangular("the line's temperature", ref.band_c, ref.source)],
                evidence="dut",
                instrument="dut",
                stimulus=Stimulus("ntc_temperature", "°C", level, ref.celsius, ref.instrument),
                context={
                    "ntc": ntc,
                    "level_c": level,
                    "reported_c": list(reported),
                    "line_ohms": ref.ohms,
                    "reference": "measured" if ref.measured else "emulator echo",
                },
                note=""
                if value is not None
                else f"the BMS reports {len(reported)} temperatures (NTC {ntc} not among them) "
                f"or the line reads open ({ref.ohms:g} Ω)",
            )
    therm.set_all(therm.SAFE_C)
