"""Trip time by polling and threshold ramps against a toy DUT with known truth."""

import pytest

from rig.measure import ramp_threshold, trip_time_by_polling, wait_for
from rig.measure.threshold import levels


@pytest.mark.parametrize("delay", [0.0, 0.33, 1.0, 2.049])
def test_trip_time_within_one_poll_of_truth(fake_clock, delay):
    step_at = []
    result = trip_time_by_polling(
        fake_clock,
        apply=lambda: step_at.append(fake_clock.now()),
        tripped=lambda: fake_clock.now() - step_at[0] >= delay,
        timeout_s=5,
        period_s=0.05,
    )
    assert result.tripped
    assert delay <= result.time_s < delay + 0.05 + 1e-9
    assert result.resolution_s == 0.05


def test_no_trip_reports_none(fake_clock):
    result = trip_time_by_polling(
        fake_clock, lambda: None, lambda: False, timeout_s=1.0, period_s=0.1
    )
    assert not result.tripped and result.time_s is None and result.polls == 10


@pytest.mark.parametrize("truth", [3.6401, 3.650, 3.6599])
def test_ramp_up_finds_threshold_within_step(fake_clock, truth):
    level = {"v": 0.0}
    result = ramp_threshold(
        fake_clock,
        lambda v: level.update(v=v),
        lambda: level["v"] >= truth,
        start=3.60,
        stop=3.70,
        step=0.002,
        dwell_s=3.0,
    )
    assert result.found
    assert truth <= result.value < truth + 0.002 + 1e-9
    assert fake_clock.now() == pytest.approx(3.0 * result.steps)


def test_ramp_down_and_not_found(fake_clock):
    level = {"v": 0.0}
    down = ramp_threshold(
        fake_clock, lambda v: level.update(v=v), lambda: level["v"] <= 2.5, 2.6, 2.4, 0.01, 1
    )
    assert down.value == pytest.approx(2.5)
    miss = ramp_threshold(fake_clock, lambda v: None, lambda: False, 2.6, 2.4, 0.05, 1)
    assert not miss.found and miss.value is None and miss.last_level == pytest.approx(2.4)


def test_levels_include_both_ends():
    assert levels(1.0, 1.1, 0.05) == [1.0, 1.05, 1.1]
    assert levels(1.1, 1.0, 0.05) == [1.1, 1.05, 1.0]


def test_wait_for(fake_clock):
    assert wait_for(fake_clock, lambda: fake_clock.now() >= 1.0, timeout_s=5, period_s=0.25) == 1.0
    assert wait_for(fake_clock, lambda: False, timeout_s=1, period_s=0.25) is None
