"""Byte-level protocol of the switch mainframes: Keysight DAQ970A and Rigol M300."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.errors import InstrumentError, InstrumentReplyError
from instruments.roles import Switch
from instruments.switches.keysight_daq970a import KeysightDAQ970A
from instruments.switches.rigol_m300 import RigolM300

OK = ("SYST:ERR?", '+0,"No error"')


@pytest.mark.parametrize("cls", [KeysightDAQ970A, RigolM300])
def test_close_open_and_read_state(cls):
    pairs = [
        ("ROUT:CLOS (@101,305)", None),
        OK,
        ("ROUT:OPEN (@101)", None),
        OK,
        ("ROUT:CLOS? (@101,305)", "0,1"),
    ]
    with expected_protocol(cls, pairs) as sw:
        assert isinstance(sw, Switch)
        sw.close([101, 305])
        sw.open([101])
        assert sw.closed([101, 305]) == [False, True]


def test_module_type():
    pairs = [("SYST:CTYP? 300", "Keysight Technologies,DAQM903A,0,1.0")]
    with expected_protocol(KeysightDAQ970A, pairs) as daq:
        assert daq.module_type(3) == "DAQM903A"


@pytest.mark.parametrize(
    ("cls", "channel"),
    [(KeysightDAQ970A, 401), (KeysightDAQ970A, 141), (RigolM300, 601), (KeysightDAQ970A, 7)],
)
def test_impossible_channel_refused_before_any_byte(cls, channel):
    with expected_protocol(cls, []) as sw, pytest.raises(ValueError, match="slot"):
        sw.close([channel])


def test_garbled_state_reply_and_instrument_error():
    pairs = [
        ("ROUT:CLOS? (@101,102)", "1"),
        ("ROUT:CLOS (@120)", None),
        ("SYST:ERR?", '-222,"Data out of range"'),
        OK,
    ]
    with expected_protocol(KeysightDAQ970A, pairs) as daq:
        with pytest.raises(InstrumentReplyError, match="2 fields"):
            daq.closed([101, 102])
        with pytest.raises(InstrumentError) as err:
            daq.close([120])
    assert err.value.last_command == "ROUT:CLOS (@120)"


def test_read_digital_port():
    pairs = [("DIG:DATA:BYTE? (@201)", "+5"), ("DIG:DATA:BYTE? (@202)", "300")]
    with expected_protocol(KeysightDAQ970A, pairs) as daq:
        assert daq.read_digital(201) == 5
        with pytest.raises(InstrumentReplyError, match="0-255"):
            daq.read_digital(202)


def test_daq970a_dmm_through_its_multiplexer():
    """4-wire ohms and a thermocouple on DAQM901A channels; an open input is inf."""
    pairs = [
        ("MEAS:FRES? (@201)", "+1.00012300E+04"),
        OK,
        ("MEAS:FRES? (@202)", "+9.90000000E+37"),
        OK,
        ("MEAS:TEMP? TC,K,(@203)", "+2.51200000E+01"),
        OK,
    ]
    with expected_protocol(KeysightDAQ970A, pairs) as daq:
        assert daq.measure_resistance_4w(201) == pytest.approx(10001.23)
        assert daq.measure_resistance_4w(202) == float("inf")
        assert daq.measure_thermocouple(203) == pytest.approx(25.12)
    band = KeysightDAQ970A.ACCURACY["resistance_meas"][2]
    assert band.limit(10_000.0) == pytest.approx(1.1)  # 0.010 % + 0.001 % of 10 kOhm


def test_daq970a_dmm_refuses_a_garbled_reading_and_an_unknown_thermocouple():
    garbled = [("MEAS:FRES? (@201)", "overload")]
    with expected_protocol(KeysightDAQ970A, garbled) as daq, pytest.raises(InstrumentReplyError):
        daq.measure_resistance_4w(201)
    with expected_protocol(KeysightDAQ970A, []) as daq, pytest.raises(ValueError):
        daq.measure_thermocouple(203, "Q")
