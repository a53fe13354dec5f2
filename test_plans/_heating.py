"""FET and board heating: the BMS at its rated continuous current for the spec's time.

The load draws `heating.current_a` through the discharge path for `duration_s`; a
thermocouple on the FETs' heatsink (`station.thermocouples`, place `fets`, on a DMM
channel) is read every `poll_s`, and so is the load's current. The station is the
evidence:

- `heating_fet_rise`: the heatsink's temperature at the end minus before the current
  started (at rest, the bench's ambient), against the spec's `rise_c`; its budget is both
  readings' accuracy;
- if the load's current stops before the end, the BMS cut the path: that is its FET
  over-temperature (or another protection) acting, and `heating_fet_ot_at` records the
  heatsink's temperature at the cut (bracketed by the polls around it), against the
  spec's `fet_ot_c`, with the BMS's flag where its protocol names `fet_ot`. A run that
  must reach the rated time and cannot is a failed `heating_ran_full_time`;
- where the spec names the BMS's FET sensor (`fet_sensor`: which of its reported
  temperatures), what it reports at the end against the thermocouple
  (`heating_reported_fet_error`, evidence `dut`).

The bench must carry the rated current for the whole time (real cells or a battery
simulator and a load rated for it): where it cannot, the plan is not applicable
(`rig.station.fitness`). On a bench the run takes `duration_s` (an hour by default):
it is marked `long` and its duration is estimated before the run starts.
"""

from __future__ import annotations

import math

from dut_drivers.base import BmsLink, Capability
from dut_drivers.registry import can_report
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.campaign_spec import Heating
from rig.measure import Component, rectangular
from rig.plugin.fixtures import Recorder
from rig.safety import check_limit
from rig.station import Station
from rig.station.fitness import pack_volts
from test_plans._isolation import Competitor, reach
from test_plans._power_path import PowerPath
from test_plans._trip import against

APPROACH_C = 10.0  # this close to the over-temperature band, the heatsink is read ...
FINE_POLL_S = 1.0  # ... every second


def settings(spec: DutSpec) -> Heating:
    if spec.heating is None:
        raise LookupError("the spec has no heating section")
    return spec.heating


def duration_s(spec: DutSpec) -> float:
    h = spec.heating
    return 0.0 if h is None else h.duration_s + 2 * spec.test_conditions.settle_s


def heat_run(station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder) -> None:
    h = settings(spec)
    tc = spec.test_conditions
    lim = station.config.limits.discharge_current
    check_limit(station.load.name, "discharge current", h.current_a, lim.min, lim.max, "A")
    # nothing else may cut the path at the rated current: the lowest discharge level
    rival = spec.protections.discharge_oc1
    if rival is not None:
        guard = station.load.accuracy("current_meas", h.current_a).limit(h.current_a)
        reach(
            "heating",
            +1.0,
            [Competitor("discharge_oc1", rival.threshold_a.low, "its band's low edge")],
            guard,
        ).check(h.current_a, "A")
    probes = station.thermocouples
    if station.config.wiring.cells:
        cell_lim = station.config.limits.cell_current.max
        check_limit("cells", "cell current", h.current_a, 0.0, cell_lim, "A")
        station.cells.set_current_limit(min(cell_lim, h.current_a * 1.2 + 0.1))
    clock.sleep(tc.settle_s)
    before = probes.read("fets")
    path = PowerPath(station, spec, "discharge")
    path.current_a = h.current_a
    path.start(pack_volts(spec))
    samples: list[tuple[float, float, float]] = []  # (t, load A, heatsink °C)
    t0 = clock.now()
    cut_at: tuple[int, int] | None = None  # the polls around the cut
    # near the over-temperature band the heatsink is read every second, so a cut is
    # bracketed by readings a second apart (it cools at once after one)
    near = None if h.fet_ot_c is None else h.fet_ot_c.low - APPROACH_C
    period = h.poll_s
    try:
        while clock.now() - t0 < h.duration_s - 1e-9:
            clock.sleep(min(period, h.duration_s - (clock.now() - t0)))
            hot = probes.read("fets")
            amps = path.read()
            samples.append((clock.now() - t0, amps, hot))
            if path.interrupted(amps):
                cut_at = (len(samples) - 2, len(samples) - 1)
                break
            if near is not None and hot >= near:
                period = min(h.poll_s, FINE_POLL_S)
        status = dut.read_status() if cut_at is not None else None
        temps = list(dut.read_temperatures()) if h.fet_sensor is not None else []
        end_c = probes.read("fets")
    finally:
        path.stop()
    _rise(h, before, samples, end_c, cut_at, record, probes)
    if cut_at is not None:
        _cut(h, samples, cut_at, status, dut, record, probes)
    if h.fet_sensor is not None and Capability.temperatures in dut.capabilities:
        _reported(h, temps, end_c, record, probes)


