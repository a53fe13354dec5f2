"""Short circuit: the short relay closed across the pack output, the digitizer on the current.

A short-circuit trip lasts a few hundred microseconds; no poll can time it. The digitizer
is armed on the pack's discharge current with an edge trigger at the spec's short-circuit
threshold and a pre-trigger, the short relay is closed, and the relay is opened again the
moment the record is complete. The trip time is the time the current spent at or above
the threshold: from its crossing going up to its crossing coming down as the discharge
FET opens, both found in the samples (`rig.measure.trip_time_by_capture`), so its
resolution is the digitizer's sample interval and its budget carries the timebase and the
level's accuracy. The peak current is the highest sample. The whole record is saved as
the trip's waveform.

Before the short, the load shows the discharge path conducting (a path already open
proves nothing); after it, the BMS's own report, then the recovery rule on the load's
current. A real bench needs a short path that carries the prospective current (cells or
a battery simulator, a contactor, a fuse): docs/measurement.md.
"""

from __future__ import annotations

import numpy as np

from dut_drivers.base import BmsLink
from instruments.accuracy import Accuracy
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import ShortCircuitProtection
from rig.measure import Component, rectangular, trip_time_by_capture
from rig.measure import Stimulus as StimulusRecord
from rig.measure.budget import capture_budget
from rig.measure.traces import capture_waveform
from rig.plugin.fixtures import Recorder
from rig.station import Station
from rig.station.fitness import short_mode
from rig.station.roles import RoleNotFitted
from test_plans import _current, _short_sense, _trip
from test_plans._power_path import PowerPath, open_pack
from test_plans._trip import Side, against

SHORT = Side("short_circuit", +1.0, "discharge", "discharge_fet")


class CaptureRefused(Exception):
    """The station's digitizer cannot record what the spec asks; nothing was applied."""


GIVE_UP_S = 0.05  # after the record should have completed: no trigger came


