"""Short circuit on a current-sense emulation bench: a generator's step into the shunt
input, the load's test current as the trip's evidence, both in one capture.

A bench of cell emulators cannot carry a short circuit's kiloamperes; it can make the
BMS *see* one. The generator (`station.shunt`) steps the voltage on the shunt's sense
leads to a current clearly beyond the short-circuit band in its fastest edge (8.4 ns on
a 33522B), as a real short's rising current would reach the front end's comparator,
while the load keeps its small test current flowing through the FETs. The digitizer
records the sense input (what the BMS measures) and a current probe on the load lead in
one acquisition, triggered on the sense input crossing the spec's level:

- the trip time runs from the sense input crossing the level to the load's current
  falling below the trip fraction of the test current (the FET opening), each crossing
  found in its record's samples, so the bracket and the resolution are the sample
  interval's, as for a real short (`rig.measure.capture`);
- there is no real peak current: the FETs carry only the test current. The peak a short
  on this pack would reach is a property of a real short path, measured on a bench that
  has one.

Then the BMS's own report and the recovery rule on the load's current, as for a real
short.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from dut_drivers.base import BmsLink
from rig.clock import Clock
from rig.config import DutSpec
from rig.measure import Component, rectangular
from rig.measure import Stimulus as StimulusRecord
from rig.measure.budget import capture_budget
from rig.measure.capture import CaptureResult, find_edge
from rig.plugin.fixtures import Recorder
from rig.results.waveform import Level, Marker, Series, Waveform
from rig.station import Station
from rig.station.fitness import pack_volts, short_step
from test_plans import _current, _trip
from test_plans._power_path import PowerPath
from test_plans._trip import Side, against

GIVE_UP_S = 0.05  # after the record should have completed: no trigger came
PROBE = "discharge_current"


def short_circuit(
    side: Side, station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    p = side.spec(spec)
    digitizer, shunt = station.digitizer, station.shunt
    path = PowerPath(station, spec, "discharge")
    stim = _current.CurrentStimulus(station, spec, side, clock)  # the load, for recovery
    step = short_step(spec)
    level = p.threshold_a.nominal
    context: dict[str, object] = {
        "path": "discharge",
        "digitizer": digitizer.name,
        "stimulus": "current-sense emulation",
        "step_a": step,
        "edge_s": shunt.edge_s,
    }
    shunt.check(step, "discharge")
    path.start(pack_volts(spec))
    if not _trip.baseline_flows(path, record, side, p, context, "trip_time", "A"):
        return
    result, t_pulse = _capture(station, clock, spec, level, step, path.current_a)
    sense, probe = result
    budget = _budget(station, sense, probe, level, path.trip_below_a, 4 * path.current_a)
    note = ""
    if sense is None or not sense.triggered:
        note = f"the sense input never reached {level:g} A after the {step:g} A step"
    elif not sense.tripped:
        note = (
            f"the load's current still flowed at the end of the record "
            f"({sense.times_s[-1] * 1e3:.3g} ms after the trigger): not interrupted"
        )
    wf = _waveform(sense, probe, level, path.trip_below_a, digitizer.name, step, shunt.shunt_ohm)
    wf_path = record.waveform(wf) if sense is not None and sense.triggered else None
    # read back: the step as the sense input showed it (the record's plateau, + discharge)
    seen = None
    if sense is not None and sense.start is not None:
        seen = float(-np.median(sense.values[sense.start.index + 2 :]))
    stimulus = StimulusRecord("emulated_short_current", "A", step, seen, shunt.name)
    record(
        "short_circuit_trip_time",
        sense.time_s if sense is not None else None,
        "s",
        **against(p.delay_s, p.clause),
        bracket=sense.bracket if sense is not None else None,
        resolution=sense.sample_interval_s if sense is not None else None,
        budget=budget,
        evidence="instrument",
        instrument=digitizer.name,
        stimulus=stimulus,
        waveform=wf_path,
        context={
            **context,
            "level_a": level,
            "end_level_a": path.trip_below_a,
            "sample_interval_s": sense.sample_interval_s if sense is not None else None,
            "t_pulse": t_pulse,
        },
        note=note
        or f"from the sense input crossing {level:g} A to the load current falling "
        f"below {path.trip_below_a:g} A, from the capture",
    )
    _trip.dut_report(side, dut, clock, spec, p, record, context)
    path.start(pack_volts(spec))
    instant = (sense.t_apply, sense.t_done) if sense is not None and sense.triggered else None
    _current.recovery(side, stim, path, clock, spec, record, None, context, instant)


def _capture(
    station: Station, clock: Clock, spec: DutSpec, level: float, step: float, rest_a: float
) -> tuple[tuple[CaptureResult | None, np.ndarray | None], float]:
    """Arm on the sense input, fire the step, fetch both records; the sense record's end
    edge is the load current's fall (same acquisition, same times)."""
    cap = spec.test_conditions.capture
    digitizer, shunt = station.digitizer, station.shunt
    end_level = spec.test_conditions.trip_current_fraction * rest_a
    # the sense input reads + charging: a discharge step falls through -level
    settings = digitizer.arm(
        -level,
        rising=False,
        sample_interval_s=cap.sample_interval_s,
        points=cap.points,
        pretrigger_points=cap.pretrigger_points,
        full_scale=2 * step,
        also={PROBE: 4 * rest_a},
    )
    dt = settings.sample_interval_s
    clock.sleep(settings.pretrigger_points * dt)
    t_apply = clock.now()
    width = settings.points * dt  # the emulated short outlasts the record
    shunt.pulse(step, width, "discharge")
    t_applied = clock.now()
    clock.sleep((settings.points - settings.pretrigger_points) * dt)
    complete = digitizer.complete()
    while not complete and clock.now() - t_applied < GIVE_UP_S:
        clock.sleep(GIVE_UP_S / 10)
        complete = digitizer.complete()
    t_done = clock.now()
    if not complete:
        digitizer.abort()
        return (
            CaptureResult(False, False, -level, end_level, False, dt, t_apply, t_applied, t_done),
            None,
        ), t_apply
    sense = digitizer.fetch()
    load = digitizer.fetch(quantity=PROBE)
    times = np.asarray(sense.times_s, dtype=float)
    values = np.asarray(sense.values, dtype=float)
    start = find_edge(times, values, -level, rising=False)
    end = None
    if start is not None:
        end = find_edge(times, np.asarray(load.values, dtype=float), end_level, False, start.index)
    result = CaptureResult(
        True,
        end is not None,
        -level,
        end_level,
        False,
        float(sense.sample_interval_s),
        t_apply,
        t_applied,
        t_done,
        times,
        values,
        start,
        end,
    )
    return (result, np.asarray(load.values, dtype=float)), t_apply


