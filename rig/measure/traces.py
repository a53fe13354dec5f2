"""Waveforms of a trip: the evidence a report plots beside each trip measurement.

A trip delay is drawn as the observed quantity against time from the step, with the step
and the bracket marked. A threshold search is drawn as the stimulus and the response
against time, probe by probe, with the acceptance limits and the bracket marked. A
captured trip is the digitizer's record itself, every sample, with the two crossings
marked. All come straight from the primitives' results, so what is plotted is what was
measured.
"""

from __future__ import annotations

from rig.measure.capture import CaptureResult
from rig.measure.threshold import ThresholdResult
from rig.measure.trip import TripResult
from rig.results.waveform import Level, Marker, Series, Waveform


def trip_waveform(
    name: str,
    result: TripResult,
    response_label: str,
    response_unit: str,
    trip_level: float | None = None,
) -> Waveform:
    """The polled quantity against time from the step (polls before it at negative t)."""
    x = [round(p.t_start - result.t_step, 9) for p in result.polls]
    markers = [Marker(0.0, "step")]
    if result.bracket is not None:
        markers += [
            Marker(result.bracket[0], "last quiet poll"),
            Marker(result.bracket[1], "trip seen"),
        ]
    levels = [] if trip_level is None else [Level(trip_level, response_unit, "trip level")]
    return Waveform(
        name=name,
        x_label="time from step",
        x_unit="s",
        x=x,
        series=[Series(response_label, response_unit, [p.value for p in result.polls])],
        markers=markers,
        levels=levels,
        meta={"kind": "trip_delay", "pre_polls": result.pre_polls},
    )


def threshold_waveform(
    name: str,
    result: ThresholdResult,
    stimulus_label: str,
    stimulus_unit: str,
    response_label: str,
    response_unit: str,
    limits: tuple[float, float] | None = None,
) -> Waveform:
    """Stimulus (read-back) and response for every probe, against time from the first."""
    probes = result.probes
    t0 = probes[0].t if probes else 0.0
    levels: list[Level] = []
    if limits is not None:
        levels += [
            Level(limits[0], stimulus_unit, "limit low"),
            Level(limits[1], stimulus_unit, "limit high"),
        ]
    if result.bracket is not None:
        levels += [
            Level(result.bracket[0], stimulus_unit, "bracket"),
            Level(result.bracket[1], stimulus_unit, "bracket"),
        ]
    markers = [Marker(round(p.t - t0, 9), "bisect") for p in probes if p.phase == "bisect"][:1]
    return Waveform(
        name=name,
        x_label="time from first level",
        x_unit="s",
        x=[round(p.t - t0, 9) for p in probes],
        series=[
            Series(stimulus_label, stimulus_unit, [p.level for p in probes], role="stimulus"),
            Series(response_label, response_unit, [p.response for p in probes]),
        ],
        markers=markers,
        levels=levels,
        meta={"kind": "threshold", "probes": len(probes)},
    )


def capture_waveform(
    name: str, result: CaptureResult, label: str, unit: str, meta: dict | None = None
) -> Waveform:
    """The digitizer's samples against time from its trigger, crossings and level marked."""
    markers = [Marker(0.0, "trigger")]
    if result.start is not None:
        markers.append(Marker(result.start.t_after, "level crossed"))
    if result.end is not None:
        markers.append(Marker(result.end.t_after, "level crossed back (trip)"))
    peak = result.peak
    if peak is not None:
        markers.append(Marker(peak[1], "peak"))
    levels = [Level(result.level, unit, "trigger level")]
    if result.end_level != result.level:
        levels.append(Level(result.end_level, unit, "end level"))
    return Waveform(
        name=name,
        x_label="time from trigger",
        x_unit="s",
        x=[round(float(t), 12) for t in result.times_s],
        series=[Series(label, unit, [float(v) for v in result.values])],
        markers=markers,
        levels=levels,
        meta={
            "kind": "capture",
            "sample_interval_s": result.sample_interval_s,
            "points": len(result.values),
            **(meta or {}),
        },
    )
