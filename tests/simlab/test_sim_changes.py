"""A measurement answers the circuit as it is now, though it solves only after a change.

simlab's instruments skip the circuit solve before a measurement unless a change was
marked since the last solve (`simlab.changes`). Each kind of change a lab sees is made
here between two measurements, and the second must show it. The cases marked `token`
reach the solution only through that mark, and a second test runs them with marking
switched off to show the stale answer they would then give.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simlab import changes
from simlab.hardware import InstrumentHardware, LoadInput, SourceChannel
from simlab.lab import Lab
from simlab.physics import Bench
from simlab.scpi import MODELS
from simlab.scpi.bench import make_bench

STATION = Path(__file__).resolve().parents[2] / "stations" / "sim-16s.yaml"


def ask(lab: Lab, name: str, message: str) -> str | None:
    """A program message as the instrument's server runs it (under the lab lock)."""
    with lab.lock:
        return lab.devices[name].handle(message)


@pytest.fixture
def lab() -> Lab:
    """The sim station, not started (its devices answer in-process), every cell at 3.3 V;
    the BMS draws nothing of its own, so a cell's current is the pack's."""
    lab = Lab.from_station_file(STATION, sets={"firmware.board.active_current_a": 0.0})
    for sim in ("cellsim_a", "cellsim_b", "cellsim_c", "cellsim_d"):
        ask(lab, sim, "VOLT 3.3,(@1:4);CURR:LIM 3,(@1:4);OUTP ON,(@1:4)")
    return lab


@dataclass(frozen=True)
class Case:
    change: Callable[[Lab], Any]
    probe: tuple[str, str]  # instrument, measurement query
    expect: str
    setup: tuple[str, str] | None = None  # instrument, setting made before the first answer
    token: bool = True  # the path relies on the mark alone (nothing else solves)


def _scpi(name: str, message: str) -> Callable[[Lab], Any]:
    return lambda lab: ask(lab, name, message)


def _write_then_solve(lab: Lab) -> None:
    lab.hardware["cellsim_a"].sources[1].voltage_set = 3.5
    lab.world.solve()


def _reboot_cellsim_a(lab: Lab) -> None:
    lab.add_defect("scpi_reboot:instrument=cellsim_a,at_s=0")
    lab.advance(0.0)


def _cell_1_under_voltage_then_time(lab: Lab) -> None:
    ask(lab, "cellsim_a", "VOLT 2.4,(@1)")  # below cell_uv (2.5 V)
    lab.advance(3.0)  # past its 2 s delay: the BMS opens the discharge FET


CELL_V = ("cellsim_a", "MEAS:VOLT? (@1)")
CELL_I = ("cellsim_a", "MEAS:CURR? (@1)")  # the string's current: the pack seen by cell 1
LOAD_5A = ("load", "FUNC CURR;CURR 2.5;INP ON")  # within the N6781A's 3 A
CHARGE_2A = ("charger", "VOLT 56,(@1);CURR 2,(@1);OUTP ON,(@1)")
CASES = {
    "a setpoint": Case(_scpi("cellsim_a", "VOLT 3.4,(@1)"), CELL_V, "+3.400000E+00"),
    "an output turned off": Case(_scpi("cellsim_a", "OUTP OFF,(@1)"), CELL_V, "+0.000000E+00"),
    "another instrument: the load": Case(_scpi(*LOAD_5A), CELL_I, "+2.500000E+00"),
    "another instrument: the charger": Case(_scpi(*CHARGE_2A), CELL_I, "-2.000000E+00"),
    "a protection latch turning an output off": Case(
        _scpi("charger", "CURR:PROT:STAT ON,(@1)"),  # it is in current limit: OCP trips
        CELL_I,
        "+0.000000E+00",
        setup=CHARGE_2A,
    ),
    "a link fault: a runaway regulator": Case(
        lambda lab: lab.add_defect("scpi_runaway:instrument=cellsim_a,channel=1,volts=3.9"),
        CELL_V,
        "+3.900000E+00",
    ),
    "the safe state from simlab's side": Case(
        lambda lab: lab.make_safe(), CELL_I, "+0.000000E+00", setup=LOAD_5A, token=False
    ),
    "a direct write, then World.solve": Case(
        _write_then_solve, CELL_V, "+3.500000E+00", token=False
    ),
    "the host's FET control": Case(
        lambda lab: lab.world.fet_control(False, True),
        CELL_I,
        "+0.000000E+00",
        setup=LOAD_5A,
        token=False,
    ),
    "virtual time: the BMS trips": Case(
        _cell_1_under_voltage_then_time, CELL_I, "+0.000000E+00", setup=LOAD_5A, token=False
    ),
    "a physics parameter": Case(
        lambda lab: lab.set("physics.r_path_ohm", 1.0),
        CELL_I,
        "+2.640000E+00",  # 16 x 3.3 V / (19 ohm + 1 ohm)
        setup=("load", "FUNC RES;RES 19;INP ON"),
        token=False,
    ),
    "an instrument reboot": Case(_reboot_cellsim_a, CELL_V, "+0.000000E+00", token=False),
}


def _run(
    lab: Lab, case: Case, then: Callable[[], None] = lambda: None
) -> tuple[str | None, str | None]:
    """The probe's answer before and after the change (`then` runs between the first
    answer and the change)."""
    if case.setup is not None:
        ask(lab, *case.setup)
    before = ask(lab, *case.probe)
    then()
    case.change(lab)
    return before, ask(lab, *case.probe)


