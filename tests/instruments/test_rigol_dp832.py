"""Byte-level protocol of the Rigol DP832 driver."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.power_supplies.rigol_dp832 import RigolDP832
from instruments.roles import ProtectedSupply

OK = ("SYST:ERR?", '0,"No error"')
IDN = "RIGOL TECHNOLOGIES,DP832,DP8C180100000,00.01.14"


def test_identity_and_role():
    with expected_protocol(RigolDP832, [("*IDN?", IDN)]) as psu:
        assert psu.check_identity().serial == "DP8C180100000"
        assert isinstance(psu, ProtectedSupply)


@pytest.mark.parametrize(
    ("call", "pairs"),
    [
        (lambda p: p.set_voltage(1, 12.5), [(":SOUR1:VOLT 12.5", None), OK]),
        (lambda p: p.set_voltage(3, 3.3), [(":SOUR3:VOLT 3.3", None), OK]),
        (lambda p: p.set_current_limit(2, 1.25), [(":SOUR2:CURR 1.25", None), OK]),
        (lambda p: p.set_output(1, True), [(":OUTP CH1,ON", None), OK]),
        (lambda p: p.set_output(3, False), [(":OUTP CH3,OFF", None), OK]),
        (lambda p: p.set_ovp(1, 8.8), [(":OUTP:OVP:VAL CH1,8.8", None), OK]),
        (lambda p: p.set_ocp(2, True), [(":OUTP:OCP CH2,ON", None), OK]),
        (lambda p: p.set_ocp_level(2, 2.5), [(":OUTP:OCP:VAL CH2,2.5", None), OK]),
        (
            lambda p: p.clear_protection(1),
            [(":OUTP:OVP:CLEAR CH1", None), OK, (":OUTP:OCP:CLEAR CH1", None), OK],
        ),
    ],
)
def test_settings(call, pairs):
    with expected_protocol(RigolDP832, pairs) as psu:
        call(psu)


def test_queries():
    pairs = [
        (":OUTP? CH2", "ON"),
        (":OUTP? CH3", "OFF"),
        (":MEAS:VOLT? CH2", "12.500"),
        (":MEAS:CURR? CH2", "0.2500"),
        (":MEAS:POWE? CH2", "3.125"),
        (":OUTP:OVP:QUES? CH1", "NO"),
        (":OUTP:OCP:QUES? CH1", "YES"),
    ]
    with expected_protocol(RigolDP832, pairs) as psu:
        assert psu.output_enabled(2) is True
        assert psu.output_enabled(3) is False
        assert psu.measure_voltage(2) == 12.5
        assert psu.measure_current(2) == 0.25
        assert psu.measure_power(2) == 3.125
        assert psu.protection_tripped(1) is True


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.set_voltage(1, 32.1),
        lambda p: p.set_voltage(3, 5.4),  # CH3 is the 5 V output
        lambda p: p.set_current_limit(1, 3.3),
        lambda p: p.set_ovp(3, 6.0),
        lambda p: p.set_ocp_level(1, 3.4),
        lambda p: p.set_output(4, True),
    ],
)
def test_out_of_range_refused_before_sending(call):
    with expected_protocol(RigolDP832, []) as psu, pytest.raises(ValueError):
        call(psu)
