"""SCPI parsing: message splitting, parameters, and vendor-style header patterns."""

from __future__ import annotations

import pytest

from simlab.scpi.errors import ScpiError
from simlab.scpi.parser import (
    ChannelList,
    HeaderPattern,
    Number,
    Text,
    Word,
    parse_command,
    split_message,
)

VOLT = HeaderPattern("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]")
MEAS = HeaderPattern("MEASure[:SCALar]:VOLTage[:DC]?")
RIGOL = HeaderPattern("[:SOURce]:FUNCtion")


@pytest.mark.parametrize(
    "header",
    [
        "VOLT",
        "VOLTAGE",
        "volt",
        "Voltage",
        "SOUR:VOLT",
        "SOURCE:VOLTAGE:LEVEL:IMMEDIATE:AMPLITUDE",
        "SOUR:VOLT:LEV:IMM:AMPL",
        "VOLT:AMPL",
        "VOLT:LEV:AMPL",
        "source:volt:imm",
    ],
)
def test_long_short_and_optional_nodes_match(header: str) -> None:
    assert VOLT.matches(header.upper(), query=False)


@pytest.mark.parametrize(
    "header",
    ["VOLTA", "VOL", "SOU:VOLT", "VOLT:LEV:LEV", "AMPL", "VOLT:PROT", "CURR", "VOLT:IMM:LEV"],
)
def test_non_matching_headers(header: str) -> None:
    assert not VOLT.matches(header, query=False)


def test_query_flag_must_agree() -> None:
    assert not VOLT.matches("VOLT", query=True)
    assert MEAS.matches("MEAS:VOLT", query=True)
    assert MEAS.matches("MEASURE:SCALAR:VOLTAGE:DC", query=True)
    assert MEAS.matches("MEAS:SCAL:VOLT", query=True)
    assert not MEAS.matches("MEAS:VOLT", query=False)
    assert not MEAS.matches("MEAS:DC", query=True)


def test_rigol_style_optional_root() -> None:
    assert RIGOL.matches("SOUR:FUNC", query=False)
    assert RIGOL.matches("FUNC", query=False)
    assert RIGOL.matches("FUNCTION", query=False)


def test_common_command_pattern() -> None:
    idn = HeaderPattern("*IDN?")
    assert idn.matches("*IDN", query=True)
    assert not idn.matches("*IDN", query=False)
    assert not idn.matches("IDN", query=True)


def test_bad_pattern_is_rejected() -> None:
    with pytest.raises(ValueError):
        HeaderPattern("VOLT[:LEV")


def test_split_message_keeps_quoted_semicolons() -> None:
    assert split_message('VOLT 1;DISP:TEXT "a;b";*OPC?') == ["VOLT 1", 'DISP:TEXT "a;b"', "*OPC?"]
    assert split_message(":INST:NSEL 1; :SOUR:VOLT 3.3") == [":INST:NSEL 1", " :SOUR:VOLT 3.3"]


def test_command_header_query_and_absolute() -> None:
    cmd = parse_command("  :meas:volt? (@1)")
    assert cmd is not None
    assert (cmd.header, cmd.query, cmd.absolute) == ("MEAS:VOLT", True, True)
    assert cmd.params == (ChannelList((1,)),)
    assert parse_command("   ") is None
    star = parse_command("*idn?")
    assert star is not None and star.common and star.query


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5", 1.5),
        ("-2", -2.0),
        ("+3.", 3.0),
        (".25", 0.25),
        ("1E3", 1000.0),
        ("2.5e-3", 0.0025),
        ("-1.0E+01", -10.0),
        ("#H1F", 31.0),
        ("#B101", 5.0),
        ("#Q17", 15.0),
    ],
)
def test_numbers(text: str, value: float) -> None:
    cmd = parse_command(f"VOLT {text}")
    assert cmd is not None and cmd.params == (Number(value),)


def test_words_strings_and_booleans() -> None:
    cmd = parse_command("OUTP on")
    assert cmd is not None and cmd.params == (Word("ON"),)
    cmd = parse_command("VOLT max")
    assert cmd is not None and cmd.params == (Word("MAX"),)
    cmd = parse_command('DISP:TEXT "say ""hi""", \'x\'')
    assert cmd is not None and cmd.params == (Text('say "hi"'), Text("x"))
    cmd = parse_command("OUTP 1")
    assert cmd is not None and cmd.params == (Number(1.0),)


@pytest.mark.parametrize(
    ("text", "channels"),
    [
        ("(@1)", (1,)),
        ("(@1,3)", (1, 3)),
        ("(@1:4)", (1, 2, 3, 4)),
        ("(@ 1 , 3 )", (1, 3)),
        ("(@1:2,4)", (1, 2, 4)),
        ("(@3:1)", (3, 2, 1)),
    ],
)
def test_channel_lists(text: str, channels: tuple[int, ...]) -> None:
    cmd = parse_command(f"OUTP? {text}")
    assert cmd is not None and cmd.params == (ChannelList(channels),)


@pytest.mark.parametrize("sep", [",", ", ", " , ", ",  "])
def test_value_then_channel_list_with_or_without_spaces(sep: str) -> None:
    cmd = parse_command(f"VOLT 1.5{sep}(@1)")
    assert cmd is not None and cmd.params == (Number(1.5), ChannelList((1,)))


def test_query_may_touch_its_parameter() -> None:
    cmd = parse_command("OUTP?(@2)")
    assert cmd is not None and cmd.params == (ChannelList((2,)),)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("VOLT 1,,2", -102),
        ("VOLT 1,", -102),
        ('VOLT "abc', -102),
        ("VOLT (@1", -102),
        ("VOLT (@a)", -102),
        ("VOLT 1.5V", -131),
        ("VOLT 1..2", -102),
        ("VOLT%", -102),
        ("12 VOLT", -102),
        (":*IDN?", -102),
        ("VOLT (@1:100000)", -222),
    ],
)
def test_malformed_input_raises_scpi_error(text: str, code: int) -> None:
    with pytest.raises(ScpiError) as info:
        parse_command(text)
    assert info.value.code == code
