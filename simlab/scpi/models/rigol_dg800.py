"""Rigol DG822 two-channel 25 MHz function / arbitrary waveform generator (DG800
series), as a current-sense emulator: a DC level or a pulse into a BMS's shunt input.

The DG800/DG1000Z command tree as the rig and PyMeasure's `DG800` send it:
`:SOURce<n>:APPLy:DC|:PULSe`, `:SOURce<n>:APPLy?`, `:SOURce<n>:FUNCtion`,
`:SOURce<n>:VOLTage[:AMPLitude]|:OFFSet|:HIGH|:LOW`, `:SOURce<n>:FREQuency`,
`:SOURce<n>:[FUNCtion:]PULSe:WIDTh`, `:SOURce<n>:FUNCtion:PULSe:TRANsition[:LEADing]|
:TRAiling` (10 ns to 0.625 × the width: DG800 Programming Guide p.2-79),
`:OUTPut<n>[:STATe] ON|OFF` (queried as ON/OFF), `:OUTPut<n>:LOAD|:IMPedance` (HighZ
answers 9.900000E+37: DG1000Z Programming Guide p.2-56), `:SOURce<n>:BURSt[:STATe]|
:MODE|:NCYCles|:TRIGger:SOURce|:TRIGger[:IMMediate]`. Values beyond the range are
clamped to it, as the guide says of the offset (p.2-184); numbers answer in 7-digit
scientific form. Not confirmed against a DG800 document: the `*IDN?` fields, the `FUNC?`
and `APPL?` reply words, the minimum amplitude and pulse width, and that a triggered
pulse burst idles at the pulse's low level, the trigger's latency (1-2 µs here, drawn per
trigger). Sine, square and the other shapes carry only their offset here.

PyMeasure's `DG800` also sends `:SOURce<n>:APPLy:SINusoid|SQUare|RAMP f,a,o,phase`,
`:APPLy:NOISe a,o` and `:OUTPut<n>:SYNC ON|OFF`; they are answered (the sync output
drives nothing here). Its `shape` setter always names source 1 (`:SOUR1:FUNC`).
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Chans, Solve, command, opt
from simlab.scpi.errors import ScpiError
from simlab.scpi.models.generator import FUNCTIONS, GeneratorRating, GeneratorTwin

T = GeneratorTwin
CH = Chans.OPTIONAL
SRC = ":SOURce<n>"
NONE = Solve.NONE
REPLY_WORDS = {"PULS": "PULSE", "NOIS": "NOISE", "SQU": "SQUARE"}


def _cmd(pattern: str, handler, *args, **kw):  # type: ignore[no-untyped-def]
    return command(pattern, handler, *args, chans=CH, solve=NONE, **kw)


def _function_word(token: p.Token) -> str:
    word = p.word(token).text
    if not any(word.startswith(f) for f in FUNCTIONS):
        raise ScpiError(p.ILLEGAL_VALUE, word)
    return word


def _apply_shape(function: str):  # type: ignore[no-untyped-def]
    """`:APPL:SIN|SQU|RAMP f,a,o,phase`, as PyMeasure's `DG800` sends them: function,
    frequency and levels; the shape itself is not emulated (the output carries the
    offset), nor the phase."""

    def handler(dev, freq, amp, offset, phase, chans):  # type: ignore[no-untyped-def]
        dev.apply(function, freq, amp, offset, chans)

    return handler


class RigolDG822(GeneratorTwin):
    VENDOR = "RIGOL TECHNOLOGIES"
    MODEL = "DG822"
    FIRMWARE = "00.01.05"
    NUMBER_FORMAT = "{:.6E}"
    INT_FORMAT = "{:d}"
    OUTPUT_WORDS = ("ON", "OFF")
    FUNCTION_REPLY: ClassVar[dict[str, str]] = REPLY_WORDS
    RATING = GeneratorRating(
        channels=2,
        emf_peak_v=10.0,
        amplitude_min_vpp=1e-3,
        width_min_s=16e-9,
        edge_min_s=10e-9,
        edge_max_s=1.0,
        edge_max_of_width=0.625,
        frequency_max_hz=25e6,
        clamps=True,
    )
    RESET: ClassVar[dict[str, object]] = {"amplitude": 5.0, "lead": 20e-9, "trail": 20e-9}

    def apply_dc(
        self, freq: float | str, amp: float | str, offset: float | str, chans: list[int]
    ) -> None:
        """`:APPL:DC <f>,<a>,<offset>`: the first two are placeholders for DC."""
        self.apply("DC", None, None, offset, chans)

    def apply_pulse(
        self,
        freq: float | str,
        amp: float | str | None,
        offset: float | str | None,
        phase: float | str | None,
        chans: list[int],
    ) -> None:
        self.apply("PULS", freq, amp, offset, chans)

    def apply_noise(
        self, amp: float | str | None, offset: float | str | None, chans: list[int]
    ) -> None:
        self.apply("NOIS", None, amp, offset, chans)

    def set_sync(self, on: bool, chans: list[int]) -> None:
        for n in chans:
            self.sync[n] = on

    def get_sync(self, chans: list[int]) -> str:
        return "ON" if self.sync[chans[0]] else "OFF"

    def reset_state(self) -> None:
        super().reset_state()
        self.sync = dict.fromkeys(self.ch, True)

    def get_apply(self, chans: list[int]) -> str:
        c = self.ch[chans[0]]
        word = REPLY_WORDS.get(c.function, c.function)
        if c.function == "DC":
            fields = ["DEF", "DEF", self.fmt(c.offset)]
        else:
            fields = [self.fmt(c.frequency), self.fmt(c.amplitude), self.fmt(c.offset), self.fmt(0)]
        return '"' + ",".join([word, *fields]) + '"'

    def set_duty(self, value: float | str, chans: list[int]) -> None:
        for n in chans:
            pct = p.resolve(value, 0.0, 100.0) if isinstance(value, str) else value
            self.set_width(self.ch[n].period * pct / 100.0, [n])

    def get_duty(self, chans: list[int]) -> str:
        c = self.ch[chans[0]]
        return self.fmt(100.0 * c.width / c.period)

    COMMANDS = (
        _cmd(SRC + ":APPLy:DC", apply_dc, p.numeric, p.numeric, p.numeric),
        _cmd(SRC + ":APPLy:PULSe", apply_pulse, p.numeric, *(opt(p.numeric) for _ in range(3))),
        _cmd(SRC + ":APPLy?", get_apply),
        *(
            _cmd(SRC + f":APPLy:{name}", _apply_shape(word), *(opt(p.numeric),) * 4)
            for name, word in (("SINusoid", "SIN"), ("SQUare", "SQU"), ("RAMP", "RAMP"))
        ),
        _cmd(SRC + ":APPLy:NOISe", apply_noise, opt(p.numeric), opt(p.numeric)),
        _cmd(":OUTPut<n>:SYNC[:STATe]", set_sync, p.boolean),
        _cmd(":OUTPut<n>:SYNC[:STATe]?", get_sync),
        _cmd(SRC + ":FUNCtion[:SHAPe]", T.set_function, _function_word),
        _cmd(SRC + ":FUNCtion[:SHAPe]?", T.get_function),
        _cmd(SRC + ":FREQuency[:FIXed]", T.set_frequency, p.numeric),
        _cmd(SRC + ":FREQuency[:FIXed]?", T.get_frequency),
        _cmd(SRC + ":PERiod[:FIXed]", T.set_period, p.numeric),
        _cmd(SRC + ":PERiod[:FIXed]?", T.get_period),
        _cmd(SRC + ":VOLTage[:LEVel][:IMMediate][:AMPLitude]", T.set_amplitude, p.numeric),
        _cmd(SRC + ":VOLTage[:LEVel][:IMMediate][:AMPLitude]?", T.get_amplitude),
        _cmd(SRC + ":VOLTage[:LEVel][:IMMediate]:OFFSet", T.set_offset, p.numeric),
        _cmd(SRC + ":VOLTage[:LEVel][:IMMediate]:OFFSet?", T.get_offset),
        _cmd(SRC + ":VOLTage[:LEVel][:IMMediate]:HIGH", T.set_high, p.numeric),
        _cmd(SRC + ":VOLTage[:LEVel][:IMMediate]:HIGH?", T.get_high),
        _cmd(SRC + ":VOLTage[:LEVel][:IMMediate]:LOW", T.set_low, p.numeric),
        _cmd(SRC + ":VOLTage[:LEVel][:IMMediate]:LOW?", T.get_low),
        _cmd(SRC + "[:FUNCtion]:PULSe:WIDTh", T.set_width, p.numeric),
        _cmd(SRC + "[:FUNCtion]:PULSe:WIDTh?", T.get_width),
        _cmd(SRC + "[:FUNCtion]:PULSe:DCYCle", set_duty, p.numeric),
        _cmd(SRC + "[:FUNCtion]:PULSe:DCYCle?", get_duty),
        _cmd(SRC + ":FUNCtion:PULSe:TRANsition[:LEADing]", T.set_lead, p.numeric),
        _cmd(SRC + ":FUNCtion:PULSe:TRANsition[:LEADing]?", T.get_lead),
        _cmd(SRC + ":FUNCtion:PULSe:TRANsition:TRAiling", T.set_trail, p.numeric),
        _cmd(SRC + ":FUNCtion:PULSe:TRANsition:TRAiling?", T.get_trail),
        _cmd(":OUTPut<n>[:STATe]", T.set_output, p.boolean),
        _cmd(":OUTPut<n>[:STATe]?", T.get_output),
        _cmd(":OUTPut<n>:LOAD", T.set_load, p.token),
        _cmd(":OUTPut<n>:LOAD?", T.get_load),
        _cmd(":OUTPut<n>:IMPedance", T.set_load, p.token),
        _cmd(":OUTPut<n>:IMPedance?", T.get_load),
        _cmd(SRC + ":BURSt[:STATe]", T.set_burst, p.boolean),
        _cmd(SRC + ":BURSt[:STATe]?", T.get_burst),
        _cmd(SRC + ":BURSt:MODE", T.set_burst_mode, p.choice("TRIGgered", "GATed", "INFinity")),
        _cmd(SRC + ":BURSt:MODE?", T.get_burst_mode),
        _cmd(SRC + ":BURSt:NCYCles", T.set_cycles, p.numeric),
        _cmd(SRC + ":BURSt:NCYCles?", T.get_cycles),
        _cmd(
            SRC + ":BURSt:TRIGger:SOURce",
            T.set_trigger_source,
            p.choice("INTernal", "EXTernal", "MANual"),
        ),
        _cmd(SRC + ":BURSt:TRIGger:SOURce?", T.get_trigger_source),
        _cmd(SRC + ":BURSt:TRIGger[:IMMediate]", T.trigger_now),
    )
