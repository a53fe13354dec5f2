"""Byte-level protocol of the Keysight E36312A driver (PyMeasure's table + the rig's checks)."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.errors import InstrumentError
from instruments.power_supplies.keysight_e36312a import KeysightE36312A
from instruments.roles import ProtectedSupply

OK = ("SYST:ERR?", '+0,"No error"')


def test_is_a_protected_supply():
    with expected_protocol(KeysightE36312A, []) as psu:
        assert isinstance(psu, ProtectedSupply)
        assert psu.channel_count == 3


@pytest.mark.parametrize(
    ("call", "pairs"),
    [
        (lambda p: p.set_voltage(1, 5.5), [("VOLT 5.5, (@1)", None), OK]),
        (lambda p: p.set_voltage(3, 24), [("VOLT 24, (@3)", None), OK]),
        (lambda p: p.set_current_limit(1, 4.5), [("CURR 4.5, (@1)", None), OK]),
        (lambda p: p.set_current_limit(2, 0.5), [("CURR 0.5, (@2)", None), OK]),
        (lambda p: p.set_output(2, True), [("OUTPut 1, (@2)", None), OK]),
        (lambda p: p.set_output(1, False), [("OUTPut 0, (@1)", None), OK]),
        (lambda p: p.set_ovp(1, 6.2), [("VOLT:PROT 6.2,(@1)", None), OK]),
        (lambda p: p.set_ovp(2, 26), [("VOLT:PROT 26,(@2)", None), OK]),
        (lambda p: p.set_ocp(3, True), [("CURR:PROT:STAT 1,(@3)", None), OK]),
        (lambda p: p.clear_protection(2), [("OUTP:PROT:CLE (@2)", None), OK]),
    ],
)
def test_settings(call, pairs):
    with expected_protocol(KeysightE36312A, pairs) as psu:
        call(psu)


def test_queries():
    pairs = [
        ("OUTPut? (@2)", "1"),
        ("MEASure:VOLTage? (@2)", "+1.20000000E+01"),
        ("MEAS:CURRent? (@2)", "+2.50000000E-01"),
        ("VOLT:PROT:TRIP? (@1)", "0"),
        ("CURR:PROT:TRIP? (@1)", "1"),
    ]
    with expected_protocol(KeysightE36312A, pairs) as psu:
        assert psu.output_enabled(2) is True
        assert psu.measure_voltage(2) == 12.0
        assert psu.measure_current(2) == 0.25
        assert psu.protection_tripped(1) is True


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.set_voltage(1, 6.01),  # output 1 is the 6 V one
        lambda p: p.set_voltage(2, 25.1),
        lambda p: p.set_voltage(2, -0.1),
        lambda p: p.set_current_limit(2, 1.01),  # outputs 2-3 are 1 A
        lambda p: p.set_current_limit(1, 5.1),
        lambda p: p.set_ovp(1, 7.0),
        lambda p: p.set_ovp(3, 28.0),
        lambda p: p.set_voltage(4, 1.0),
    ],
)
def test_out_of_range_refused_before_sending(call):
    with expected_protocol(KeysightE36312A, []) as psu, pytest.raises(ValueError):
        call(psu)


def test_refused_setting_raises_with_the_command():
    pairs = [("VOLT 5, (@1)", None), ("SYST:ERR?", '-221,"Settings conflict"'), OK]
    with expected_protocol(KeysightE36312A, pairs) as psu, pytest.raises(InstrumentError) as err:
        psu.set_voltage(1, 5)
    assert err.value.last_command == "VOLT 5, (@1)"
