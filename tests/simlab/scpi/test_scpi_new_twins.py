"""The twins added for issue 7: each model's own forms, ranges, latches and *RST."""

from __future__ import annotations

import pytest

from simlab.hardware import InstrumentHardware
from simlab.scpi.bench import Bench, make_bench


def _follow(hw: InstrumentHardware) -> None:
    """Meters read the setpoints; an output in CC when its limit is under 0.5 A."""
    for src in hw.sources.values():
        src.voltage_meas = src.voltage_set if src.output_on else 0.0
        src.current_meas = min(0.5, src.current_limit) if src.output_on else 0.0
        src.in_current_limit = src.output_on and src.current_limit < 0.5
    for load in hw.loads.values():
        load.voltage_meas = 24.0
        load.current_meas = load.current_set if load.input_on and load.mode == "CC" else 0.0


def bench(model: str) -> Bench:
    b = make_bench(model, "SN9")
    b.on_solve = _follow
    return b


@pytest.mark.parametrize(
    ("model", "forms"),
    [
        ("Keysight E36312A", ["SOURce:VOLTage:LEVel:IMMediate:AMPLitude 5,(@1)", "volt 5,(@1)"]),
        ("Rigol DP832", [":SOURce1:VOLTage:LEVel:IMMediate:AMPLitude 5", ":sour1:volt 5"]),
        ("Siglent SPD3303X", ["CH1:VOLTage 5", "ch1:volt 5"]),
        ("NGI N83624", ["SOURce1:VOLTage 5", "sour1:volt 5"]),
    ],
)
def test_long_short_and_lower_case_forms(model: str, forms: list[str]) -> None:
    for form in forms:
        b = bench(model)
        b.ask(form)
        assert b.hardware.sources[1].voltage_set == 5.0, form
        assert b.errors() == []


@pytest.mark.parametrize(
    ("model", "too_high"),
    [
        ("Keysight E36312A", ["VOLT 6.19,(@1)", "VOLT 25.76,(@2)", "CURR 1.04,(@3)"]),
        ("Rigol DP832", [":SOUR1:VOLT 32.01", ":SOUR3:VOLT 5.31", ":SOUR2:CURR 3.21"]),
        ("Siglent SPD3303X", ["CH1:VOLT 32.1", "CH2:CURR 3.3"]),
        ("NGI N83624", ["SOUR1:VOLT 6.1", "SOUR24:OUTCURR 5001"]),
        ("Siglent SDL1020X", [":SOUR:CURR 30.1", ":SOUR:POW 201", ":SOUR:RES 0.01"]),
        ("Keysight EL34143A", ["CURR 60.1,(@1)", "POW 351,(@1)", "VOLT 151"]),
    ],
)
def test_ranges(model: str, too_high: list[str]) -> None:
    b = bench(model)
    for line in too_high:
        b.ask(line)
    assert b.errors() == [-222] * len(too_high)


def test_e36312a_ocp_latches_at_the_current_limit() -> None:
    b = bench("Keysight E36312A")
    b.ask("VOLT 5,(@2);CURR 0.2,(@2);CURR:PROT:STAT ON,(@2);OUTP ON,(@2)")
    assert b.ask("OUTP? (@2);CURR:PROT:TRIP? (@2)") == "0;1"
    b.ask("CURR 1,(@2);OUTP:PROT:CLE (@2);OUTP ON,(@2)")
    assert b.ask("OUTP? (@2);CURR:PROT:TRIP? (@2)") == "1;0"


def test_dp832_protection_and_selection() -> None:
    b = bench("Rigol DP832")
    b.ask(":OUTP:OVP:VAL CH2,10;:OUTP:OVP CH2,ON;:SOUR2:VOLT 12;:OUTP CH2,ON")
    assert b.ask(":OUTP? CH2") == "OFF"
    assert b.ask(":OUTP:OVP:QUES? CH2") == "YES"
    b.ask(":SOUR2:VOLT 9;:OUTP:OVP:CLEAR CH2;:OUTP CH2,ON")
    assert b.ask(":OUTP? CH2;:OUTP:OVP:QUES? CH2") == "ON;NO"
    b.ask(":INST CH3;:VOLT 3.3;:INST?")
    assert b.ask(":INST?;:INST:NSEL?") == "CH3;3"
    assert b.hardware.sources[3].voltage_set == 3.3
    b.ask(":OUTP CH4,ON")
    assert b.errors() == [-224]
    b.ask("*RST")
    assert b.ask(":OUTP? CH2;:SOUR2:VOLT?;:OUTP:OVP? CH2") == "OFF;0.000;OFF"


def test_spd3303x_channel_3_and_tracking() -> None:
    b = bench("Siglent SPD3303X")
    b.ask("CH3:VOLT 5")  # set by a front switch
    b.ask("OUTP:TRACK 1")  # series: not modelled
    b.ask("INST CH3")
    assert b.errors() == [-221, -221, -224]
    b.ask("OUTP CH3,ON")
    assert b.hardware.sources[3].output_on and b.hardware.sources[3].voltage_set == 3.3


def test_n83624_suffix_list_and_modes() -> None:
    b = bench("NGI N83624")
    b.ask("SOUR:VOLT 3.3(@1:4)")  # a range in the glued list
    assert [b.hardware.sources[n].voltage_set for n in (1, 2, 3, 4, 5)] == [3.3] * 4 + [0.0]
    b.ask("SOUR25:VOLT 1")  # no channel 25
    b.ask("SOUR1:VOLT 1(@2)")  # suffix and list together
    b.ask("OUTP1:MODE 128")
    b.ask("OUTP1:MODE 2")
    assert b.errors() == [-114, -108, -221, -224]
    b.ask("PRO3:VOLT 3.5;:SOUR3:VOLT 4;:OUTP3:ONOFF 1")
    assert b.ask("OUTP3:STAT?;OUTP3:ONOFF?") == "2;0"  # bit 1: OVP latched
    b.ask("SOUR3:VOLT 3;:OUTP3:ONOFF 1")
    assert b.ask("OUTP3:STAT?") == "1"


@pytest.mark.parametrize("model", ["Rigol DL3021", "Siglent SDL1020X", "Keysight EL34143A"])
def test_short_mode_sinks_the_range_and_gives_the_setting_back(model: str) -> None:
    b = bench(model)
    b.ask("FUNC CURR;CURR 1.5;INP ON")
    load = b.hardware.loads[1]
    assert (load.mode, load.current_set) == ("CC", 1.5)
    b.ask("FUNC VOLT;VOLT 12")
    b.ask({"Keysight EL34143A": "INP:SHOR ON"}.get(model, "SHOR ON"))
    assert load.mode == "CC" and load.current_set >= 30.0  # the high range, whole
    b.ask({"Keysight EL34143A": "INP:SHOR OFF"}.get(model, "SHOR OFF"))
    assert (load.mode, load.voltage_set, load.current_set) == ("CV", 12.0, 1.5)
    b.ask("*RST")
    assert (load.mode, load.input_on, load.current_set) == ("CC", False, 0.0)
    assert b.errors() == []
