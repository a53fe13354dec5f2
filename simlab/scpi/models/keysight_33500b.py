"""Keysight 33522B two-channel 30 MHz function / arbitrary waveform generator (33500B
series), as a current-sense emulator: a DC level or a pulse into a BMS's shunt input.

The command tree the rig and PyMeasure's `Agilent33500` send: `[SOURce<n>:]FUNCtion`,
`APPLy:PULSe|:DC [freq[,amp[,offset]]]`, `FREQuency`, `VOLTage[:AMPLitude]|:OFFSet|
:HIGH|:LOW`, `FUNCtion:PULSe:WIDTh|:PERiod|:TRANsition[:BOTH]|:LEADing|:TRAiling`,
`OUTPut<n>[:STATe]`, `OUTPut<n>:LOAD`, `BURSt:STATe|:MODE|:NCYCles|:INTernal:PERiod`,
`TRIGger<n>:SOURce`, `TRIGger<n>`, `*TRG`.
Envelope from the 33500 Series Operating and Service Guide: a 50 Ω output, ±5 V into
50 Ω (10 V EMF), a declared load only rescales the displayed levels; pulse width 16 ns
and more, edges 8.4 ns to 1 µs (the edge limits as PyMeasure's driver states them).
Out-of-range values are refused with -222. Not confirmed against the guide: the `*IDN?`
firmware field, the 1 mVpp minimum amplitude into 50 Ω, the *RST pulse edge (10 ns), that
a triggered pulse burst idles at the pulse's low level, and the reply format of numbers.
A trigger moves the output 1-2 µs later (drawn per trigger; the latency is unconfirmed).
Sine, square and the other shapes carry only their offset here.
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Chans, Solve, command, opt
from simlab.scpi.errors import ScpiError
from simlab.scpi.models.generator import FUNCTIONS, GeneratorRating, GeneratorTwin

T = GeneratorTwin
CH = Chans.OPTIONAL
SRC = "[SOURce<n>:]"
PULSE = SRC + "FUNCtion:PULSe:"
NONE = Solve.NONE


def _cmd(pattern: str, handler, *args, **kw):  # type: ignore[no-untyped-def]
    return command(pattern, handler, *args, chans=CH, solve=NONE, **kw)


def _function_word(token: p.Token) -> str:
    word = p.word(token).text
    if not any(word.startswith(f) for f in FUNCTIONS):
        raise ScpiError(p.ILLEGAL_VALUE, word)
    return word


def _apply(function: str):  # type: ignore[no-untyped-def]
    def handler(dev, freq, amp, offset, chans):  # type: ignore[no-untyped-def]
        dev.apply(function, freq, amp, offset, chans)

    return handler


class Keysight33522B(GeneratorTwin):
    VENDOR = "Keysight Technologies"
    MODEL = "33522B"
    FIRMWARE = "4.00-3.15-2.00-58-00"
    OPTIONS = "MEM"
    NUMBER_FORMAT = "{:+.14E}"
    RATING = GeneratorRating(
        channels=2,
        emf_peak_v=10.0,
        amplitude_min_vpp=1e-3,
        width_min_s=16e-9,
        edge_min_s=8.4e-9,
        edge_max_s=1e-6,
        edge_max_of_width=None,
        frequency_max_hz=30e6,
        clamps=False,
    )
    RESET: ClassVar[dict[str, object]] = {"lead": 10e-9, "trail": 10e-9}

    COMMANDS = (
        _cmd(SRC + "APPLy:PULSe", _apply("PULS"), *(opt(p.numeric) for _ in range(3))),
        _cmd(SRC + "APPLy:DC", _apply("DC"), *(opt(p.numeric) for _ in range(3))),
        _cmd(SRC + "FUNCtion", T.set_function, _function_word),
        _cmd(SRC + "FUNCtion?", T.get_function),
        _cmd(SRC + "FREQuency", T.set_frequency, p.numeric),
        _cmd(SRC + "FREQuency?", T.get_frequency),
        _cmd(SRC + "VOLTage[:LEVel][:IMMediate][:AMPLitude]", T.set_amplitude, p.numeric),
        _cmd(SRC + "VOLTage[:LEVel][:IMMediate][:AMPLitude]?", T.get_amplitude),
        _cmd(SRC + "VOLTage[:LEVel][:IMMediate]:OFFSet", T.set_offset, p.numeric),
        _cmd(SRC + "VOLTage[:LEVel][:IMMediate]:OFFSet?", T.get_offset),
        _cmd(SRC + "VOLTage[:LEVel][:IMMediate]:HIGH", T.set_high, p.numeric),
        _cmd(SRC + "VOLTage[:LEVel][:IMMediate]:HIGH?", T.get_high),
        _cmd(SRC + "VOLTage[:LEVel][:IMMediate]:LOW", T.set_low, p.numeric),
        _cmd(SRC + "VOLTage[:LEVel][:IMMediate]:LOW?", T.get_low),
        _cmd(PULSE + "WIDTh", T.set_width, p.numeric),
        _cmd(PULSE + "WIDTh?", T.get_width),
        _cmd(PULSE + "PERiod", T.set_period, p.numeric),
        _cmd(PULSE + "PERiod?", T.get_period),
        _cmd(PULSE + "TRANsition[:BOTH]", T.set_edges, p.numeric),
        _cmd(PULSE + "TRANsition[:BOTH]?", T.get_lead),
        _cmd(PULSE + "TRANsition:LEADing", T.set_lead, p.numeric),
        _cmd(PULSE + "TRANsition:LEADing?", T.get_lead),
        _cmd(PULSE + "TRANsition:TRAiling", T.set_trail, p.numeric),
        _cmd(PULSE + "TRANsition:TRAiling?", T.get_trail),
        _cmd("OUTPut<n>[:STATe]", T.set_output, p.boolean),
        _cmd("OUTPut<n>[:STATe]?", T.get_output),
        _cmd("OUTPut<n>:LOAD", T.set_load, p.token),
        _cmd("OUTPut<n>:LOAD?", T.get_load),
        _cmd(SRC + "BURSt:STATe", T.set_burst, p.boolean),
        _cmd(SRC + "BURSt:STATe?", T.get_burst),
        _cmd(SRC + "BURSt:MODE", T.set_burst_mode, p.choice("TRIGgered", "GATed")),
        _cmd(SRC + "BURSt:MODE?", T.get_burst_mode),
        _cmd(SRC + "BURSt:NCYCles", T.set_cycles, p.numeric),
        _cmd(SRC + "BURSt:NCYCles?", T.get_cycles),
        _cmd(
            "TRIGger<n>:SOURce",
            T.set_trigger_source,
            p.choice("IMMediate", "EXTernal", "TIMer", "BUS"),
        ),
        _cmd("TRIGger<n>:SOURce?", T.get_trigger_source),
        _cmd("TRIGger<n>[:IMMediate]", T.trigger_now),
        command("*TRG", T.trigger_bus, solve=NONE),
    )
