"""Byte-level protocol of the generator and battery-simulator drivers (PyMeasure's
`expected_protocol`): what each role method sends, and what it refuses before sending."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.battery_simulators.base import AsLoad
from instruments.battery_simulators.ea_psb10000 import EaPSB10060_120
from instruments.battery_simulators.keysight_rp7900 import KeysightRP7952A
from instruments.errors import InstrumentReplyError
from instruments.generators.keysight_33500b import Keysight33522B
from instruments.generators.rigol_dg800 import RigolDG822
from instruments.roles import FunctionGenerator, RegenerativeSource

OK = ("SYST:ERR?", '+0,"No error"')


def test_33522b_levels_are_open_circuit_and_a_pulse_is_a_bus_triggered_burst():
    with expected_protocol(
        Keysight33522B,
        [
            ("OUTP1:LOAD INF", None),
            OK,
            ("SOUR1:BURS:STAT 0", None),
            OK,
            ("SOUR1:FUNC DC", None),
            OK,
            ("SOUR1:VOLT:OFFS 0.160000", None),
            OK,
            # the pulse in force is no wider than the new one: left as it is
            ("SOUR1:FUNC:PULS:WIDT?", "+1.00000000000000E-04"),
            ("SOUR1:APPL:PULS 1000,6,3", None),
            OK,
            ("SOUR1:FUNC:PULS:WIDT 1.000000e-04", None),
            OK,
            ("SOUR1:FUNC:PULS:TRAN:BOTH 8.400000e-09", None),
            OK,
            ("SOUR1:BURS:MODE TRIG", None),
            OK,
            ("SOUR1:BURS:NCYC 1", None),
            OK,
            ("TRIG1:SOUR BUS", None),
            OK,
            ("SOUR1:BURS:STAT 1", None),
            OK,
            ("TRIG1", None),
            OK,
        ],
    ) as gen:
        assert isinstance(gen, FunctionGenerator)
        gen.set_high_impedance(1)
        gen.set_dc(1, 0.16)
        gen.configure_pulse(1, 0.0, 6.0, 100e-6, 8.4e-9)
        gen.fire(1)


def test_generators_refuse_before_sending():
    with expected_protocol(RigolDG822, []) as gen:
        with pytest.raises(ValueError, match="beyond the output's ±10 V"):
            gen.set_dc(1, 10.5)
        with pytest.raises(ValueError, match="edge"):
            gen.configure_pulse(1, 0.0, 5.0, 1e-3, 5e-9)  # the DG822's edge is 10 ns
        with pytest.raises(ValueError, match="channel"):
            gen.set_dc(3, 1.0)


def test_dg822_reads_its_output_state_as_words():
    with expected_protocol(RigolDG822, [(":OUTP2?", "ON"), (":OUTP1?", "OFF")]) as gen:
        assert gen.output_enabled(2) is True and gen.output_enabled(1) is False


def test_rp7952a_as_battery_simulator_charger_and_load():
    with expected_protocol(
        KeysightRP7952A,
        [
            ("FUNC VOLT", None),
            OK,
            ("VOLT 52.8", None),
            OK,
            ("CURR:LIM 5", None),
            OK,
            ("CURR:LIM:NEG -5", None),
            OK,
            ("CURR:LIM 0.5", None),  # as a charger: source only
            OK,
            ("CURR:LIM:NEG -0", None),
            OK,
            ("FUNC CURR", None),  # as a load: current priority, a negative setting
            OK,
            ("CURR -2.5", None),
            OK,
            ("MEAS:CURR?", "-2.5"),
            ("STAT:OPER:COND?", "2"),
        ],
    ) as rp:
        assert isinstance(rp, RegenerativeSource)
        rp.set_voltage(1, 52.8)
        rp.set_current_limits(1, 5.0, 5.0)
        rp.set_current_limit(1, 0.5)
        load = AsLoad(rp)
        load.set_constant_current(2.5)
        assert load.measure_current() == pytest.approx(2.5)  # the magnitude it sinks
        assert rp.regulation() == "CC"


def test_psb_takes_remote_control_first_and_reads_values_with_units():
    with expected_protocol(
        EaPSB10060_120,
        [
            ("SYST:LOCK ON", None),
            ("SYST:ERR?", '0,"No error"'),
            ("VOLT 0", None),
            ("SYST:ERR?", '0,"No error"'),
            ("CURR 0", None),
            ("SYST:ERR?", '0,"No error"'),
            ("SINK:CURR 30", None),
            ("SYST:ERR?", '0,"No error"'),
            ("MEAS:CURR?", "-29.98 A"),
            ("MEAS:VOLT?", "52.80 V"),
            ("MEAS:VOLT?", "52.80 A"),
        ],
    ) as psb:
        psb.set_sink_current(1, 30.0)
        assert psb.measure_current(1) == pytest.approx(-29.98)
        assert psb.measure_voltage(1) == pytest.approx(52.8)
        with pytest.raises(InstrumentReplyError, match="in V"):
            psb.measure_voltage(1)
        with pytest.raises(ValueError, match="sink current 130"):
            psb.set_sink_current(1, 130.0)
