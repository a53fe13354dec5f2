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

What QCoDeS's `Keysight33522B` reads in its snapshot besides (33500 Series guide,
defaults after *RST): `OUTP:SYNC` and `OUTP:SYNC:SOUR` (the Sync connector, wired to
nothing here), `FREQ:MODE` (CW), `PHAS`, `VOLT:UNIT` (VPP), `FUNC:RAMP:SYMM`,
`TRIG<n>:SLOP|COUN|DEL|TIM`, `OUTP<n>:POL`, `BURS:PHAS`, `BURS:GATE:POL`,
`BURS:INT:PER`. They are kept and answered; a value that would change what the emulated
output does (a sweep or list, a phase, another amplitude unit, a trigger count or delay,
an inverted output) is refused with -221 rather than kept and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Chans, Command, Solve, command, opt
from simlab.scpi.errors import ScpiError
from simlab.scpi.models.generator import (
    FUNCTIONS,
    SETTINGS_CONFLICT,
    GeneratorRating,
    GeneratorTwin,
)

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


@dataclass(frozen=True)
class _Setting:
    """A channel setting the twin keeps and answers, and the values it can honour."""

    default: object
    kind: Callable[[p.Token], object]
    emulated: Callable[[object], bool] = lambda _value: True
    reply: Callable[[GeneratorTwin, object], str] = lambda _dev, value: str(value)


def _number(dev: GeneratorTwin, value: object) -> str:
    return dev.fmt(float(value))  # type: ignore[arg-type]


def _in(low: float, high: float) -> Callable[[p.Token], float]:
    def kind(token: p.Token) -> float:
        return p.resolve(p.numeric(token), low, high)

    return kind


def _word(*words: str) -> Callable[[p.Token], str]:
    choice = p.choice(*words)
    return lambda token: choice(token)[:4]


def _frequency_mode(token: p.Token) -> str:
    mode = _word("CW", "FIXed", "SWEep", "LIST")(token)
    return "CW" if mode == "FIXE" else mode  # FIXed is CW's other name


def _count(token: p.Token) -> int:
    return round(_in(1, 1e6)(token))


SETTINGS: dict[str, _Setting] = {
    "FREQ:MODE": _Setting("CW", _frequency_mode, lambda v: v == "CW"),
    "PHAS": _Setting(0.0, _in(-360.0, 360.0), lambda v: v == 0.0, _number),
    "VOLT:UNIT": _Setting("VPP", _word("VPP", "VRMS", "DBM"), lambda v: v == "VPP"),
    "RAMP:SYMM": _Setting(100.0, _in(0.0, 100.0), reply=_number),  # ramps are not emulated
    "TRIG:SLOP": _Setting("POS", _word("POSitive", "NEGative"), reply=lambda _d, v: str(v)[:3]),
    "TRIG:COUN": _Setting(1, _count, lambda v: v == 1, lambda dev, v: dev.fmt_int(v)),
    "TRIG:DEL": _Setting(0.0, _in(0.0, 1000.0), lambda v: v == 0.0, _number),
    "TRIG:TIM": _Setting(1e-3, _in(1e-6, 8000.0), reply=_number),
    "OUTP:POL": _Setting("NORM", _word("NORMal", "INVerted"), lambda v: v == "NORM"),
    "BURS:PHAS": _Setting(0.0, _in(-360.0, 360.0), lambda v: v == 0.0, _number),
    "BURS:GATE:POL": _Setting("NORM", _word("NORMal", "INVerted")),
    "BURS:INT:PER": _Setting(10e-3, _in(1e-6, 8000.0), reply=_number),
}  # fmt: skip


def _setting_commands(header: str, key: str) -> tuple[Command, Command]:
    spec = SETTINGS[key]

    def set_value(dev: Keysight33522B, token: p.Token, chans: list[int]) -> None:
        value = spec.kind(token)
        if not spec.emulated(value):
            raise ScpiError(SETTINGS_CONFLICT, f"{key} {value} is not emulated")
        for n in chans:
            dev.settings[n][key] = value

    def get_value(dev: Keysight33522B, chans: list[int]) -> str:
        return spec.reply(dev, dev.settings[chans[0]][key])

    return _cmd(header, set_value, p.token), _cmd(header + "?", get_value)


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

    def reset_state(self) -> None:
        super().reset_state()
        self.settings = {n: {k: s.default for k, s in SETTINGS.items()} for n in self.ch}
        self.sync_on, self.sync_source = True, 1

    def set_sync(self, on: bool) -> None:
        self.sync_on = on

    def get_sync(self) -> str:
        return "1" if self.sync_on else "0"

    def set_sync_source(self, word: str) -> None:
        self.sync_source = int(word[-1])

    def get_sync_source(self) -> str:
        return f"CH{self.sync_source}"

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
        command("OUTPut:SYNC[:STATe]", set_sync, p.boolean, solve=NONE),
        command("OUTPut:SYNC[:STATe]?", get_sync),
        command("OUTPut:SYNC:SOURce", set_sync_source, p.choice("CH1", "CH2"), solve=NONE),
        command("OUTPut:SYNC:SOURce?", get_sync_source),
        *_setting_commands(SRC + "FREQuency:MODE", "FREQ:MODE"),
        *_setting_commands(SRC + "PHASe[:ADJust]", "PHAS"),
        *_setting_commands(SRC + "VOLTage:UNIT", "VOLT:UNIT"),
        *_setting_commands(SRC + "FUNCtion:RAMP:SYMMetry", "RAMP:SYMM"),
        *_setting_commands("TRIGger<n>:SLOPe", "TRIG:SLOP"),
        *_setting_commands("TRIGger<n>:COUNt", "TRIG:COUN"),
        *_setting_commands("TRIGger<n>:DELay", "TRIG:DEL"),
        *_setting_commands("TRIGger<n>:TIMer", "TRIG:TIM"),
        *_setting_commands("OUTPut<n>:POLarity", "OUTP:POL"),
        *_setting_commands(SRC + "BURSt:PHASe", "BURS:PHAS"),
        *_setting_commands(SRC + "BURSt:GATE:POLarity", "BURS:GATE:POL"),
        *_setting_commands(SRC + "BURSt:INTernal:PERiod", "BURS:INT:PER"),
    )
