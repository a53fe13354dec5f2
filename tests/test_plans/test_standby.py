"""The standby plan places each draw reading with its band: asleep or awake only where
the band lies wholly on one side of the level between the stated draws.

In-process: the plan runs against a board whose draw falls from 15 mA to 0.1 mA 3630 s
after the last request, read exactly (as simlab's twins read it) but with the band of a
meter like the station's: an N6781A's 100 mA range, an N83624's ±(0.1 % + 5 mA), an
RP7952A's ±(0.04 % + 30 mA). The twins' exact readings are what let the plan decide the
fall finer than the meter before: it timed the fall on the RP7952A as on the N6781A.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from instruments.accuracy import Accuracy
from rig.config import load_spec
from rig.measure import Measurement, Verdict
from rig.paths import DEFAULT_SPEC, REPO
from test_plans import _standby
from tests.rig.measure.conftest import FakeClock

N6781A = Accuracy(0.025, 10e-6, source="N6781A 100 mA range")
N83624 = Accuracy(0.1, 5e-3, source="N83624 current read-back")
RP7952A = Accuracy(0.04, 30e-3, source="RP7952A current read-back")
LEVEL = (0.0002 + 0.015) / 2  # between the spec's asleep limit and its awake nominal


class Board:
    """A BMS that falls asleep `after_s` from the last request (never, if None) and
    wakes on a request."""

    def __init__(self, clock: FakeClock, after_s: float | None = 3630.0, asleep_a: float = 1e-4):
        self.clock, self.after_s, self.asleep_a = clock, after_s, asleep_a
        self.last = 0.0

    def read_status(self) -> None:
        self.last = self.clock.now()

    def draw(self) -> float:
        asleep = self.after_s is not None and self.clock.now() - self.last >= self.after_s
        return self.asleep_a if asleep else 0.015


def station(board: Board, band: Accuracy) -> SimpleNamespace:
    """A battery simulator carrying the pack: the draw read there, with `band`."""
    pack = SimpleNamespace(
        name="pack",
        measure_current=board.draw,
        accuracy=lambda quantity, amps: band,
    )
    cells = SimpleNamespace(positions=[1])
    return SimpleNamespace(
        cells=cells, pack=pack, config=SimpleNamespace(wiring=SimpleNamespace(pack="pack:1"))
    )


class Record:
    def __init__(self) -> None:
        self.taken: dict[str, Measurement] = {}

    def __call__(self, name: str, value: float | None, unit: str, **kw: object) -> Measurement:
        m = Measurement(test="t", name=name, value=value, unit=unit, decision_rule="guarded", **kw)
        self.taken[name] = m
        return m

    def waveform(self, waveform: object) -> str:
        return "waveforms/x.json"


@pytest.fixture(scope="module")
def spec():
    spec = load_spec(REPO / DEFAULT_SPEC)
    # a request wakes it (a charger on P+ needs a power path: the e2e runs cover it)
    standby = spec.standby.model_copy(update={"wakes_on": ["communication"]})
    return spec.model_copy(update={"standby": standby})


def run(spec, band: Accuracy, **board: object) -> dict[str, Measurement]:
    clock = FakeClock()
    bms = Board(clock, **board)  # type: ignore[arg-type]
    record = Record()
    _standby.standby_and_sleep(station(bms, band), bms, clock, spec, record)  # type: ignore[arg-type]
    return record.taken


def test_a_reading_is_asleep_or_awake_only_with_its_whole_band_on_that_side():
    assert _standby.side(0.0001, N6781A, LEVEL) == "asleep"
    assert _standby.side(0.0001, N83624, LEVEL) == "asleep"  # 0.1 + 5.8 mA < 7.6 mA
    assert _standby.side(0.0150, N83624, LEVEL) == "awake"  # 15 - 5.8 mA >= 7.6 mA
    assert _standby.side(0.0070, N83624, LEVEL) == "either"
    assert _standby.side(0.0070, N6781A, LEVEL) == "asleep"
    assert _standby.side(0.0001, RP7952A, LEVEL) == "either"  # 0.1 + 35 mA
    assert _standby.side(0.0150, RP7952A, LEVEL) == "either"


@pytest.mark.parametrize("band", [N6781A, N83624], ids=["N6781A", "N83624"])
def test_a_meter_that_tells_the_two_draws_apart_times_the_fall(spec, band):
    taken = run(spec, band)
    sleep = taken["standby_time_to_sleep"]
    assert sleep.verdict is Verdict.PASS and sleep.bracket is not None
    assert sleep.bracket[0] <= 3630 <= sleep.bracket[1] and sleep.context["fell"] == "asleep"
    assert taken["standby_wakes_on_communication"].verdict is Verdict.PASS


def test_a_meter_that_cannot_tell_them_apart_leaves_the_fall_conditional(spec):
    """±35 mA against a 7.6 mA level: no reading shows the BMS asleep, or awake."""
    taken = run(spec, RP7952A)
    sleep = taken["standby_time_to_sleep"]
    assert sleep.verdict is Verdict.CONDITIONAL, (sleep.value, sleep.uncertainty)
    assert sleep.context["fell"] == "either" and "cannot tell the BMS asleep" in sleep.note
    assert sleep.bracket is not None and sleep.bracket[0] == 0.0  # no poll showed it awake
    assert taken["standby_wakes_on_communication"].verdict is Verdict.CONDITIONAL


def test_a_board_that_never_sleeps_fails_where_the_meter_sees_it_and_only_there(spec):
    seen = run(spec, N83624, after_s=None)["standby_time_to_sleep"]
    assert seen.verdict is Verdict.FAIL and seen.value is None
    unseen = run(spec, RP7952A, after_s=None)["standby_time_to_sleep"]
    assert unseen.verdict is Verdict.CONDITIONAL  # not a false FAIL either


def test_a_sleep_draw_within_the_band_of_the_level_is_not_taken_for_asleep(spec):
    """7 mA asleep: below the 7.6 mA level, but the N83624's band reaches across it."""
    fine = run(spec, N6781A, asleep_a=0.007)
    assert fine["standby_time_to_sleep"].verdict is Verdict.PASS
    coarse = run(spec, N83624, asleep_a=0.007)["standby_time_to_sleep"]
    assert coarse.verdict is Verdict.CONDITIONAL
    # awake until 3600 s, as its readings showed; the fall after it, the watch's end
    assert coarse.bracket is not None and 3500 < coarse.bracket[0] <= 3630
