"""Uncertainty budgets for the two ways a value is found: a threshold search, a trip delay.

A threshold comes from a bracket of stimulus levels (read back by the stimulus
instrument), so its budget is the bracket's width plus that instrument's measurement
accuracy at the value. A delay comes from a bracket of poll times, so its budget is the
bracket's width plus the clock's own accuracy. Both are stated per component, so a
report can show where the uncertainty comes from and a lab can see what to improve.
"""

from __future__ import annotations

from instruments.accuracy import Accuracy
from rig.measure.threshold import ThresholdResult
from rig.measure.trip import TripResult
from rig.measure.uncertainty import Component, rectangular, resolution_component

# Host monotonic clock of a bench PC: a crystal within ±100 ppm, as a rectangular limit.
WALL_CLOCK_PPM = 100.0


def threshold_budget(
    result: ThresholdResult, band: Accuracy | None, instrument: str
) -> list[Component]:
    """Bracket width and the stimulus instrument's accuracy (read-back if there was one)."""
    if result.value is None or result.width is None:
        return []
    budget = [resolution_component(result.width, "search bracket")]
    if band is not None:
        budget.append(rectangular(f"{instrument} accuracy", band.limit(result.value), band.source))
    return budget


def delay_budget(result: TripResult, virtual_clock: bool) -> list[Component]:
    """Poll bracket width and, on a wall clock, the host clock's rate error."""
    if result.time_s is None or result.width_s is None:
        return []
    budget = [resolution_component(result.width_s, "poll bracket")]
    if not virtual_clock:
        budget.append(
            rectangular(
                "host clock rate",
                result.time_s * WALL_CLOCK_PPM * 1e-6,
                f"±{WALL_CLOCK_PPM:g} ppm monotonic clock",
            )
        )
    return budget
