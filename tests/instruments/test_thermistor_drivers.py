"""Byte-level protocol of the thermistor emulators: Fluke 5522A and Powertek MC642."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.errors import InstrumentError, InstrumentReplyError
from instruments.roles import ResistanceSource
from instruments.thermistors.fluke_5522a import Fluke5522A
from instruments.thermistors.powertek_mc642 import PowertekMC642

FLUKE_OK = ("ERR?", '0,"No Error"')
SCPI_OK = ("SYST:ERR?", '+0,"No error"')


@pytest.mark.parametrize("cls", [Fluke5522A, PowertekMC642])
def test_is_a_resistance_source(cls):
    with expected_protocol(cls, []) as inst:
        assert isinstance(inst, ResistanceSource)
        assert inst.channel_count == 1


def test_fluke_sets_ohms_with_unit_and_checks_its_own_error_queue():
    pairs = [("OUT 10000 OHM", None), FLUKE_OK, ("OPER", None), FLUKE_OK, ("STBY", None), FLUKE_OK]
    with expected_protocol(Fluke5522A, pairs) as cal:
        cal.set_resistance(1, 10_000)
        cal.set_output(1, True)
        cal.set_output(1, False)


def test_fluke_reads_back_ohms_and_refuses_another_function():
    pairs = [
        ("OUT?", "4.846870E+03,OHM,0.000000E+00,0,0.000000E+00"),
        ("OPER?", "1"),
        ("OUT?", "1.000000E+00,V,0.000000E+00,0,0.000000E+00"),
    ]
    with expected_protocol(Fluke5522A, pairs) as cal:
        assert cal.resistance(1) == pytest.approx(4846.87)
        assert cal.output_enabled(1) is True
        with pytest.raises(InstrumentReplyError, match="not ohms"):
            cal.resistance(1)


def test_fluke_error_queue_is_err_query():
    pairs = [("ERR?", '-222,"Data out of range"'), FLUKE_OK]
    with expected_protocol(Fluke5522A, pairs) as cal, pytest.raises(InstrumentError) as err:
        cal.raise_errors()
    assert err.value.errors == [(-222, "Data out of range")]


def test_mc642_sets_and_reads_resistance_and_output():
    pairs = [
        ("RES 22000", None),
        SCPI_OK,
        ("OUTP ON", None),
        SCPI_OK,
        ("RES?", "2.200000E+04"),
        ("OUTP?", "1"),
    ]
    with expected_protocol(PowertekMC642, pairs) as box:
        box.set_resistance(1, 22_000)
        box.set_output(1, True)
        assert box.resistance(1) == 22_000
        assert box.output_enabled(1)


@pytest.mark.parametrize(
    ("cls", "ohms"), [(Fluke5522A, 1.2e9), (Fluke5522A, -1), (PowertekMC642, 1.1e7)]
)
def test_out_of_range_refused_before_any_byte(cls, ohms):
    with expected_protocol(cls, []) as inst, pytest.raises(ValueError):
        inst.set_resistance(1, ohms)


@pytest.mark.parametrize("cls", [Fluke5522A, PowertekMC642])
def test_only_channel_one(cls):
    with expected_protocol(cls, []) as inst, pytest.raises(ValueError, match="channel 1"):
        inst.set_resistance(2, 1000)


def test_accuracy_names_the_data_sheet_and_grows_with_range():
    with expected_protocol(Fluke5522A, []) as cal:
        low, high = cal.accuracy("resistance_set", 1e3), cal.accuracy("resistance_set", 1e8)
        assert "5522A" in low.source and "unconfirmed" in low.source
        assert high.limit(1e8) / 1e8 > low.limit(1e3) / 1e3
