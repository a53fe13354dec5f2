"""Short circuit: trip time and peak current from a digitizer capture, recovery rule.

Method (a bench with a short path; a current-sense emulation bench steps the shunt
input instead and times the trip on the load's test current, test_plans/_short_sense.py):
the load first shows the discharge path conducting. The digitizer is armed on
the pack's discharge current (edge trigger at the spec's short-circuit threshold, with a
pre-trigger), the short relay is closed across the pack output and opened again as soon
as the record is complete. The trip time is the time the current spent at or above the
threshold, from the two crossings in the samples: resolution one sample interval, budget
with the digitizer's timebase and level accuracy. The peak is the highest sample. The
record is saved as the waveform. Then the BMS's own report, and the recovery rule on the
load's current.
"""

import pytest

from test_plans import _short_threshold
from test_plans._short import SHORT, short_circuit

pytestmark = [
    pytest.mark.protection("short_circuit"),
    pytest.mark.clause("UL 1973 17", "IEC 62133-2 7.3.2", "UN 38.3 T.5"),
    # a short relay or current-sense emulation: which one the bench has decides the
    # stimulus, and a bench with neither is not applicable (rig.station.fitness)
    pytest.mark.needs("digitizer"),
    pytest.mark.quick,
]


def test_short_circuit(station, dut, clock, spec, record, ready):
    short_circuit(station, dut, clock, spec, record)


@pytest.mark.needs("shunt")
def test_short_circuit_threshold(station, dut, clock, spec, record, ready):
    """The threshold: pulses of rising emulated current on the shunt input, each
    captured with the load's test current; below the threshold the current keeps flowing
    through the pulse, above it the FET opens within it (test_plans/_short_threshold.py).
    A bench whose short path has one prospective current cannot set it: not applicable."""
    _short_threshold.threshold(SHORT, station, dut, clock, spec, record, ready)
