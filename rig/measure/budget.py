"""Uncertainty budgets for the ways a value is found: a threshold search, a trip delay
by polling, a trip time from a capture.

A threshold comes from a bracket of stimulus levels (read back by the stimulus
instrument), so its budget is the bracket's width plus that instrument's measurement
accuracy at the value. A delay comes from a bracket of poll times, so its budget is the
bracket's width plus the clock's own accuracy. A captured trip time comes from two
crossings, each known to one sample interval, read on the digitizer's timebase and at a
level known to its gain accuracy. All are stated per component, so a report can show
where the uncertainty comes from and a lab can see what to improve.
"""

from __future__ import annotations

import math

from instruments.accuracy import Accuracy
from rig.measure.capture import CaptureResult
from rig.measure.threshold import ThresholdResult
from rig.measure.trip import TripResult
from rig.measure.uncertainty import Component, rectangular, resolution_component

# Host monotonic clock of a bench PC: a crystal within ±100 ppm, as a rectangular limit.
WALL_CLOCK_PPM = 100.0


def threshold_budget(
    result: ThresholdResult, band: Accuracy | None, instrument: str, unit: str
) -> list[Component]:
    """Bracket width and the stimulus instrument's accuracy (read-back if there was one)."""
    if result.value is None or result.width is None:
        return []
    budget = [resolution_component(result.width, "search bracket", unit)]
    if band is not None:
        budget.append(rectangular(f"{instrument} accuracy", band.limit(result.value), band.source))
    return budget


def delay_budget(
    result: TripResult, virtual_clock: bool, response_s: float = 0.0, response_source: str = ""
) -> list[Component]:
    """Poll bracket width, the stimulus instrument's response (the level is held up to
    `response_s` after its command: a rectangular distribution over that span) and, on
    a wall clock, the host clock's rate error."""
    if result.time_s is None or result.width_s is None:
        return []
    budget = [resolution_component(result.width_s, "poll bracket", "s")]
    if response_s > 0:
        budget.append(
            Component(
                "stimulus response",
                response_s / (2 * math.sqrt(3)),
                f"{response_source}: the level held up to {response_s:.3g} s after its command",
            )
        )
    if not virtual_clock:
        budget.append(
            rectangular(
                "host clock rate",
                result.time_s * WALL_CLOCK_PPM * 1e-6,
                f"±{WALL_CLOCK_PPM:g} ppm monotonic clock",
            )
        )
    return budget


def capture_budget(
    result: CaptureResult, timebase: Accuracy | None, level_band: float | None, unit: str = "A"
) -> list[Component]:
    """Both crossings to one sample interval each, the timebase's rate error over the
    duration, the record's quantisation (half a code at each crossing, independent) and
    the level's accuracy (± `level_band`, in the measured unit) through the slopes at
    the two crossings (one error of the level moves both, so they add)."""
    time = result.time_s
    if time is None or result.start is None or result.end is None:
        return []
    dt = result.sample_interval_s
    budget = [
        resolution_component(dt, "start crossing: one sample interval", "s"),
        resolution_component(dt, "end crossing: one sample interval", "s"),
    ]
    if timebase is not None:
        budget.append(rectangular("digitizer timebase", timebase.limit(time), timebase.source))
    code = result.code_step
    if code:
        shifts = [abs(code / 2 / e.slope) for e in (result.start, result.end) if e.slope]
        budget.append(
            rectangular(
                "level quantisation / slope",
                math.hypot(*shifts),
                f"measured: half of a {code:.4g} {unit} code at each crossing, through the "
                f"record's slopes there",
            )
        )
    if level_band:
        shift = sum(abs(level_band / e.slope) for e in (result.start, result.end) if e.slope)
        if math.isfinite(shift):
            budget.append(
                rectangular(
                    "crossing level accuracy / slope",
                    shift,
                    f"the digitizer's ±{level_band:.4g} {unit} at the level, through the "
                    f"record's slopes {result.start.slope:.4g} and {result.end.slope:.4g} "
                    f"{unit}/s",
                )
            )
    return budget
