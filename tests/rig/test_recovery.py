"""The recovery procedure against a toy board: released, power-cycled, or not recovered.

The toy answers only when powered and booted (`boot_s` after power comes back), latches
when told, and counts the questions it could not answer: on a bench each of those costs
the link's whole timeout in wall time, so the procedure must not ask a booting board.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dut_drivers.errors import BmsTimeout
from rig.config import load_spec
from rig.recovery import recover

SPEC = load_spec(Path(__file__).resolve().parents[2] / "specs" / "jbd-16s-lfp.yaml")


class Clock:
    virtual = True

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, dt: float) -> None:
        self.t += dt


@dataclass
class Status:
    charge_fet: bool
    discharge_fet: bool
    protections: frozenset


class Board:
    def __init__(self, clock: Clock, latched: bool, boot_s: float = 0.5):
        self.clock, self.latched, self.boot_s = clock, latched, boot_s
        self.powered_at: float | None = 0.0
        self.unanswered = 0
        self.questions = 0

    # the station: cells off cuts the board's supply, the safe state restores it
    def off(self) -> None:
        self.powered_at = None

    def make_safe(self) -> None:
        if self.powered_at is None:
            self.powered_at = self.clock.now()
            self.latched = False  # a reboot clears a latch

    def read_status(self) -> Status:
        self.questions += 1
        if self.powered_at is None or self.clock.now() - self.powered_at < self.boot_s:
            self.unanswered += 1
            raise BmsTimeout("no reply")
        on = not self.latched
        return Status(on, on, frozenset() if on else frozenset({"cell_ov"}))


class Station:
    can_power_off_dut = True

    def __init__(self, board: Board):
        self.cells = board

    def power_off_dut(self) -> bool:
        self.cells.off()
        return True


def test_a_ready_board_is_ready_at_once():
    clock = Clock()
    board = Board(clock, latched=False)
    result = recover(Station(board), board, clock, SPEC, board.make_safe)
    assert result.ready and result.method == "ready" and board.questions == 1


def test_a_latched_board_is_power_cycled_and_not_asked_while_it_boots():
    clock = Clock()
    board = Board(clock, latched=True)
    result = recover(Station(board), board, clock, SPEC, board.make_safe)
    assert result.ready and result.method == "power_cycle"
    assert board.unanswered == 0, "asked a board still booting"


def test_a_board_that_never_answers_is_not_recovered():
    clock = Clock()
    board = Board(clock, latched=True, boot_s=1e9)
    result = recover(Station(board), board, clock, SPEC, board.make_safe)
    assert not result.ready and result.method == "failed"
    assert result.status.startswith("no valid reply")


class Module(Station):
    """A bench on a real module: nothing carries the board's supply."""

    can_power_off_dut = False

    def power_off_dut(self) -> bool:
        raise AssertionError("a module cannot be switched off")


class Releasing(Board):
    """A board whose protection releases by its own rule `release_s` after the start."""

    def __init__(self, clock: Clock, release_s: float):
        super().__init__(clock, latched=True)
        self.release_s = release_s

    def read_status(self) -> Status:
        if self.clock.now() >= self.release_s:
            self.latched = False
        return super().read_status()


def test_a_bench_that_cannot_power_cycle_waits_out_the_stated_release_delays():
    """The spec's OC levels release 30-34 s after their trip: past the 10 s timeout."""
    clock = Clock()
    board = Releasing(clock, release_s=33.0)
    result = recover(Module(board), board, clock, SPEC, board.make_safe)
    assert result.ready and result.method == "release" and 33.0 <= clock.t < 34.5
    # a protection that never releases is still not recovered, after that long
    clock = Clock()
    stuck = Board(clock, latched=True)
    result = recover(Module(stuck), stuck, clock, SPEC, stuck.make_safe)
    assert not result.ready and result.method == "failed" and clock.t >= 35.0
