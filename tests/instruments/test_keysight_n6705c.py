"""Byte-level protocol of the Keysight N6705C + N6781A cell-emulator driver."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.cell_emulators.keysight_n6705c import KeysightN6705C
from instruments.errors import IdentityError, InstrumentError
from instruments.roles import CellEmulator

OK = ("SYST:ERR?", '+0,"No error"')
IDN = "Keysight Technologies,N6705C,MY56001234,D.03.05.1234"


def test_is_a_cell_emulator():
    with expected_protocol(KeysightN6705C, []) as cells:
        assert isinstance(cells, CellEmulator)
        assert cells.channel_count == 4


def test_check_identity():
    with expected_protocol(KeysightN6705C, [("*IDN?", IDN)]) as cells:
        assert cells.check_identity().firmware == "D.03.05.1234"


def test_check_identity_fails_on_n6705b():
    with (
        expected_protocol(KeysightN6705C, [("*IDN?", IDN.replace("N6705C", "N6705B"))]) as cells,
        pytest.raises(IdentityError),
    ):
        cells.check_identity()


@pytest.mark.parametrize(
    ("call", "pairs"),
    [
        (lambda c: c.set_voltage(1, 3.3), [("VOLT 3.3,(@1)", None), OK]),
        (lambda c: c.set_voltage(4, 3.65), [("VOLT 3.65,(@4)", None), OK]),
        (
            lambda c: c.set_current_limit(2, 1.5),
            [("CURR:LIM 1.5,(@2)", None), OK, ("CURR:LIM:NEG -1.5,(@2)", None), OK],
        ),
        (
            lambda c: c.set_current_limit(3, 0),
            [("CURR:LIM 0,(@3)", None), OK, ("CURR:LIM:NEG 0,(@3)", None), OK],
        ),
        (lambda c: c.set_output(3, True), [("OUTP 1,(@3)", None), OK]),
        (lambda c: c.set_output(1, False), [("OUTP 0,(@1)", None), OK]),
    ],
)
def test_setpoints(call, pairs):
    with expected_protocol(KeysightN6705C, pairs) as cells:
        call(cells)


def test_queries():
    pairs = [
        ("OUTP? (@2)", "1"),
        ("MEAS:VOLT? (@2)", "+3.29987E+00"),
        ("MEAS:CURR? (@2)", "-2.5E-02"),
        ("SYST:CHAN:MOD? (@2)", "N6781A"),
    ]
    with expected_protocol(KeysightN6705C, pairs) as cells:
        assert cells.output_enabled(2) is True
        assert cells.measure_voltage(2) == pytest.approx(3.29987)
        assert cells.measure_current(2) == pytest.approx(-0.025)
        assert cells.module_type(2) == "N6781A"


def test_check_modules_rejects_one_quadrant_module():
    pairs = [(f"SYST:CHAN:MOD? (@{n})", m) for n, m in enumerate(["N6781A"] * 3 + ["N6752A"], 1)]
    with (
        expected_protocol(KeysightN6705C, pairs) as cells,
        pytest.raises(ValueError, match="ch4=N6752A"),
    ):
        cells.check_modules()


def test_range_error_from_instrument_raises():
    pairs = [("VOLT 5,(@1)", None), ("SYST:ERR?", '-222,"Data out of range"'), OK]
    with expected_protocol(KeysightN6705C, pairs) as cells, pytest.raises(InstrumentError) as err:
        cells.set_voltage(1, 5)
    assert err.value.errors == [(-222, "Data out of range")]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.set_voltage(1, 20.5),
        lambda c: c.set_voltage(5, 3.3),
        lambda c: c.set_current_limit(1, 3.1),
        lambda c: c.set_current_limit(1, -1),
    ],
)
def test_refused_before_any_byte(call):
    with expected_protocol(KeysightN6705C, []) as cells, pytest.raises(ValueError):
        call(cells)


def test_a_group_of_channels_is_one_message_checked_once():
    """The channel list takes several channels (N6700 `(@1,2,3,4)`): the same command
    table, one message a setting; a reply of the wrong length is a typed error."""
    from instruments.errors import InstrumentReplyError

    exchange = [
        ("VOLT 3.3,(@1,2,3,4)", None),
        OK,
        ("CURR:LIM 1,(@1,2,3,4)", None),
        OK,
        ("CURR:LIM:NEG -1,(@1,2,3,4)", None),
        OK,
        ("OUTP 1,(@1,2,3,4)", None),
        OK,
        ("MEAS:VOLT? (@1,2,3,4)", "+3.300E+00,+3.301E+00,+3.299E+00,+3.300E+00"),
        ("MEAS:VOLT? (@1,2)", "+3.300E+00"),
    ]
    with expected_protocol(KeysightN6705C, exchange) as cells:
        group = [1, 2, 3, 4]
        cells.set_voltages(group, 3.3)
        cells.set_current_limits(group, 1.0)
        cells.set_outputs(group, True)
        assert cells.measure_voltages(group) == [3.3, 3.301, 3.299, 3.3]
        with pytest.raises(InstrumentReplyError, match="expected 2 values"):
            cells.measure_voltages([1, 2])
        with pytest.raises(ValueError, match=r"channel must be 1\.\.4"):
            cells.set_voltages([4, 5], 3.3)  # refused before a byte is sent
        assert cells.commands_sent == 4  # the settings; no query counts


def test_count_of_commands_that_may_change_state():
    exchange = [("OUTP 0,(@1)", None), OK, ("VOLT? (@1)", "+3.3E+00")]
    with expected_protocol(KeysightN6705C, exchange) as cells:
        cells.set_output(1, False)
        cells.channel(1).voltage_setpoint  # noqa: B018 (a query)
        assert cells.commands_sent == 1
