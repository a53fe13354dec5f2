"""Behaviour every simulated instrument shares: error queue, common commands, dispatch."""

from __future__ import annotations

import pytest

from simlab.hardware import InstrumentHardware, SourceChannel
from simlab.scpi import MODELS, create_device, make_hardware
from simlab.scpi.bench import Bench, make_bench

ALL = list(MODELS)
# where a model's manual departs from the IEEE 488.2 / SCPI-99 forms
IDN_FIELDS = {"Siglent SPD3303X": 5}  # vendor, model, serial, firmware, hardware
RESERVED_SERIAL = {"NGI N83624": "0"}  # the third *IDN? field is reserved
EMPTY_QUEUE = {"Siglent SPD3303X": "0 No Error", "EA PSB 10060-120": '0,"No error"'}
IDN_MODEL = {"EA PSB 10060-120": "PSB 10060-120"}  # the model name has a space
SCPI_VERSION = {"Siglent SPD3303X": "1.01.01.02.05"}  # SYST:VERS? is the firmware there


@pytest.mark.parametrize("model", ALL)
def test_idn_fields_and_the_serial(model: str) -> None:
    bench = make_bench(model, serial="SER42")
    reply = bench.ask("*IDN?")
    assert reply is not None
    fields = [f.strip() for f in reply.split(",")]  # EA writes a space after each comma
    assert len(fields) == IDN_FIELDS.get(model, 4)
    assert fields[1] == IDN_MODEL.get(model, model.split()[1])
    assert fields[2] == RESERVED_SERIAL.get(model, "SER42")


@pytest.mark.parametrize("model", ALL)
def test_common_queries(model: str) -> None:
    bench = make_bench(model)
    empty = EMPTY_QUEUE.get(model, '+0,"No error"')
    assert bench.ask("*OPC?") == "1"
    assert bench.ask("SYST:VERS?") == SCPI_VERSION.get(model, "1999.0")
    assert bench.ask("SYST:ERR?") == empty
    assert bench.ask("SYSTem:ERRor:NEXT?") == empty
    assert bench.errors() == []


@pytest.mark.parametrize("model", ALL)
def test_undefined_header_queues_113(model: str) -> None:
    bench = make_bench(model)
    assert bench.ask("FOO:BAR 1") is None
    assert bench.errors() == [-113]


@pytest.mark.parametrize("model", ALL)
def test_queue_overflow_replaces_the_newest(model: str) -> None:
    bench = make_bench(model)
    for _ in range(25):
        bench.ask("NOPE")
    codes = bench.errors()
    assert len(codes) == 20
    assert codes[:19] == [-113] * 19
    assert codes[19] == -350


@pytest.mark.parametrize("model", ALL)
def test_cls_clears_queue_and_esr(model: str) -> None:
    bench = make_bench(model)
    bench.ask("NOPE")
    assert int(bench.ask("*STB?") or "0") & 0x04  # error queue not empty
    bench.ask("*CLS")
    assert bench.errors() == []
    assert int(bench.ask("*ESR?") or "x") == 0


def test_esr_reports_command_and_execution_errors(e36234a: Bench) -> None:
    e36234a.ask("NOPE;VOLT 1000")
    assert int(e36234a.ask("*ESR?") or "x") == 0x20 | 0x10
    assert int(e36234a.ask("*ESR?") or "x") == 0  # read clears
    e36234a.ask("*ESE 32;NOPE")
    assert int(e36234a.ask("*STB?") or "x") & 0x20


def test_errors_do_not_stop_the_rest_of_the_message(e36234a: Bench) -> None:
    reply = e36234a.ask("VOLT 99;VOLT 2;NOPE;VOLT?;*OPC?")
    assert reply == "+2.00000000E+00;1"
    assert e36234a.errors() == [-222, -113]


def test_missing_and_extra_parameters(e36234a: Bench) -> None:
    e36234a.ask("VOLT")
    e36234a.ask("VOLT 1,2")
    e36234a.ask("*IDN? 3")
    e36234a.ask('VOLT "five"')
    e36234a.ask("VOLT FIVE")
    e36234a.ask("OUTP MAYBE")
    assert e36234a.errors() == [-109, -108, -108, -104, -104, -224]


def test_compound_header_uses_the_previous_path(e36234a: Bench) -> None:
    e36234a.hardware.sources[1].current_meas = 0.5
    e36234a.hardware.sources[1].voltage_meas = 3.0
    e36234a.ask("CURR 1.25")
    # CURR? after MEAS:VOLT? is MEAS:CURR? (SCPI compound header rule) ...
    assert e36234a.ask("MEAS:VOLT?;CURR?") == "+3.00000000E+00;+5.00000000E-01"
    # ... and a leading colon goes back to the root
    assert e36234a.ask("MEAS:VOLT?;:CURR?") == "+3.00000000E+00;+1.25000000E+00"


def test_a_repeated_message_runs_in_full_every_time(e36234a: Bench) -> None:
    """Messages are resolved once per model: the errors, the compound-header path and the
    live values must still come from each sending, not from the first."""
    message = "VOLT 99;NOPE;MEAS:VOLT?;CURR?;*OPC?"
    for volts in (3.0, 4.5, 4.5):
        e36234a.hardware.sources[1].voltage_meas = volts
        e36234a.hardware.sources[1].current_meas = 0.25
        e36234a.on_solve = lambda _hw: None  # keep the values set here
        assert e36234a.ask(message) == f"{volts:+.8E};+2.50000000E-01;1"
        assert e36234a.errors() == [-222, -113]


def test_empty_commands_are_ignored(e36234a: Bench) -> None:
    assert e36234a.ask("VOLT 1;;") is None
    assert e36234a.ask("") is None
    assert e36234a.errors() == []


def test_simulator_bug_is_queued_not_raised(e36234a: Bench) -> None:
    def boom(_hw: InstrumentHardware) -> None:
        raise RuntimeError("physics bug")

    e36234a.on_solve = boom
    assert e36234a.ask("MEAS:VOLT?;*OPC?") == "1"
    assert e36234a.errors() == [-300]


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="Keysight E36234A"):
        make_hardware("Acme PSU-1")
    with pytest.raises(ValueError, match="Rigol DL3021"):
        create_device("Acme PSU-1", InstrumentHardware("x"), "1", lambda: None)


def test_hardware_shape_is_checked() -> None:
    wrong = InstrumentHardware("Keysight E36234A", sources={1: SourceChannel()})
    with pytest.raises(ValueError):
        create_device("Keysight E36234A", wrong, "1", lambda: None)
    with pytest.raises(ValueError):
        create_device("Rigol DL3021", wrong, "1", lambda: None)


def test_make_hardware_channel_counts() -> None:
    assert sorted(make_hardware("Keysight E36234A").sources) == [1, 2]
    assert sorted(make_hardware("Rigol DL3021").loads) == [1]
    assert sorted(make_hardware("Keysight N6705C").sources) == [1, 2, 3, 4]
    assert sorted(make_hardware("Keysight N6705C", ["N6781A", "N6781A"]).sources) == [1, 2]
    with pytest.raises(ValueError):
        make_hardware("Keysight N6705C", ["N6781A"] * 5)
    with pytest.raises(ValueError):
        make_hardware("Keysight N6705C", ["N6700X"])
    with pytest.raises(ValueError):
        make_hardware("Rigol DL3021", ["N6781A"])
