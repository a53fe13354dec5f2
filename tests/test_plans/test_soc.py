"""The SoC error is taken between two changes of the BMS's whole-% SoC while the charge
flows, so its verdict does not hinge on where the start fell between two steps.

In-process: the plan's drive and track against a board whose coulomb counter runs at
`gain` x the station's current and reports its SoC rounded to whole %, from several
starting SoCs. Read at rest, a gain 10 % high over 25 points (2.5 points) read 3.00 ±
0.83 (failed) from 50.0 % and 2.00 ± 0.83 (conditional) from 50.7 %.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from instruments.accuracy import Accuracy
from rig.config import load_spec
from rig.measure import Verdict, expanded, judge
from rig.paths import DEFAULT_SPEC, REPO
from test_plans import _soc
from tests.rig.measure.conftest import FakeClock

CAPACITY_AH = 100.0
CHARGE_AH = 25.0  # the default spec's step: 25 points at 2.5 A
BAND = Accuracy(0.1, 0.005, source="a charger's read-back")


class Board:
    """A counter at `gain` x the current, from `start_pct`; its SoC in whole %."""

    def __init__(self, clock: FakeClock, start_pct: float, gain: float):
        self.clock, self.start_pct, self.gain = clock, start_pct, gain
        self.t_on: float | None = None
        self.amps = 0.0

    def internal(self) -> float:
        if self.t_on is None:
            return self.start_pct
        ah = self.amps * (self.clock.now() - self.t_on) / 3600
        return self.start_pct + self.gain * ah / CAPACITY_AH * 100

    def read_status(self) -> SimpleNamespace:
        return SimpleNamespace(soc_percent=float(round(self.internal())), remaining_capacity_ah=0)


class Charger:
    """The drive: a steady 2.5 A into the pack, read back exactly, with `BAND`."""

    amps = 2.5
    instrument = "charger"

    def __init__(self, board: Board):
        self.board = board

    def on(self) -> None:
        self.board.t_on, self.board.amps = self.board.clock.now(), self.amps

    def off(self) -> None:
        self.board.amps = 0.0

    def read(self) -> float:
        return self.amps

    def band(self, amps: float) -> Accuracy:
        return BAND


@pytest.fixture(scope="module")
def spec():
    return load_spec(REPO / DEFAULT_SPEC)


def soc_error(spec, start_pct: float, gain: float) -> tuple[float, float, Verdict]:
    clock = FakeClock()
    board = Board(clock, start_pct, gain)
    before = _soc.BmsCount(None, float(round(start_pct)), CAPACITY_AH)
    watch = _soc.EdgeWatch.for_step(1.0, spec)
    track = _soc.Track(board, clock, 1800, before, CAPACITY_AH, watch)  # type: ignore[arg-type]
    driven = _soc.drive(clock, Charger(board), CHARGE_AH, 300, track)  # type: ignore[arg-type]
    assert track.span is not None
    value, budget, _, _ = _soc.soc_error_between(
        track.span,
        driven,
        CHARGE_AH,
        100 / CAPACITY_AH,
        clock,  # type: ignore[arg-type]
    )
    u = expanded(budget)
    return value, u, judge(value, -2.0, 2.0, "GELE", u, "guarded")


@pytest.mark.parametrize("start", [50.0, 50.3, 50.5, 50.7, 42.9])
def test_a_gain_10_percent_high_fails_from_every_starting_soc(spec, start):
    value, u, verdict = soc_error(spec, start, 1.1)
    assert verdict is Verdict.FAIL and abs(value - 2.5) <= u, (value, u)
    assert u < 0.2  # the two brackets a twentieth of a step each, and the station's charge


@pytest.mark.parametrize("start", [50.0, 50.3, 50.7])
def test_a_right_count_passes_from_every_starting_soc(spec, start):
    value, u, verdict = soc_error(spec, start, 1.0)
    assert verdict is Verdict.PASS and abs(value) <= u, (value, u)


def test_the_watch_reads_closely_only_near_the_ends(spec):
    watch = _soc.EdgeWatch.for_step(1.0, spec)
    assert watch is not None
    assert watch.fine_s == pytest.approx(72.0)  # 1 Ah / 20 at 2.5 A
    assert watch.window_s == pytest.approx(2880.0) and watch.duration_s == 36000.0
    # a step of half the charge leaves no span between the two windows
    assert _soc.EdgeWatch.for_step(12.5, spec) is None


def test_a_count_that_never_moves_gives_no_span(spec):
    clock = FakeClock()
    board = Board(clock, 50.2, 0.0)
    before = _soc.BmsCount(None, 50.0, CAPACITY_AH)
    track = _soc.Track(board, clock, 1800, before, CAPACITY_AH, _soc.EdgeWatch.for_step(1.0, spec))  # type: ignore[arg-type]
    _soc.drive(clock, Charger(board), CHARGE_AH, 300, track)  # type: ignore[arg-type]
    assert track.span is None  # the plan then judges the readings at rest
