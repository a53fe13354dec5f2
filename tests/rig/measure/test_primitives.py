"""Trip-time polling and threshold search against toy DUTs whose truth is known exactly."""

import random

import pytest

from rig.measure import search_threshold, trip_time_by_polling, wait_for
from rig.measure.threshold import levels


class DelayedTrip:
    """Current flows until `delay` seconds after the step, then stops."""

    def __init__(self, clock, delay):
        self.clock, self.delay, self.t_step = clock, delay, None

    def step(self):
        self.t_step = self.clock.now()

    def current(self):
        if self.t_step is not None and self.clock.now() - self.t_step >= self.delay:
            return 0.0
        return 1.0


@pytest.mark.parametrize("delay", [0.0, 0.33, 1.0, 2.049, 2.05])
def test_bracket_holds_the_true_delay(fake_clock, delay):
    dut = DelayedTrip(fake_clock, delay)
    r = trip_time_by_polling(
        fake_clock, dut.step, dut.current, lambda i: i < 0.2, timeout_s=5, period_s=0.05
    )
    assert r.tripped
    lo, hi = r.bracket
    assert lo <= delay <= hi
    assert hi - lo == pytest.approx(0.05)
    assert abs(r.time_s - delay) <= 0.025 + 1e-9
    assert r.resolution_s == pytest.approx(0.05)
    assert r.pre_polls == 3 and all(not p.tripped for p in r.polls[:3])
    assert r.polls[-1].tripped


def test_midpoint_is_unbiased_over_random_delays(fake_clock):
    rng = random.Random(4)
    errors = []
    for _ in range(400):
        delay = rng.uniform(0.5, 2.5)
        dut = DelayedTrip(fake_clock, delay)
        r = trip_time_by_polling(fake_clock, dut.step, dut.current, lambda i: i < 0.2, 5, 0.05)
        errors.append(r.time_s - delay)
    mean = sum(errors) / len(errors)
    assert abs(mean) < 0.05 / 4  # edge reporting would be biased by +0.025
    assert max(abs(e) for e in errors) <= 0.025 + 1e-9


class SlowClock:
    """Each poll costs `latency` seconds, as an instrument exchange does on a bench."""

    virtual = True

    def __init__(self, latency):
        self.t, self.latency = 0.0, latency

    def now(self):
        return self.t

    def sleep(self, dt):
        self.t += dt


def test_slow_polls_widen_the_bracket_and_the_resolution():
    clock = SlowClock(0.03)
    dut = DelayedTrip(clock, 1.0)

    def observe():
        clock.t += clock.latency  # the exchange takes time: the reading is from its end
        return dut.current()

    r = trip_time_by_polling(clock, dut.step, observe, lambda i: i < 0.2, 5, 0.02)
    lo, hi = r.bracket
    assert lo <= 1.0 <= hi
    assert r.resolution_s >= 0.03  # not the nominal 0.02 s period
    assert hi - lo >= r.resolution_s


def test_no_trip_and_tripped_before_the_step(fake_clock):
    r = trip_time_by_polling(fake_clock, lambda: None, lambda: 1.0, lambda i: i < 0.2, 1.0, 0.1)
    assert not r.tripped and r.time_s is None and r.bracket is None
    assert len(r.polls) == 3 + 10
    already = trip_time_by_polling(
        fake_clock, lambda: None, lambda: 0.0, lambda i: i < 0.2, 1.0, 0.1
    )
    assert not already.tripped and len(already.polls) == 3


class Comparator:
    """Trips `delay` after the level reaches `threshold`; releases below `release`."""

    def __init__(self, clock, threshold, release, delay=0.0):
        self.clock, self.threshold, self.release, self.delay = clock, threshold, release, delay
        self.level, self.since, self.tripped = 0.0, None, False

    def update(self):
        if self.tripped:
            if self.level < self.release:
                self.tripped = False
        elif self.level >= self.threshold:
            self.since = self.clock.now() if self.since is None else self.since
            if self.clock.now() - self.since >= self.delay:
                self.tripped = True
        else:
            self.since = None

    def apply(self, level):
        self.update()
        self.level = level
        self.since = None if level < self.threshold else self.since
        self.update()
        return level + 0.0001  # the instrument reads back slightly off what it was told

    def current(self):
        self.update()
        return 0.0 if self.tripped else 1.0