def short_circuit(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    if short_mode(station.config, spec)[0] == "emulated":  # a generator on the shunt input
        _short_sense.short_circuit(SHORT, station, dut, clock, spec, record)
        return
    p, tc = SHORT.spec(spec), spec.test_conditions
    cap = tc.capture
    digitizer, relay = station.digitizer, station.short
    if digitizer.quantity == "pack_voltage":
        raise RoleNotFitted(
            f"the digitizer {digitizer.name} measures the pack voltage; the short-circuit "
            f"plan times the current (wire it as discharge_current or pack_current)"
        )
    # + = charging on the pack current and on the shunt's sense input
    sign = -1.0 if digitizer.quantity in ("pack_current", "sense_current") else 1.0
    level = sign * p.threshold_a.nominal
    stim = _current.CurrentStimulus(station, spec, SHORT, clock)  # the load, for recovery
    path = PowerPath(station, spec, "discharge")
    context: dict[str, object] = {"path": "discharge", "digitizer": digitizer.name}

    path.start(stim.pack)
    if not _trip.baseline_flows(path, record, SHORT, p, context, "trip_time", "A"):
        return
    path.stop()  # the capture sees the short's current alone
    open_pack(station)  # a battery simulator feeds the short all the station allows
    closed: list[bool] = []

    def close() -> None:
        relay.close()
        closed.append(relay.is_closed())

    try:
        result = trip_time_by_capture(
            clock,
            digitizer,
            close,
            level,
            rising=sign > 0,
            sample_interval_s=cap.sample_interval_s,
            points=cap.points,
            pretrigger_points=cap.pretrigger_points,
            full_scale=cap.full_scale_a,
            timeout_s=GIVE_UP_S,
            poll_s=GIVE_UP_S / 10,
            release=relay.open,
        )
    except ValueError as exc:
        if closed:
            raise
        raise CaptureRefused(
            f"{digitizer.name} cannot take the capture the spec asks for "
            f"(test_conditions.capture: samples every {cap.sample_interval_s:g} s or finer, "
            f"{cap.points} points, ±{cap.full_scale_a:g} A): {exc}; the short relay was "
            f"not closed"
        ) from exc
    scale = digitizer.scale
    gain = digitizer.accuracy("voltage_meas")
    level_band = gain.limit(abs(level) * scale) / scale
    timebase = digitizer.accuracy("timebase")
    samples = sign * result.values  # discharge current, positive
    span = (cap.points - cap.pretrigger_points) * result.sample_interval_s
    note = ""
    if not result.triggered:
        note = (
            f"the current never reached {abs(level):g} A within {span + GIVE_UP_S:.3g} s of "
            f"closing the short relay"
        )
    elif not result.tripped:
        note = (
            f"the current was still at or above {abs(level):g} A at the end of the record "
            f"({result.times_s[-1] * 1e3:.3g} ms after the trigger): not interrupted"
        )
    wf = capture_waveform(
        "short_circuit_trip_time",
        result,
        f"{digitizer.quantity.replace('_', ' ')}",
        digitizer.unit,
        meta={"digitizer": digitizer.name, "threshold_a": p.threshold_a.nominal},
    )
    wf_path = record.waveform(wf) if result.triggered else None
    relay_stim = StimulusRecord(
        "short_relay_closed", "flag", 1.0, float(closed[0]) if closed else None, relay.name
    )
    record(
        "short_circuit_trip_time",
        result.time_s,
        "s",
        **against(p.delay_s, p.clause),
        bracket=result.bracket,
        resolution=result.sample_interval_s,
        budget=capture_budget(result, timebase, level_band),
        evidence="instrument",
        instrument=digitizer.name,
        stimulus=relay_stim,
        waveform=wf_path,
        context={
            **context,
            "level_a": abs(level),
            "sample_interval_s": result.sample_interval_s,
            "points": len(result.values),
            "t_close": result.t_apply,
        },
        note=note or f"time at or above {abs(level):g} A, from the capture",
    )
    if result.triggered:
        _peak(
            record,
            result.times_s,
            samples,
            gain,
            scale,
            p,
            digitizer.name,
            relay_stim,
            wf_path,
            context,
        )
    _trip.dut_report(SHORT, dut, clock, spec, p, record, context)
    path.start(stim.pack)
    instant = (result.t_apply, result.t_done) if result.triggered else None
    _current.recovery(SHORT, stim, path, clock, spec, record, None, context, instant)


def _peak(
    record: Recorder,
    times: np.ndarray,
    amps: np.ndarray,
    gain: Accuracy,  # at the full scale in force, volts at the input
    scale: float,
    p: ShortCircuitProtection,
    instrument: str,
    stimulus: StimulusRecord,
    waveform: str | None,
    context: dict[str, object],
) -> None:
    """The highest sample, with the digitizer's accuracy, its code step and what may
    lie between samples (the rise of the last sample before the peak)."""
    i = int(np.argmax(amps))
    peak = float(amps[i])
    codes = np.diff(np.unique(np.round(amps, 9)))
    step = float(codes[codes > 0].min()) if np.any(codes > 0) else 0.0
    rise = float(amps[i] - amps[i - 1]) if i > 0 else 0.0
    budget: list[Component] = [
        rectangular(f"{instrument} accuracy", gain.limit(peak * scale) / scale, gain.source),
        rectangular("code step (quantisation)", step / 2, f"{step:.4g} A per code"),
        rectangular("between samples", max(rise, 0.0) / 2, "rise into the highest sample"),
    ]
    record(
        "short_circuit_peak_current",
        peak,
        "A",
        low=None,
        high=p.max_peak_a,
        comparison="LE",
        clause=p.clause,
        budget=budget,
        evidence="instrument",
        instrument=instrument,
        stimulus=stimulus,
        # the same capture as the trip time's: named in the context, drawn once
        context={**context, "t_peak_s": float(times[i]), "capture": waveform},
        note="highest sample of the capture"
        + ("" if p.max_peak_a else "; the spec states no limit"),
    )
