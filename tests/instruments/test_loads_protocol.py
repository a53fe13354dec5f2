"""Byte-level protocol of the Siglent SDL1020X and Keysight EL34143A load drivers, and
the load role (modes, levels, slew, short) shared with the DL3021."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.loads.keysight_el34143a import KeysightEL34143A
from instruments.loads.rigol_dl3021 import RigolDL3021
from instruments.loads.siglent_sdl1020x import SiglentSDL1020X
from instruments.roles import ShortingLoad

OK = ("SYST:ERR?", '+0,"No error"')

SDL = [
    (
        lambda d: d.set_constant_current(2.5),
        [(":SOUR:FUNC CURR", None), OK, (":SOUR:CURR:LEV:IMM 2.5", None), OK],
    ),
    (
        lambda d: d.configure("CV", 12),
        [(":SOUR:FUNC VOLT", None), OK, (":SOUR:VOLT:LEV:IMM 12", None), OK],
    ),
    (
        lambda d: d.configure("CR", 4.7),
        [(":SOUR:FUNC RES", None), OK, (":SOUR:RES:LEV:IMM 4.7", None), OK],
    ),
    (
        lambda d: d.configure("CP", 150),
        [(":SOUR:FUNC POW", None), OK, (":SOUR:POW:LEV:IMM 150", None), OK],
    ),
    (lambda d: d.set_level("CC", 1), [(":SOUR:CURR:LEV:IMM 1", None), OK]),
    (lambda d: d.set_input(True), [(":SOUR:INP:STAT ON", None), OK]),
    (lambda d: d.set_short(True), [(":SOUR:SHOR:STAT ON", None), OK]),
    (
        lambda d: d.set_slew(0.5e6),
        [(":SOUR:CURR:SLEW:POS 0.5", None), OK, (":SOUR:CURR:SLEW:NEG 0.5", None), OK],
    ),
]
EL = [
    (
        lambda d: d.set_constant_current(2.5),
        [("FUNC CURR,(@1)", None), OK, ("CURR 2.5,(@1)", None), OK],
    ),
    (lambda d: d.configure("CV", 48), [("FUNC VOLT,(@1)", None), OK, ("VOLT 48,(@1)", None), OK]),
    (lambda d: d.configure("CR", 10), [("FUNC RES,(@1)", None), OK, ("RES 10,(@1)", None), OK]),
    (lambda d: d.configure("CP", 300), [("FUNC POW,(@1)", None), OK, ("POW 300,(@1)", None), OK]),
    (lambda d: d.set_input(False), [("INP 0,(@1)", None), OK]),
    (lambda d: d.set_short(True), [("INP:SHOR 1,(@1)", None), OK]),
    (lambda d: d.set_slew(1e5), [("CURR:SLEW 100000,(@1)", None), OK]),
]
DL = [
    (
        lambda d: d.configure("CP", 100),
        [(":SOUR:FUNC POW", None), OK, (":SOUR:POW:LEV:IMM 100", None), OK],
    ),
    (lambda d: d.set_short(False), [(":SOUR:SHOR:STAT OFF", None), OK]),
    (lambda d: d.set_slew(2.5e6), [(":SOUR:CURR:SLEW 2.5", None), OK]),
]


@pytest.mark.parametrize(
    ("cls", "call", "pairs"),
    [(SiglentSDL1020X, c, p) for c, p in SDL]
    + [(KeysightEL34143A, c, p) for c, p in EL]
    + [(RigolDL3021, c, p) for c, p in DL],
)
def test_settings(cls, call, pairs):
    with expected_protocol(cls, pairs) as load:
        assert isinstance(load, ShortingLoad)
        call(load)


def test_sdl_queries():
    pairs = [
        (":SOUR:FUNC?", "CURRENT"),
        (":SOUR:INP:STAT?", "1"),
        (":SOUR:SHOR:STAT?", "0"),
        ("MEAS:VOLT?", "48.012"),
        ("MEAS:CURR?", "2.500"),
        ("MEAS:POW?", "120.03"),
    ]
    with expected_protocol(SiglentSDL1020X, pairs) as load:
        assert load.mode() == "CC"
        assert load.input_enabled() is True
        assert load.short_enabled() is False
        assert (load.measure_voltage(), load.measure_current(), load.measure_power()) == (
            48.012,
            2.5,
            120.03,
        )


def test_el_queries():
    pairs = [
        ("FUNC? (@1)", "RES"),
        ("INP? (@1)", "0"),
        ("MEAS:VOLT? (@1)", "+4.80000000E+01"),
        ("MEAS:POW? (@1)", "+1.20000000E+02"),
    ]
    with expected_protocol(KeysightEL34143A, pairs) as load:
        assert load.mode() == "CR"
        assert load.input_enabled() is False
        assert load.measure_voltage() == 48.0
        assert load.measure_power() == 120.0


@pytest.mark.parametrize(
    ("cls", "call"),
    [
        (SiglentSDL1020X, lambda d: d.set_constant_current(30.5)),
        (SiglentSDL1020X, lambda d: d.configure("CR", 0.01)),
        (SiglentSDL1020X, lambda d: d.configure("CP", 201)),
        (SiglentSDL1020X, lambda d: d.set_slew(3e6)),
        (SiglentSDL1020X, lambda d: d.configure("LED", 1)),
        (KeysightEL34143A, lambda d: d.set_constant_current(61)),
        (KeysightEL34143A, lambda d: d.configure("CV", 151)),
        (KeysightEL34143A, lambda d: d.configure("CP", 351)),
        (KeysightEL34143A, lambda d: d.set_slew(100)),
        (RigolDL3021, lambda d: d.set_constant_current(-1)),
        (RigolDL3021, lambda d: d.set_level("CR", 0.05)),
    ],
)
def test_out_of_range_refused_before_sending(cls, call):
    """Nothing is sent, not even the mode change before the level."""
    with expected_protocol(cls, []) as load, pytest.raises(ValueError):
        call(load)
