"""Measurement primitives: every result carries its resolution, every verdict its rule."""

from rig.measure.measurement import Measurement, Verdict, judge
from rig.measure.threshold import ThresholdResult, ramp_threshold
from rig.measure.trip import TripResult, trip_time_by_polling, wait_for

__all__ = [
    "Measurement",
    "ThresholdResult",
    "TripResult",
    "Verdict",
    "judge",
    "ramp_threshold",
    "trip_time_by_polling",
    "wait_for",
]
