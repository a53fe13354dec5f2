"""Recording a threshold or release search: the one way every plan writes its result.

Whatever the stimulus (a cell voltage, a test current, an NTC temperature), a search
ends in the same record: the value at the middle of the read-back bracket, the budget
(bracket + the stimulus instrument's accuracy), the power-path instrument that saw the
trip, the stimulus as commanded and read back, a waveform of every probe, and a note
that says plainly why there is no value when there is none.
"""

from __future__ import annotations

from typing import Any, Protocol

from instruments.accuracy import Accuracy
from rig.config.spec import Limit
from rig.measure import Measurement, Stimulus, ThresholdResult
from rig.measure.budget import threshold_budget
from rig.measure.traces import threshold_waveform
from rig.plugin.fixtures import Recorder


class SearchStimulus(Protocol):
    """What a search drives: a level in `unit`, applied and read back by `instrument`."""

    @property
    def quantity(self) -> str: ...  # e.g. "cell_voltage", "ntc_temperature"

    @property
    def unit(self) -> str: ...

    @property
    def instrument(self) -> str: ...  # station instrument and channel, as records name it

    def apply(self, level: float) -> float | None: ...

    def band(self, value: float) -> Accuracy: ...


class Observed(Protocol):
    """What saw the response: the instrument (and channel) a record names, and a label
    (a PowerPath's "charger current", a cell channel's bleed current)."""

    @property
    def instrument(self) -> str: ...

    @property
    def label(self) -> str: ...


def _note(
    result: ThresholdResult, path: Observed, unit: str, releasing: bool, verb: str = "stopped"
) -> str:
    """`verb` says what the response does when the search flips it ("stopped" for a
    trip seen as current stopping)."""
    if result.above is None:
        last = f"{result.last_level:.4g} {unit}" if result.last_level is not None else "the end"
        if releasing:
            return f"{path.label} still {verb} at {last}: no release"
        return f"{path.label} never {verb} up to {last}"
    if not result.found:
        done = "flowed" if releasing else verb
        return f"{path.label} {done} at the first level {result.above.level:.4g} {unit}"
    if result.reset_failed:
        return "the BMS did not come back between probes: bracket left at the ramp step"
    return ""


def record_search(
    record: Recorder,
    name: str,
    result: ThresholdResult,
    limit: Limit,
    clause: list[str],
    stim: SearchStimulus,
    path: Observed,
    waveform_name: str,
    context: dict[str, Any],
    releasing: bool = False,
    verb: str = "stopped",
) -> Measurement:
    band = stim.band(result.value) if result.value is not None else None
    label = stim.quantity.replace("_", " ")
    wf = threshold_waveform(
        waveform_name, result, label, stim.unit, path.label, "A", (limit.low, limit.high)
    )
    cmd = result.commanded_bracket
    return record(
        name,
        result.value,
        stim.unit,
        low=limit.low,
        high=limit.high,
        nominal=limit.nominal,
        clause=clause,
        bracket=result.bracket,
        budget=threshold_budget(result, band, stim.instrument, stim.unit),
        evidence="instrument",
        instrument=path.instrument,
        stimulus=Stimulus(
            stim.quantity,
            stim.unit,
            None if cmd is None else (cmd[0] + cmd[1]) / 2,
            result.value,
            stim.instrument,
        ),
        waveform=record.waveform(wf),
        context={**context, "probes": len(result.probes), "commanded_bracket": cmd},
        note=_note(result, path, stim.unit, releasing, verb),
    )
