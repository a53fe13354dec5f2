"""Keysight E36234A twin: setpoints per output, INST selection, OVP latch, ranges."""

from __future__ import annotations

from simlab.hardware import InstrumentHardware
from simlab.scpi.bench import Bench


def test_identity(e36234a: Bench) -> None:
    assert e36234a.ask("*IDN?") == "Keysight Technologies,E36234A,MY60000123,1.0.4-1.0.0-1.05"


def test_setpoints_with_channel_lists(e36234a: Bench) -> None:
    hw = e36234a.hardware
    e36234a.ask("VOLT 12.5,(@1)")
    e36234a.ask("SOURce:VOLTage:LEVel:IMMediate:AMPLitude 3.3, (@2)")
    e36234a.ask("CURR 2,(@1:2)")
    assert (hw.sources[1].voltage_set, hw.sources[2].voltage_set) == (12.5, 3.3)
    assert hw.sources[1].current_limit == hw.sources[2].current_limit == 2.0
    assert e36234a.ask("VOLT? (@1,2)") == "+1.25000000E+01,+3.30000000E+00"
    assert e36234a.ask("CURR? (@2)") == "+2.00000000E+00"
    assert e36234a.ask("VOLT? MAX,(@1)") == "+6.18000000E+01"
    e36234a.ask("CURR MAX,(@1)")
    assert hw.sources[1].current_limit == 10.3
    assert e36234a.errors() == []


def test_selected_channel_without_list(e36234a: Bench) -> None:
    hw = e36234a.hardware
    e36234a.ask("INST CH2;VOLT 5")
    assert hw.sources[2].voltage_set == 5.0 and hw.sources[1].voltage_set == 0.0
    assert e36234a.ask("INST?") == "CH2"
    e36234a.ask(":INSTrument:NSELect 1; :SOURce:VOLTage:LEVel:IMMediate:AMPLitude 3.3")
    assert hw.sources[1].voltage_set == 3.3
    assert e36234a.ask("INST:NSEL?") == "+1"
    e36234a.ask("INST:NSEL 3;INST CH3")
    assert e36234a.errors() == [-222, -224]


def test_output_on_off(e36234a: Bench) -> None:
    hw = e36234a.hardware
    e36234a.ask("OUTP ON,(@1)")
    assert hw.sources[1].output_on and not hw.sources[2].output_on
    assert e36234a.ask("OUTP? (@1,2)") == "1,0"
    e36234a.ask("OUTPut:STATe 1,(@2);OUTP OFF,(@1)")
    assert e36234a.ask("OUTP? (@1:2)") == "0,1"
    e36234a.ask("INST:NSEL 2;OUTP 0")
    assert e36234a.ask("OUTP?") == "0"


def test_settings_and_measurements_call_solve(e36234a: Bench) -> None:
    def physics(hw: InstrumentHardware) -> None:
        for src in hw.sources.values():
            src.voltage_meas = src.voltage_set if src.output_on else 0.0
            src.current_meas = 0.42 if src.output_on else 0.0

    e36234a.on_solve = physics
    e36234a.ask("VOLT 4,(@1)")
    assert len(e36234a.solves) == 1
    e36234a.ask("VOLT? (@1)")
    assert len(e36234a.solves) == 1  # a setpoint query reads no physics
    e36234a.ask("OUTP ON,(@1)")
    assert e36234a.ask("MEAS:VOLT? (@1)") == "+4.00000000E+00"
    assert e36234a.ask("MEASure:SCALar:CURRent:DC? (@1,2)") == "+4.20000000E-01,+0.00000000E+00"
    assert len(e36234a.solves) == 4


def test_range_errors_leave_state_unchanged(e36234a: Bench) -> None:
    hw = e36234a.hardware
    e36234a.ask("VOLT 10,(@1);CURR 1,(@1)")
    e36234a.ask("VOLT 61.9,(@1)")
    e36234a.ask("VOLT -1,(@1)")
    e36234a.ask("CURR 10.4,(@1)")
    e36234a.ask("VOLT 5,(@3)")
    e36234a.ask("VOLT 5,(@1,3)")  # one bad channel: nothing changes
    e36234a.ask("VOLT 1e999,(@1)")
    assert e36234a.errors() == [-222] * 6
    assert hw.sources[1].voltage_set == 10.0 and hw.sources[1].current_limit == 1.0
    e36234a.ask("VOLT 61.8,(@1)")
    assert hw.sources[1].voltage_set == 61.8


def test_missing_parameter(e36234a: Bench) -> None:
    e36234a.ask("VOLT")
    e36234a.ask("OUTP")
    assert e36234a.errors() == [-109, -109]


def test_over_voltage_protection_latches(e36234a: Bench) -> None:
    def physics(hw: InstrumentHardware) -> None:
        for src in hw.sources.values():
            src.voltage_meas = src.voltage_set if src.output_on else 0.0

    e36234a.on_solve = physics
    e36234a.ask("VOLT:PROT 20,(@1);VOLT 30,(@1);OUTP ON,(@1)")
    assert e36234a.ask("VOLT:PROT? (@1)") == "+2.00000000E+01"
    assert e36234a.ask("OUTP? (@1)") == "0"
    assert e36234a.ask("VOLT:PROT:TRIP? (@1)") == "1"
    e36234a.ask("OUTP ON,(@1)")
    assert e36234a.ask("OUTP? (@1)") == "0"  # latched until cleared
    e36234a.ask("VOLT 10,(@1);OUTP:PROT:CLE (@1);OUTP ON,(@1)")
    assert e36234a.ask("OUTP? (@1);VOLT:PROT:TRIP? (@1)") == "1;0"
    assert e36234a.errors() == []


def test_rst_restores_defaults(e36234a: Bench) -> None:
    hw = e36234a.hardware
    e36234a.ask("VOLT 5,(@1:2);CURR 1,(@1:2);OUTP ON,(@1:2);INST CH2;NOPE")
    e36234a.ask("*RST")
    for src in hw.sources.values():
        assert (src.voltage_set, src.current_limit, src.output_on) == (0.0, 0.0, False)
    assert e36234a.ask("INST?") == "CH1"
    assert e36234a.errors() == [-113]  # *RST does not clear the error queue
