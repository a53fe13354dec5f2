"""Byte-level protocol of the Keysight E36234A driver."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.errors import (
    IdentityError,
    InstrumentError,
    InstrumentReplyError,
)
from instruments.power_supplies.keysight_e36234a import KeysightE36234A
from instruments.roles import PowerSupply

OK = ("SYST:ERR?", '+0,"No error"')
IDN = "Keysight Technologies,E36234A,MY59001234,1.0.4-1.0.0-1.02"


def test_is_a_power_supply():
    with expected_protocol(KeysightE36234A, []) as psu:
        assert isinstance(psu, PowerSupply)
        assert psu.channel_count == 2


def test_identity_and_check_pass():
    with expected_protocol(KeysightE36234A, [("*IDN?", IDN), ("*IDN?", IDN.upper())]) as psu:
        ident = psu.identity()
        assert (ident.vendor, ident.model, ident.serial) == (
            "Keysight Technologies",
            "E36234A",
            "MY59001234",
        )
        assert psu.check_identity().model == "E36234A"  # vendor/model case-insensitive


def test_agilent_vendor_accepted():
    with expected_protocol(KeysightE36234A, [("*IDN?", "Agilent Technologies,E36234A,X,1")]) as psu:
        psu.check_identity()


def test_check_identity_wrong_model():
    reply = "Keysight Technologies,E36312A,MY1,2.0"
    with (
        expected_protocol(KeysightE36234A, [("*IDN?", reply)]) as psu,
        pytest.raises(IdentityError, match="E36312A"),
    ):
        psu.check_identity()


def test_identity_not_four_fields():
    with (
        expected_protocol(KeysightE36234A, [("*IDN?", "Keysight,E36234A")]) as psu,
        pytest.raises(InstrumentReplyError, match="4 comma-separated"),
    ):
        psu.identity()


@pytest.mark.parametrize(
    ("call", "pairs"),
    [
        (lambda p: p.set_voltage(1, 12.5), [("VOLT 12.5,(@1)", None), OK]),
        (lambda p: p.set_voltage(2, 61.8), [("VOLT 61.8,(@2)", None), OK]),
        (lambda p: p.set_current_limit(2, 3), [("CURR 3,(@2)", None), OK]),
        (lambda p: p.set_current_limit(1, 0.25), [("CURR 0.25,(@1)", None), OK]),
        (lambda p: p.set_output(1, True), [("OUTP 1,(@1)", None), OK]),
        (lambda p: p.set_output(2, False), [("OUTP 0,(@2)", None), OK]),
    ],
)
def test_setpoints(call, pairs):
    with expected_protocol(KeysightE36234A, pairs) as psu:
        call(psu)


def test_queries():
    pairs = [
        ("OUTP? (@1)", "1"),
        ("OUTP? (@2)", "0"),
        ("MEAS:VOLT? (@1)", "+1.23450000E+01"),
        ("MEAS:CURR? (@2)", "-1.5E-03"),
        ("VOLT? (@1)", "12.5"),
        ("CURR? (@2)", "3"),
    ]
    with expected_protocol(KeysightE36234A, pairs) as psu:
        assert psu.output_enabled(1) is True
        assert psu.output_enabled(2) is False
        assert psu.measure_voltage(1) == pytest.approx(12.345)
        assert psu.measure_current(2) == pytest.approx(-0.0015)
        assert psu.ch_1.voltage_setpoint == 12.5
        assert psu.ch_2.current_limit == 3


def test_range_error_from_instrument_raises():
    pairs = [
        ("VOLT 12,(@1)", None),
        ("SYST:ERR?", '-222,"Data out of range"'),
        ("SYST:ERR?", '-221,"Settings conflict"'),
        OK,
    ]
    with expected_protocol(KeysightE36234A, pairs) as psu, pytest.raises(InstrumentError) as err:
        psu.set_voltage(1, 12)
    assert err.value.errors == [(-222, "Data out of range"), (-221, "Settings conflict")]
    assert err.value.last_command == "VOLT 12,(@1)"


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.set_voltage(1, 62),
        lambda p: p.set_voltage(1, -0.1),
        lambda p: p.set_current_limit(2, 10.4),
        lambda p: p.set_voltage(3, 5),
        lambda p: p.set_output(0, True),
    ],
)
def test_refused_before_any_byte(call):
    with expected_protocol(KeysightE36234A, []) as psu, pytest.raises(ValueError):
        call(psu)


@pytest.mark.parametrize("reply", ["", "abc", "1.0,garbage"])
def test_garbled_numeric_reply(reply):
    with (
        expected_protocol(KeysightE36234A, [("MEAS:VOLT? (@1)", reply)]) as psu,
        pytest.raises(InstrumentReplyError, match=r"MEAS:VOLT\? \(@1\)"),
    ):
        psu.measure_voltage(1)


def test_garbled_boolean_reply():
    with (
        expected_protocol(KeysightE36234A, [("OUTP? (@1)", "2")]) as psu,
        pytest.raises(InstrumentReplyError),
    ):
        psu.output_enabled(1)


def test_transcript_records_both_directions():
    transcript: list[dict] = []
    pairs = [("VOLT 5,(@1)", None), OK]
    with expected_protocol(KeysightE36234A, pairs, transcript=transcript) as psu:
        psu.set_voltage(1, 5)
    assert [(e["dir"], e["data"]) for e in transcript] == [
        ("tx", "VOLT 5,(@1)"),
        ("tx", "SYST:ERR?"),
        ("rx", '+0,"No error"'),
    ]
    assert transcript[0]["t"] <= transcript[-1]["t"]
