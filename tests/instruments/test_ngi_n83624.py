"""Byte-level protocol of the NGI N83624 battery simulator driver."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.cell_emulators.ngi_n83624 import NgiN83624
from instruments.errors import InstrumentReplyError
from instruments.roles import PackEmulator

OK = ("SYST:ERR?", '+0,"No error"')
IDN = "NGI,N83624,0,V1.00"


def test_identity_and_role():
    with expected_protocol(NgiN83624, [("*IDN?", IDN)]) as cells:
        assert cells.check_identity().firmware == "V1.00"
        assert isinstance(cells, PackEmulator)
        assert cells.channel_count == 24


@pytest.mark.parametrize(
    ("call", "pairs"),
    [
        (lambda c: c.set_voltage(1, 3.3), [("SOUR1:VOLT 3.3", None), OK]),
        (lambda c: c.set_voltage(24, 4.2), [("SOUR24:VOLT 4.2", None), OK]),
        (lambda c: c.set_current_limit(5, 1.5), [("SOUR5:OUTCURR 1500", None), OK]),  # mA
        (lambda c: c.set_current_limit(5, 0.0125), [("SOUR5:OUTCURR 12.5", None), OK]),
        (lambda c: c.set_output(7, True), [("OUTP7:ONOFF 1", None), OK]),
        (lambda c: c.set_output(7, False), [("OUTP7:ONOFF 0", None), OK]),
        (lambda c: c.set_source_mode(2), [("OUTP2:MODE 0", None), OK]),
        (lambda c: c.set_voltages([1, 2, 3], 3.65), [("SOUR:VOLT 3.65(@1,2,3)", None), OK]),
    ],
)
def test_settings(call, pairs):
    with expected_protocol(NgiN83624, pairs) as cells:
        call(cells)


def test_queries_convert_milliamps():
    pairs = [
        ("OUTP3:ONOFF?", "1"),
        ("MEAS3:VOLT?", "3.2991"),
        ("MEAS3:CURR?", "-250"),  # mA, sinking
        ("MEAS:VOLT?(@1,2,3)", "3.3,3.31,3.29"),
    ]
    with expected_protocol(NgiN83624, pairs) as cells:
        assert cells.output_enabled(3) is True
        assert cells.measure_voltage(3) == pytest.approx(3.2991)
        assert cells.measure_current(3) == pytest.approx(-0.25)
        assert cells.measure_voltages([1, 2, 3]) == [3.3, 3.31, 3.29]


def test_short_pack_reply_is_an_error():
    with (
        expected_protocol(NgiN83624, [("MEAS:VOLT?(@1,2,3)", "3.3,3.31")]) as cells,
        pytest.raises(InstrumentReplyError, match="expected 3 values"),
    ):
        cells.measure_voltages([1, 2, 3])


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.set_voltage(1, 6.01),
        lambda c: c.set_voltage(25, 3.3),
        lambda c: c.set_voltage(0, 3.3),
        lambda c: c.set_current_limit(1, 5.1),
        lambda c: c.set_voltages([1, 25], 3.3),
        lambda c: c.set_voltages([1, 2], 6.5),
        lambda c: c.set_voltages([], 3.3),
    ],
)
def test_out_of_range_refused_before_sending(call):
    with expected_protocol(NgiN83624, []) as cells, pytest.raises(ValueError):
        call(cells)
