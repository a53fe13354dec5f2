"""Measurement primitives: every result carries its bracket, every verdict its rule."""

from rig.measure.capture import CaptureResult, Edge, find_edge, trip_time_by_capture
from rig.measure.measurement import EmptyBudget, Measurement, Stimulus, Verdict, judge
from rig.measure.threshold import Probe, ThresholdResult, search_threshold
from rig.measure.trip import Poll, TripResult, trip_time_by_polling, wait_for
from rig.measure.uncertainty import Component, expanded, rectangular, resolution_component

__all__ = [
    "CaptureResult",
    "Component",
    "Edge",
    "EmptyBudget",
    "Measurement",
    "Poll",
    "Probe",
    "Stimulus",
    "ThresholdResult",
    "TripResult",
    "Verdict",
    "expanded",
    "find_edge",
    "judge",
    "rectangular",
    "resolution_component",
    "search_threshold",
    "trip_time_by_capture",
    "trip_time_by_polling",
    "wait_for",
]
