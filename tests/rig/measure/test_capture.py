"""Trip time by capture against a toy digitizer whose record follows a known law.

The toy samples an RL rise (τ, prospective current) that a "FET" cuts a known time after
the current first reaches the trip level, falling linearly to zero; it takes no trigger
before its pre-trigger memory is full and completes only when the clock has passed its
last sample, as a digitizer twin or a real scope does.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
import pytest

from instruments.accuracy import Accuracy
from rig.measure import find_edge, trip_time_by_capture
from rig.measure.budget import capture_budget
from rig.measure.traces import capture_waveform
from rig.measure.uncertainty import expanded


@dataclass
class Settings:
    sample_interval_s: float
    points: int
    pretrigger_points: int


@dataclass
class Record:
    times_s: np.ndarray
    values: np.ndarray
    sample_interval_s: float
    trigger_index: int


class ToyShort:
    """i(t) = I∞(1 − e^(−t/τ)) from the step; cut `delay` after reaching `cut_level`."""

    def __init__(
        self, clock, delay, cut_level=150.0, i_inf=5000.0, tau=100e-6, fall=2e-6, latency=0.37e-6
    ):
        # `latency`: the contacts meet this long after the command, at no particular
        # phase of the digitizer's sample clock
        self.clock, self.delay, self.cut_level, self.latency = clock, delay, cut_level, latency
        self.i_inf, self.tau, self.fall = i_inf, tau, fall
        self.t_step: float | None = None
        self.armed_at: float | None = None
        self.aborted = False
        self.released = False

    # what the circuit does
    def step(self) -> None:
        self.t_step = self.clock.now() + self.latency

    def t_cross(self, level: float) -> float:
        return -self.tau * math.log(1 - level / self.i_inf)

    @property
    def t_cut(self) -> float:
        return self.t_cross(self.cut_level) + self.delay

    def current(self, t: np.ndarray) -> np.ndarray:
        if self.t_step is None:
            return np.zeros_like(t)
        x = t - self.t_step
        rise = np.where(x > 0, self.i_inf * (1 - np.exp(-np.maximum(x, 0) / self.tau)), 0.0)
        if self.delay == math.inf or self.i_inf <= self.cut_level:
            return rise
        peak = self.i_inf * (1 - math.exp(-self.t_cut / self.tau))
        fall = np.clip(peak * (1 - (x - self.t_cut) / self.fall), 0, None)
        return np.where(x < self.t_cut, rise, fall)

    # the digitizer
    def arm(self, level, rising=True, sample_interval_s=1e-6, points=2000,
            pretrigger_points=200, full_scale=None):  # fmt: skip
        self.level, self.rising = level, rising
        self.settings = Settings(sample_interval_s, points, pretrigger_points)
        self.armed_at = self.clock.now()
        return self.settings

    def _trigger_index(self) -> int | None:
        """The first sample at or past the level, once the pre-trigger memory is full."""
        s = self.settings
        if self.t_step is None or self.i_inf <= self.level:
            return None
        t = self.t_step + self.t_cross(self.level) - self.armed_at
        return max(math.ceil(t / s.sample_interval_s - 1e-9), s.pretrigger_points)

    def state(self) -> str:
        k = self._trigger_index()
        if k is None:
            return "armed"
        s = self.settings
        t_last = self.armed_at + (k - s.pretrigger_points + s.points - 1) * s.sample_interval_s
        return "complete" if self.clock.now() >= t_last - 1e-12 else "triggered"

    def fetch(self, binary=True) -> Record:
        s, k = self.settings, self._trigger_index()
        assert k is not None
        first = k - s.pretrigger_points
        t = self.armed_at + (first + np.arange(s.points)) * s.sample_interval_s
        return Record(
            (np.arange(s.points) - s.pretrigger_points) * s.sample_interval_s,
            self.current(t),
            s.sample_interval_s,
            s.pretrigger_points,
        )

    def abort(self) -> None:
        self.aborted = True

    def release(self) -> None:
        self.released = True


def capture(fake_clock, toy, **kw):
    return trip_time_by_capture(
        fake_clock, toy, toy.step, 150.0, full_scale=6000, release=toy.release, **kw
    )


def true_duration(toy: ToyShort, level: float = 150.0) -> float:
    """Time above `level`: from its crossing going up to its crossing on the fall."""
    peak = toy.i_inf * (1 - math.exp(-toy.t_cut / toy.tau))
    return toy.t_cut - toy.t_cross(level) + toy.fall * (1 - level / peak)


@pytest.mark.parametrize("delay", [200e-6, 200.3e-6, 57.77e-6, 600e-6])
def test_bracket_holds_the_time_above_the_level(fake_clock, delay):
    fake_clock.t = 12.3456789  # any phase between the clock and the samples
    toy = ToyShort(fake_clock, delay)
    r = capture(fake_clock, toy)
    assert r.triggered and r.tripped and toy.released
    lo, hi = r.bracket
    truth = true_duration(toy)
    assert lo <= truth <= hi
    assert hi - lo == pytest.approx(2e-6)  # one sample interval at each end
    assert abs(r.time_s - truth) <= 1e-6 + 1e-12
    assert r.sample_interval_s == 1e-6


def test_the_step_waits_for_the_pretrigger_memory(fake_clock):
    toy = ToyShort(fake_clock, 200e-6)
    r = capture(fake_clock, toy, pretrigger_points=300)
    assert r.t_apply == pytest.approx(300e-6)  # 300 samples at 1 µs before the step
    # the record starts 300 samples before the trigger, the first sample at 150 A or more
    assert r.start is not None and r.start.index == 300 and r.start.t_after == 0.0


def test_midpoint_is_unbiased_over_random_phases(fake_clock):
    rng = random.Random(7)
    errors = []
    for _ in range(200):
        fake_clock.t = rng.uniform(0, 1)
        toy = ToyShort(fake_clock, rng.uniform(150e-6, 250e-6), latency=rng.uniform(0, 5e-6))
        r = capture(fake_clock, toy)
        errors.append(r.time_s - true_duration(toy))
    assert abs(sum(errors) / len(errors)) < 1e-6 / 4
    assert max(abs(e) for e in errors) <= 1e-6 + 1e-12


def test_no_trigger_is_no_value_and_the_step_is_undone(fake_clock):
    toy = ToyShort(fake_clock, 200e-6, i_inf=100.0)  # never reaches 150 A
    r = capture(fake_clock, toy, timeout_s=0.01)
    assert not r.triggered and r.time_s is None and r.bracket is None
    assert toy.aborted and toy.released


def test_no_trip_within_the_record_is_no_value(fake_clock):
    toy = ToyShort(fake_clock, math.inf)  # the FET never opens
    r = capture(fake_clock, toy)
    assert r.triggered and not r.tripped and r.time_s is None
    assert r.peak is not None and r.peak[0] > 4000


def test_budget_has_both_crossings_the_timebase_and_the_level(fake_clock):
    toy = ToyShort(fake_clock, 200e-6)
    r = capture(fake_clock, toy)
    timebase = Accuracy(25e-4, 0.0, source="25 ppm")
    budget = capture_budget(r, timebase, level_band=50.0)
    names = [c.name for c in budget]
    assert names == [
        "start crossing: one sample interval",
        "end crossing: one sample interval",
        "digitizer timebase",
        "crossing level accuracy / slope",
    ]
    assert budget[0].standard == pytest.approx(1e-6 / (2 * math.sqrt(3)))
    assert budget[2].standard == pytest.approx(r.time_s * 25e-6 / math.sqrt(3))
    # 50 A at ~50 A/µs on the rise is about 1 µs; the 2 µs fall adds little
    assert 0.9e-6 < budget[3].standard * math.sqrt(3) < 1.3e-6
    assert 1e-6 < expanded(budget) < 3e-6
    assert capture_budget(capture(fake_clock, ToyShort(fake_clock, math.inf)), None, 1) == []


def test_waveform_keeps_every_sample_and_marks_the_crossings(fake_clock):
    toy = ToyShort(fake_clock, 200e-6)
    r = capture(fake_clock, toy)
    wf = capture_waveform("short", r, "discharge current", "A")
    assert len(wf.x) == len(wf.series[0].values) == 2000
    labels = [m.label for m in wf.markers]
    assert labels == ["trigger", "level crossed", "level crossed back (trip)", "peak"]
    assert wf.meta["sample_interval_s"] == 1e-6


def test_find_edge_needs_a_sample_on_the_near_side():
    t = np.arange(5) * 1.0
    assert find_edge(t, np.array([5, 6, 7, 8, 9.0]), 4.0, True) is None
    e = find_edge(t, np.array([0, 1, 5, 6, 2.0]), 4.0, True)
    assert (e.index, e.t_before, e.t_after) == (2, 1.0, 2.0)
    e = find_edge(t, np.array([0, 1, 5, 6, 2.0]), 4.0, False, start=3)
    assert e.index == 4 and e.t_before == 3.0


def test_slope_is_fitted_over_the_samples_around_the_crossing():
    t = np.arange(20) * 1e-6
    ramp = 50e6 * t  # 50 A/µs
    codes = np.round(ramp / 80) * 80  # one 80 A code per 1.6 µs
    e = find_edge(t, codes, 500.0, True)
    assert e.slope == pytest.approx(50e6, rel=0.15)  # two samples alone: 80 or 0 A/µs


class EightBitToy(ToyShort):
    """The same short seen through an 80 A code (an 8-bit scope at ±8 kA)."""

    def fetch(self, binary=True) -> Record:
        rec = super().fetch(binary)
        return Record(rec.times_s, np.round(rec.values / 80.0) * 80.0, rec.sample_interval_s,
                      rec.trigger_index)  # fmt: skip


def test_a_quantised_record_carries_its_code_in_the_budget(fake_clock):
    r = capture(fake_clock, EightBitToy(fake_clock, 200e-6))
    assert r.code_step == pytest.approx(80.0)
    names = [c.name for c in capture_budget(r, None, None)]
    assert "level quantisation / slope" in names
    # a sample reads 150 A from 120 A on: the rise is seen up to ~0.8 µs early, inside U
    truth = true_duration(r and EightBitToy(fake_clock, 200e-6))
    assert abs(r.time_s - truth) <= expanded(capture_budget(r, None, None))
    smooth = capture(fake_clock, ToyShort(fake_clock, 200e-6))
    assert smooth.code_step == 0.0
