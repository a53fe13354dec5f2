"""Traces (a quantity as pieces in virtual time) and single-shot acquisitions on them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simlab.physics.trace import Approach, Const, Ramp, Trace
from simlab.scpi.acquisition import Acquisition


def test_values_and_exact_crossings_inside_pieces_and_at_steps():
    tr = Trace(0.0)
    tr.add(Const(1.0, 2.0))  # step 0 -> 2 at t = 1
    tr.add(Approach(2.0, 2.0, 10.0, 1e-3))  # RL rise towards 10
    tr.add(Ramp(2.005, tr.value(2.005), 0.0, 1e-5))  # switched off in 10 µs
    assert list(tr.values(np.array([0.5, 1.5, 2.0, 2.006]))) == pytest.approx([0, 2, 2, 0])
    assert tr.crossing(1.0, True, 0.0, 3.0) == 1.0  # the step
    t6 = 2.0 - 1e-3 * math.log((6 - 10) / (2 - 10))
    assert tr.crossing(6.0, True, 1.5, 3.0) == pytest.approx(t6, abs=1e-12)
    v_peak = tr.value(2.005)
    t_half = 2.005 + 1e-5 * (1 - (v_peak / 2) / v_peak)
    assert tr.crossing(v_peak / 2, False, 2.0, 3.0) == pytest.approx(t_half, abs=1e-12)
    assert tr.crossing(20.0, True, 0.0, 3.0) is None
    assert tr.crossing(6.0, True, 0.0, t6 - 1e-6) is None  # not yet


def test_a_new_piece_replaces_what_was_planned_after_it():
    tr = Trace(1.0)
    tr.add(Ramp(1.0, 1.0, 0.0, 1.0))
    tr.add(Const(1.5, 3.0))
    assert tr.value(1.25) == pytest.approx(0.75) and tr.value(2.0) == 3.0
    tr.hold(1.2, 5.0)
    assert tr.value(1.5) == 5.0
    tr.prune(1.3)
    assert tr.value(1.3) == 5.0


class Clocked:
    def __init__(self, trace: Trace):
        self.trace, self.t = trace, 0.0

    def now(self) -> float:
        return self.t

    def values(self, times: np.ndarray) -> np.ndarray:
        return self.trace.values(times)

    def crossing(self, level, rising, a, b):
        return self.trace.crossing(level, rising, a, b)


def test_acquisition_takes_the_first_sample_at_or_after_the_crossing():
    tr = Trace(0.0)
    tr.add(Const(0.01234567, 1.0))
    sig = Clocked(tr)
    acq = Acquisition(sig, t_arm=0.0, dt=1e-3, points=10, pretrigger=3, level=0.5)
    sig.t = 0.005
    assert acq.waiting and acq.taken() == 3
    sig.t = 0.013
    assert acq.trigger_index() == 13 and not acq.complete
    sig.t = 0.019
    assert acq.complete
    assert list(acq.values()) == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert acq.sample_times()[3] == pytest.approx(0.013)


def test_no_trigger_before_the_pretrigger_memory_is_full():
    tr = Trace(0.0)
    tr.add(Const(0.0015, 1.0))  # an edge during the pre-trigger fill is not seen
    tr.add(Const(0.0100, 0.0))
    tr.add(Const(0.0200, 1.0))
    sig = Clocked(tr)
    acq = Acquisition(sig, t_arm=0.0, dt=1e-3, points=10, pretrigger=5, level=0.5)
    sig.t = 0.05
    assert acq.trigger_index() == 20