@pytest.mark.parametrize("name", CASES)
def test_a_measurement_after_a_change_answers_the_new_solution(lab, name):
    case = CASES[name]
    before, after = _run(lab, case)
    assert after == case.expect != before


def _no_marks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes, "touch", lambda: None)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.token])
def test_without_the_invalidation_the_same_measurement_would_be_stale(lab, monkeypatch, name):
    """What the test above guards against: with changes no longer marked, the
    measurement repeats the answer from before the change."""
    before, after = _run(lab, CASES[name], then=lambda: _no_marks(monkeypatch))
    assert after == before != CASES[name].expect


def test_queries_with_nothing_changed_between_them_do_not_solve_again(lab, monkeypatch):
    solves: list[float] = []
    bench = lab.world.bench
    solve = bench.solve
    monkeypatch.setattr(bench, "solve", lambda: solves.append(bench.t) or solve())
    queries = {
        "cellsim_a": ["MEAS:VOLT? (@1)", "MEAS:CURR? (@1:4)", "VOLT? (@1)", "*OPC?", "SYST:ERR?"],
        "cellsim_d": ["MEAS:VOLT? (@4)"],
        "charger": ["MEAS:VOLT? (@1)", "MEAS:CURR? (@1)"],
        "load": ["MEAS:CURR?", "MEAS:VOLT?"],
    }
    for _ in range(3):
        for name, messages in queries.items():
            for message in messages:
                ask(lab, name, message)
    assert solves == []
    ask(lab, "cellsim_b", "VOLT 3.31,(@2)")
    assert ask(lab, "cellsim_a", "MEAS:VOLT? (@1)") == "+3.300000E+00"
    assert ask(lab, "cellsim_b", "MEAS:VOLT? (@2)") == "+3.310000E+00"
    assert len(solves) == 1  # the setting's own solve; the measurements after reuse it


def test_lfp_cells_charged_by_time_alone_are_solved_again():
    """Unwired positions are LFP cells whose charge moves in `step`, which marks it."""
    charger = SourceChannel(voltage_set=15.0, current_limit=20.0, output_on=True)
    bench = Bench([None] * 4, charger, LoadInput())
    first = bench.refresh()
    assert bench.refresh() is first  # nothing written: the same solution
    bench.step(3600.0)  # 20 Ah into 100 Ah cells
    charged = bench.refresh()
    assert charged is not first and charged.cells_v != first.cells_v
    assert charged == bench.solve()


def _short_form(pattern: str) -> str:
    """``[SOURce:]VOLTage[:LEVel]?`` -> ``VOLT?``: required nodes, short mnemonics."""
    body = re.sub(r"\[[^\]]*\]", "", pattern.removesuffix("?")).replace("<n>", "1")
    nodes = (re.match(r"\*?[A-Z0-9]*", node).group(0) for node in body.split(":"))  # type: ignore[union-attr]
    return ":".join(nodes) + "?"


def _inputs(hw: InstrumentHardware) -> dict[str, Any]:
    """What the circuit reads from an instrument: everything but its meters."""
    meters = {"voltage_meas", "current_meas", "in_current_limit", "signal", "on_change", "trace"}
    return {
        f"{kind}{ch}.{k}": v
        for kind in ("sources", "loads", "resistors", "relays", "generators")
        for ch, obj in getattr(hw, kind).items()
        for k, v in vars(obj).items()
        if k not in meters
    }


@pytest.mark.parametrize("model", sorted(MODELS))
def test_no_query_of_any_model_writes_what_the_circuit_reads(model):
    """Only commands that are not queries mark a change (`ScpiDevice`), so a query must
    leave the hardware's setpoints alone: every query of every model is asked here, with
    and without a channel list, and none may move one."""
    bench = make_bench(model)
    hw = bench.hardware
    first = min(
        ch
        for kind in (hw.sources, hw.loads, hw.resistors, hw.relays, hw.inputs, hw.generators)
        for ch in kind
    )
    before = _inputs(hw)
    asked = 0
    for cmd in MODELS[model]._table:
        if not cmd.pattern.query:
            continue
        header = _short_form(cmd.pattern.text)
        for message in (header, f"{header} (@{first})", f"{header} MAX"):
            bench.ask(message)
            asked += 1
        assert _inputs(hw) == before, header
    assert asked > 30


def test_the_end_of_a_time_step_keeps_a_solution_only_while_nothing_it_reads_moved() -> None:
    """`Bench.settle` (what ends every `World.advance`) reuses the last solution, also
    past the shunt's warming; a marked change, or a short relay whose contacts time alone
    can close, solves again."""
    from tests.simlab.simworld import make_rig

    rig = make_rig()
    bench = rig.world.bench
    rig.world.solve()
    kept = bench.state
    assert bench.settle() is kept
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 56.0, 2.5, True
    assert bench.settle() is kept  # written without a mark or a solve: not seen (the contract)
    changes.touch()  # as a SCPI setting marks it
    charged = bench.settle()
    assert charged.charge_a == pytest.approx(2.5)
    marked = changes.token()
    bench.step(1.0)  # 2.5 A warms the shunt: a mark the circuit does not read
    assert changes.token() is not marked
    assert bench.settle() is charged and bench.refresh() is charged
    rig.short.closed = True  # commanded closed: the contacts meet after their delay
    assert bench.settle() is not charged
