"""Measurement primitives: every result carries its bracket, every verdict its rule."""

from rig.measure.measurement import Measurement, Stimulus, Verdict, judge
from rig.measure.threshold import Probe, ThresholdResult, search_threshold
from rig.measure.trip import Poll, TripResult, trip_time_by_polling, wait_for
from rig.measure.uncertainty import Component, expanded, rectangular, resolution_component

__all__ = [
    "Component",
    "Measurement",
    "Poll",
    "Probe",
    "Stimulus",
    "ThresholdResult",
    "TripResult",
    "Verdict",
    "expanded",
    "judge",
    "rectangular",
    "resolution_component",
    "search_threshold",
    "trip_time_by_polling",
    "wait_for",
]
