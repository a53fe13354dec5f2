"""Keysight N6705C + N6781A twin: channel lists required, source/sink limits, measure."""

from __future__ import annotations

import pytest

from simlab.hardware import InstrumentHardware
from simlab.scpi.bench import Bench, make_bench


def test_identity_and_modules(n6705c: Bench) -> None:
    assert n6705c.ask("*IDN?") == "Keysight Technologies,N6705C,MY56000456,D.03.04.1340"
    assert n6705c.ask("SYST:CHAN?") == "+4"
    assert n6705c.ask("SYSTem:CHANnel:COUNt?") == "+4"
    assert n6705c.ask("SYST:CHAN:MOD? (@1)") == "N6781A"
    assert n6705c.ask("SYST:CHAN:MOD? (@1:4)") == ",".join(["N6781A"] * 4)
    assert n6705c.ask("*OPT?") == "0"


def test_two_module_mainframe() -> None:
    bench = make_bench("Keysight N6705C", modules=["N6781A", "N6781A"])
    assert bench.ask("SYST:CHAN?") == "+2"
    bench.ask("VOLT 1,(@3)")
    assert bench.errors() == [-222]


def test_voltage_per_channel(n6705c: Bench) -> None:
    hw = n6705c.hardware
    n6705c.ask("VOLT 3.3,(@1);SOUR:VOLT:LEV:IMM:AMPL 3.6, (@2:4)")
    assert [hw.sources[ch].voltage_set for ch in (1, 2, 3, 4)] == [3.3, 3.6, 3.6, 3.6]
    assert n6705c.ask("VOLT? (@1,2)") == "+3.300000E+00,+3.600000E+00"
    assert n6705c.errors() == []


def test_channel_list_is_required(n6705c: Bench) -> None:
    n6705c.ask("VOLT 3.3")
    n6705c.ask("MEAS:VOLT?")
    n6705c.ask("OUTP ON")
    assert n6705c.errors() == [-109, -109, -109]
    assert n6705c.hardware.sources[1].voltage_set == 0.0


def test_current_limits_coupled_by_default(n6705c: Bench) -> None:
    src = n6705c.hardware.sources[1]
    n6705c.ask("CURR:LIM 1.5,(@1)")
    assert n6705c.ask("CURR:LIM? (@1);CURR:LIM:NEG? (@1)") == "+1.500000E+00;-1.500000E+00"
    assert src.current_limit == 1.5
    n6705c.ask("SOUR:CURR:LIM:NEG:IMM:AMPL -0.5,(@1)")
    assert n6705c.ask("CURR:LIM:POS? (@1)") == "+5.000000E-01"
    assert src.current_limit == 0.5


def test_current_limits_uncoupled_bound_source_and_sink_apart(n6705c: Bench) -> None:
    src = n6705c.hardware.sources[2]
    n6705c.ask("CURR:LIM:COUP OFF,(@2);CURR:LIM 2,(@2);CURR:LIM:NEG -1,(@2)")
    assert n6705c.ask("CURR:LIM:COUP? (@2)") == "0"
    assert n6705c.ask("CURR:LIM? (@2);CURR:LIM:NEG? (@2)") == "+2.000000E+00;-1.000000E+00"
    assert (src.current_limit, src.sink_limit) == (2.0, 1.0)
    assert src.source_cap(3.3) == 2.0 and src.sink_cap(3.3) == 1.0
    assert src.source_cap(19.0) == pytest.approx(20.0 / 19.0)  # the module's 20 W
    assert n6705c.errors() == []


def test_range_errors(n6705c: Bench) -> None:
    hw = n6705c.hardware
    n6705c.ask("VOLT 5,(@1);CURR:LIM 1,(@1)")
    n6705c.ask("VOLT 20.5,(@1)")
    n6705c.ask("VOLT -0.1,(@1)")
    n6705c.ask("CURR:LIM 3.1,(@1)")
    n6705c.ask("CURR:LIM:NEG 0.5,(@1)")  # the sink limit is a negative number
    n6705c.ask("CURR:LIM:NEG -3.1,(@1)")
    n6705c.ask("VOLT 1,(@5)")
    n6705c.ask("VOLT 1,(@0)")
    assert n6705c.errors() == [-222] * 7
    assert hw.sources[1].voltage_set == 5.0 and hw.sources[1].current_limit == 1.0


def test_output_and_measure(n6705c: Bench) -> None:
    def physics(hw: InstrumentHardware) -> None:
        for ch, src in hw.sources.items():
            src.voltage_meas = src.voltage_set if src.output_on else 0.0
            src.current_meas = -0.01 * ch if src.output_on else 0.0

    n6705c.on_solve = physics
    n6705c.ask("VOLT 3.2,(@1:4);OUTP ON,(@1,3)")
    assert n6705c.ask("OUTP? (@1:4)") == "1,0,1,0"
    assert (
        n6705c.ask("MEAS:VOLT? (@1:4)") == "+3.200000E+00,+0.000000E+00,+3.200000E+00,+0.000000E+00"
    )
    assert n6705c.ask("MEAS:CURR? (@3)") == "-3.000000E-02"
    n6705c.ask("OUTP:STAT 0,(@1:4)")
    assert n6705c.ask("OUTP? (@1:4)") == "0,0,0,0"


def test_rst(n6705c: Bench) -> None:
    n6705c.ask("VOLT 3,(@1:4);CURR:LIM 1,(@1:4);OUTP 1,(@1:4);CURR:LIM:COUP 0,(@1)")
    n6705c.ask("*RST")
    for src in n6705c.hardware.sources.values():
        assert (src.voltage_set, src.current_limit, src.output_on) == (0.0, 0.0, False)
    assert n6705c.ask("CURR:LIM:COUP? (@1)") == "1"
