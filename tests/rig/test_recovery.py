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


def test_the_module_bench_power_cycles_a_stuck_board_through_its_supply_relay():
    """On the module bench (a real module powers the board) a protection that never
    releases is cleared by the relay in the board's supply feed: the recovery cuts it
    through the DAQ970A twin, the board reboots and answers ready."""
    from rig.config import load_station
    from rig.recovery import dut_state
    from rig.safety import SafetyManager
    from rig.station import Station
    from rig.station.station import open_dut
    from simlab.lab import Lab

    module = Path(__file__).resolve().parents[2] / "stations" / "sim-16s-module.yaml"
    config = load_station(module)
    with Lab.from_station_file(module) as lab:
        station = Station.open(config, SafetyManager(), lab.endpoints)
        dut = open_dut(config, lab.endpoints)
        try:
            clock = LabClock(lab)
            station.make_safe("start")
            clock.sleep(1.0)
            assert dut_state(dut)[0]
            lab.add_defect("release_blocked")  # charge_ot never releases once tripped
            fw = lab.world.firmware
            next(p for p in fw.protections if p.row.name == "charge_ot").state.active = True
            clock.sleep(1.0)
            assert not dut_state(dut)[0] and lab.world.bench.charge_fet is False
            result = recover(station, dut, clock, SPEC, lambda: station.make_safe("recovery"))
            assert result.ready and result.method == "power_cycle", result
            assert not lab.hardware["daq"].relays[102].closed  # the supply is back on
            assert [e["kind"] for e in fw.events if e["kind"] == "power_off"] == ["power_off"]
        finally:
            dut.close()
            station.make_safe("end")
            station.close()


class LabClock(Clock):
    """Virtual time of an in-process lab: sleeping advances it."""

    def __init__(self, lab) -> None:
        self.lab = lab

    def now(self) -> float:
        return self.lab.world.t

    def sleep(self, dt: float) -> None:
        self.lab.advance(dt)