@pytest.mark.parametrize("truth", [3.6401, 3.650, 3.6599, 3.6623])
def test_ramp_then_bisect_brackets_the_threshold(fake_clock, truth):
    dut = Comparator(fake_clock, truth, 3.4, delay=2.0)
    resets = []

    def reset():
        resets.append(1)
        dut.apply(3.3)
        fake_clock.sleep(1)
        return dut.current() == 1.0

    r = search_threshold(
        fake_clock,
        dut.apply,
        dut.current,
        lambda i: i < 0.2,
        start=3.60,
        stop=3.70,
        step=0.01,
        resolution=0.002,
        dwell_s=2.5,
        reset=reset,
    )
    assert r.found
    lo, hi = r.commanded_bracket
    assert lo < truth <= hi
    assert hi - lo <= 0.002
    assert r.bracket == pytest.approx((lo + 0.0001, hi + 0.0001))  # read-back terms
    assert r.value == pytest.approx((r.bracket[0] + r.bracket[1]) / 2)
    assert resets and len([p for p in r.probes if p.phase == "bisect"]) >= 3


def test_ramp_down_without_reset_keeps_the_ramp_bracket(fake_clock):
    level = {"v": 0.0}

    def apply(v):
        level["v"] = v
        return None

    r = search_threshold(
        fake_clock,
        apply,
        lambda: level["v"],
        lambda v: v <= 2.5,
        start=2.6,
        stop=2.4,
        step=0.01,
        resolution=0.002,
        dwell_s=1,
    )
    assert r.commanded_bracket == pytest.approx((2.5, 2.51))
    assert r.bracket == r.commanded_bracket  # no read-back: commanded levels stand


def test_not_found_and_flipped_at_once(fake_clock):
    miss = search_threshold(
        fake_clock, lambda v: None, lambda: 1.0, lambda i: i < 0.2, 2.6, 2.4, 0.05, 0.01, 1
    )
    assert not miss.found and miss.value is None and miss.last_level == pytest.approx(2.4)
    at_once = search_threshold(
        fake_clock, lambda v: None, lambda: 0.0, lambda i: i < 0.2, 2.6, 2.4, 0.05, 0.01, 1
    )
    assert not at_once.found and at_once.bracket is None and len(at_once.probes) == 1


def test_levels_include_both_ends():
    assert levels(1.0, 1.1, 0.05) == [1.0, 1.05, 1.1]
    assert levels(1.1, 1.0, 0.05) == [1.1, 1.05, 1.0]


def test_wait_for(fake_clock):
    assert wait_for(fake_clock, lambda: fake_clock.now() >= 1.0, timeout_s=5, period_s=0.25) == 1.0
    assert wait_for(fake_clock, lambda: False, timeout_s=1, period_s=0.25) is None


def test_a_reset_that_fails_ends_the_bisection(fake_clock):
    dut = Comparator(fake_clock, 3.651, 3.4)
    r = search_threshold(
        fake_clock,
        dut.apply,
        dut.current,
        lambda i: i < 0.2,
        3.6,
        3.7,
        0.01,
        0.002,
        1.0,
        reset=lambda: False,
    )
    assert r.found and r.reset_failed
    assert r.commanded_bracket == pytest.approx((3.65, 3.66))


def test_rest_between_levels_keeps_a_long_timer_from_running_on(fake_clock):
    """A 20 s delay against a 6 s dwell: without rest the timer runs on from level to
    level and the threshold reads three levels high; resting 20 s at rest between levels
    restarts it at every level, so the search never trips (no false level) until the
    dwell is long enough, and then it finds the true threshold."""
    truth = 3.651

    def search(dwell, rest_s):
        dut = Comparator(fake_clock, truth, 3.4, delay=20.0)

        def reset():
            dut.apply(3.3)
            fake_clock.sleep(1)
            return dut.current() == 1.0

        return search_threshold(
            fake_clock, dut.apply, dut.current, lambda i: i < 0.2, 3.60, 3.70, 0.01, 0.002,
            dwell, reset, rest=(lambda: dut.apply(3.3)) if rest_s else None, rest_s=rest_s,
        )  # fmt: skip

    carried = search(6.0, 0.0)
    assert carried.found and carried.commanded_bracket[0] > truth  # the lie the issue saw
    rested = search(6.0, 20.0)
    assert not rested.found and rested.above is None  # never tripped: no false value
    right = search(41.0, 20.0)
    lo, hi = right.commanded_bracket
    assert lo < truth <= hi