def _band(probes, celsius: float) -> tuple[float, str]:
    acc = probes.accuracy("fets", celsius)
    return acc.limit(celsius), acc.source


def _rise(h, before, samples, end_c, cut_at, record, probes) -> None:
    hot = samples[cut_at[1]][2] if cut_at is not None else end_c
    value = hot - before if math.isfinite(hot) and math.isfinite(before) else None
    budget: list[Component] = []
    if value is not None:
        for what, c in (("heatsink before", before), ("heatsink at the end", hot)):
            half, source = _band(probes, c)
            budget.append(rectangular(f"thermocouple, {what}", half, source))
    ch = probes.channel_of("fets")
    record(
        "heating_fet_rise",
        value,
        "°C",
        **against(h.rise_c, h.clause),
        budget=budget,
        evidence="instrument",
        instrument=str(ch),
        context={
            "current_a": h.current_a,
            "ran_s": samples[-1][0] if samples else 0.0,
            "heatsink_c": [round(s[2], 3) for s in samples],
            "before_c": before,
        },
        note=f"heatsink {before:.2f} °C before, {hot:.2f} °C "
        + ("at the end" if cut_at is None else "when the path was cut"),
    )
    record.flag(
        "heating_ran_full_time",
        cut_at is None,
        evidence="instrument",
        instrument=str(ch),
        clause=h.clause,
        note="" if cut_at is None else f"the load's current stopped after {samples[-1][0]:g} s",
    )


def _cut(h, samples, cut_at, status, dut, record, probes) -> None:
    """The path was cut: the heatsink's temperature there, bracketed by the polls."""
    if h.fet_ot_c is None:
        return
    before, after = samples[cut_at[0]] if cut_at[0] >= 0 else samples[0], samples[cut_at[1]]
    low, high = sorted((before[2], after[2]))
    value = (low + high) / 2
    half, source = _band(probes, value)
    record(
        "heating_fet_ot_at",
        value,
        "°C",
        **against(h.fet_ot_c, h.clause),
        bracket=(low, high),
        budget=[
            rectangular("the polls around the cut", (high - low) / 2, "measured: two readings"),
            rectangular("thermocouple", half, source),
        ],
        evidence="instrument",
        instrument=str(probes.channel_of("fets")),
        context={"cut_between_s": [before[0], after[0]]},
        note=f"the load's current stopped between {before[0]:g} and {after[0]:g} s",
    )
    if status is not None and can_report(dut.protocol, "fet_ot"):
        named = set(status.protections or ()) | set(status.alarms or ())
        record.flag(
            "heating_fet_ot_reported_flag",
            "fet_ot" in named,
            clause=h.clause,
            note=f"BMS reports: {', '.join(sorted(named)) or 'nothing'}",
        )


def _reported(h, temps, end_c, record, probes) -> None:
    index = h.fet_sensor
    value = temps[index - 1] - end_c if len(temps) >= index and math.isfinite(end_c) else None
    half, source = _band(probes, end_c)
    record(
        "heating_reported_fet_error",
        value,
        "°C",
        **against(h.reported_error_c, h.clause),
        budget=[rectangular("thermocouple", half, source)] if value is not None else [],
        evidence="dut",
        instrument="dut",
        context={"reported_c": temps, "heatsink_c": end_c, "sensor": index},
        note="" if value is not None else f"the BMS reports {len(temps)} temperatures",
    )
