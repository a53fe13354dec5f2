"""Byte-level protocol of the Rigol DL3021 driver."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.errors import IdentityError, InstrumentError, InstrumentReplyError
from instruments.loads.rigol_dl3021 import RigolDL3021
from instruments.roles import ElectronicLoad

OK = ("SYST:ERR?", '+0,"No error"')
IDN = "RIGOL TECHNOLOGIES,DL3021,DL3A204800123,00.01.05.00.01"


def test_is_an_electronic_load():
    with expected_protocol(RigolDL3021, []) as load:
        assert isinstance(load, ElectronicLoad)


def test_check_identity():
    with expected_protocol(RigolDL3021, [("*IDN?", IDN)]) as load:
        assert load.check_identity().serial == "DL3A204800123"


def test_check_identity_wrong_vendor():
    with (
        expected_protocol(RigolDL3021, [("*IDN?", "Siglent Technologies,DL3021,X,1")]) as load,
        pytest.raises(IdentityError),
    ):
        load.check_identity()


def test_set_constant_current_selects_cc_then_level():
    pairs = [(":SOUR:FUNC CURR", None), OK, (":SOUR:CURR:LEV:IMM 2.5", None), OK]
    with expected_protocol(RigolDL3021, pairs) as load:
        load.set_constant_current(2.5)


@pytest.mark.parametrize(("on", "word"), [(True, "ON"), (False, "OFF")])
def test_set_input(on, word):
    with expected_protocol(RigolDL3021, [(f":SOUR:INP:STAT {word}", None), OK]) as load:
        load.set_input(on)


@pytest.mark.parametrize(("reply", "state"), [("1", True), ("0", False), ("ON", True)])
def test_input_enabled(reply, state):
    with expected_protocol(RigolDL3021, [(":SOUR:INP:STAT?", reply)]) as load:
        assert load.input_enabled() is state


def test_measurements():
    pairs = [(":MEAS:VOLT?", "51.2034"), (":MEAS:CURR?", "2.5001"), (":MEAS:POW?", "128.01")]
    with expected_protocol(RigolDL3021, pairs) as load:
        assert load.measure_voltage() == pytest.approx(51.2034)
        assert load.measure_current() == pytest.approx(2.5001)
        assert load.power == pytest.approx(128.01)


@pytest.mark.parametrize("reply", ["CC", "CURR", "curr"])
def test_mode_query_accepts_both_spellings(reply):
    with expected_protocol(RigolDL3021, [(":SOUR:FUNC?", reply), (":SOUR:FUNC?", reply)]) as load:
        assert load.function == "CC"
        assert load.mode() == "CC"


def test_mode_query_garbage():
    with (
        expected_protocol(RigolDL3021, [(":SOUR:FUNC?", "XX")]) as load,
        pytest.raises(InstrumentReplyError),
    ):
        _ = load.function


def test_range_error_from_instrument_raises():
    pairs = [
        (":SOUR:FUNC CURR", None),
        OK,
        (":SOUR:CURR:LEV:IMM 39", None),
        ("SYST:ERR?", '-222,"Data out of range"'),
        OK,
    ]
    with expected_protocol(RigolDL3021, pairs) as load, pytest.raises(InstrumentError) as err:
        load.set_constant_current(39)
    assert err.value.errors == [(-222, "Data out of range")]
    assert err.value.last_command == ":SOUR:CURR:LEV:IMM 39"


@pytest.mark.parametrize("amps", [40.01, -1])
def test_refused_before_any_byte(amps):
    with expected_protocol(RigolDL3021, []) as load, pytest.raises(ValueError):
        load.set_constant_current(amps)


def test_malformed_error_queue_reply():
    with (
        expected_protocol(RigolDL3021, [("SYST:ERR?", "what")]) as load,
        pytest.raises(InstrumentReplyError, match="SYST:ERR"),
    ):
        load.raise_errors()


def test_raise_errors_quiet_when_empty():
    with expected_protocol(RigolDL3021, [OK]) as load:
        load.raise_errors()