def _budget(
    station: Station,
    sense: CaptureResult | None,
    probe: np.ndarray | None,
    level: float,
    end_level: float,
    probe_full_scale: float,
) -> list[Component]:
    """Each crossing to one sample; the timebase; and at each crossing its own channel's
    level accuracy and half code, through that record's slope there (the start on the
    sense input, the end on the load's probe: independent channels)."""
    if sense is None or probe is None or sense.start is None or sense.end is None:
        return []
    digitizer = station.digitizer
    budget = capture_budget(sense, digitizer.accuracy("timebase"), None)
    budget = [c for c in budget if "quantisation" not in c.name]
    probe_scale = digitizer.also[PROBE].scale
    gain_sense = digitizer.driver.accuracy("voltage_meas", digitizer.settings.full_scale_v)
    gain_probe = digitizer.driver.accuracy("voltage_meas", probe_full_scale * probe_scale)
    for edge, band, values, what in (
        (
            sense.start,
            gain_sense.limit(level * digitizer.scale) / digitizer.scale,
            sense.values,
            "sense input",
        ),
        (sense.end, gain_probe.limit(end_level * probe_scale) / probe_scale, probe, "load probe"),
    ):
        if not edge.slope or not math.isfinite(edge.slope):
            continue
        code = dataclasses.replace(sense, values=np.asarray(values, dtype=float)).code_step
        shift = (band + code / 2) / abs(edge.slope)
        budget.append(
            rectangular(
                f"{what}: level accuracy and half a code / slope",
                shift,
                f"±{band:.4g} A and a {code:.4g} A code at {edge.slope:.4g} A/s",
            )
        )
    return budget


def _waveform(
    sense: CaptureResult | None,
    probe: np.ndarray | None,
    level: float,
    end_level: float,
    digitizer: str,
    step: float,
    shunt_ohm: float,
) -> Waveform:
    """Both records against time from the trigger, each in its own panel: the sense
    input as the voltage the BMS's shunt input sees (positive discharging) and the load's
    current; the crossings marked."""
    if sense is None or probe is None:
        return Waveform("short_circuit_trip_time", "time from trigger", "s", [])
    mv = shunt_ohm * 1e3  # millivolts at the shunt's sense input per ampere
    markers = [Marker(0.0, "trigger")]
    if sense.start is not None:
        markers.append(Marker(sense.start.t_after, "sense input crossed the level"))
    if sense.end is not None:
        markers.append(Marker(sense.end.t_after, "load current stopped (trip)"))
    return Waveform(
        name="short_circuit_trip_time",
        x_label="time from trigger",
        x_unit="s",
        x=[round(float(t), 12) for t in sense.times_s],
        series=[
            Series(
                "shunt sense input", "mV", [-mv * float(v) for v in sense.values], role="stimulus"
            ),
            Series("load current", "A", [float(v) for v in probe]),
        ],
        markers=markers,
        levels=[
            Level(level * mv, "mV", f"short-circuit level ({level:g} A)"),
            Level(end_level, "A", "trip: load current below"),
        ],
        meta={
            "kind": "capture",
            "sample_interval_s": sense.sample_interval_s,
            "points": len(sense.values),
            "digitizer": digitizer,
            "emulated_step_a": step,
        },
    )
