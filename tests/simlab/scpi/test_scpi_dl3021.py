"""Rigol DL3021 twin: modes, levels per mode, input state, measurements."""

from __future__ import annotations

import pytest

from simlab.hardware import InstrumentHardware
from simlab.scpi.bench import Bench


def test_identity(dl3021: Bench) -> None:
    assert dl3021.ask("*IDN?") == "RIGOL TECHNOLOGIES,DL3021,DL3A000000001,00.01.05.00.01"


@pytest.mark.parametrize(
    ("word", "mode"),
    [
        ("CURR", "CC"),
        ("CURRent", "CC"),
        ("VOLT", "CV"),
        ("RES", "CR"),
        ("resistance", "CR"),
        ("POW", "CP"),
        ("POWER", "CP"),
    ],
)
def test_function(dl3021: Bench, word: str, mode: str) -> None:
    dl3021.ask(f":SOUR:FUNC {word}")
    assert dl3021.hardware.loads[1].mode == mode
    assert dl3021.ask(":SOUR:FUNC?") == mode
    assert dl3021.ask("FUNC?") == mode


def test_bad_function_word(dl3021: Bench) -> None:
    dl3021.ask(":SOUR:FUNC LED;:SOUR:FUNC 3")
    assert dl3021.errors() == [-224, -104]
    assert dl3021.ask(":SOUR:FUNC?") == "CC"


def test_levels(dl3021: Bench) -> None:
    load = dl3021.hardware.loads[1]
    dl3021.ask(":SOUR:CURR:LEV:IMM 2.5;:SOUR:VOLT:LEV 12;:SOUR:RES:LEV 4.7;:SOUR:POW:LEV 50")
    assert (load.current_set, load.voltage_set, load.resistance_set, load.power_set) == (
        2.5,
        12.0,
        4.7,
        50.0,
    )
    assert dl3021.ask(":SOUR:CURR:LEV:IMM?") == "2.500000"
    assert dl3021.ask("CURR?;VOLT?;RES?;POW?") == "2.500000;12.000000;4.700000;50.000000"
    assert dl3021.ask(":SOUR:CURR? MAX") == "40.000000"
    assert dl3021.errors() == []


@pytest.mark.parametrize(
    "command",
    [
        ":SOUR:CURR 40.1",
        ":SOUR:CURR -1",
        ":SOUR:VOLT 151",
        ":SOUR:RES 0.01",
        ":SOUR:RES 20000",
        ":SOUR:POW 201",
    ],
)
def test_range_errors_leave_state_unchanged(dl3021: Bench, command: str) -> None:
    load = dl3021.hardware.loads[1]
    before = (load.current_set, load.voltage_set, load.resistance_set, load.power_set)
    dl3021.ask(command)
    assert dl3021.errors() == [-222]
    assert (load.current_set, load.voltage_set, load.resistance_set, load.power_set) == before


def test_input_state(dl3021: Bench) -> None:
    load = dl3021.hardware.loads[1]
    dl3021.ask(":SOUR:INP:STAT ON")
    assert load.input_on and dl3021.ask(":SOUR:INP:STAT?") == "1"
    dl3021.ask(":INP OFF")
    assert not load.input_on and dl3021.ask(":INP:STAT?") == "0"
    dl3021.ask(":INP:STAT 1")
    assert load.input_on
    dl3021.ask(":INP")
    assert dl3021.errors() == [-109]


def test_measurements_call_solve(dl3021: Bench) -> None:
    def physics(hw: InstrumentHardware) -> None:
        load = hw.loads[1]
        load.voltage_meas = 12.0
        load.current_meas = load.current_set if load.input_on else 0.0

    dl3021.on_solve = physics
    assert dl3021.ask(":MEAS:RES?") == "9.900000E+37"  # no current: open circuit
    dl3021.ask(":SOUR:CURR 2;:SOUR:INP ON")
    n = len(dl3021.solves)
    assert dl3021.ask(":MEAS:VOLT?") == "12.000000"
    assert dl3021.ask(":MEAS:CURR:DC?") == "2.000000"
    assert dl3021.ask(":MEAS:POW?") == "24.000000"
    assert dl3021.ask(":MEAS:RES?") == "6.000000"
    assert len(dl3021.solves) == n + 4


def test_rst(dl3021: Bench) -> None:
    load = dl3021.hardware.loads[1]
    dl3021.ask(":SOUR:FUNC RES;:SOUR:RES 5;:SOUR:CURR 3;:SOUR:INP ON")
    dl3021.ask("*RST")
    assert (load.mode, load.input_on, load.current_set) == ("CC", False, 0.0)
    assert dl3021.ask("*ESR?") == "0"  # Rigol integers carry no sign


def test_undefined_and_channel_list(dl3021: Bench) -> None:
    dl3021.ask(":SOUR:CURR 1,(@1)")
    dl3021.ask(":SOUR:LIST:MODE CC")
    assert dl3021.errors() == [-108, -113]
