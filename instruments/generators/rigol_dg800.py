"""Rigol DG822 (DG800 series), built on PyMeasure's own `DG800`.

PyMeasure's channel table states `:OUTP{ch} ON|OFF`, `:OUTP{ch}:IMP INF|50` and
`:SOUR{ch}:APPL:DC 1,1,<offset>` (its `shape` setter always addresses source 1, so the
function is set here with the channel's own header); the pulse, burst and trigger
commands are the DG800/DG1000Z ones: `:SOUR{ch}:FUNC PULS`, `:SOUR{ch}:VOLT:HIGH/LOW`,
`:SOUR{ch}:PULS:WIDT`, `:SOUR{ch}:FUNC:PULS:TRAN[:LEAD]` and `:TRA` (10 ns to 0.625 × the
width: DG800 Programming Guide p.2-79), `:SOUR{ch}:BURS ON`, `:BURS:MODE TRIG`,
`:BURS:NCYC 1`, `:BURS:TRIG:SOUR MAN`, fired with `:SOUR{ch}:BURS:TRIG`. PyMeasure's
controls do not read the error queue; every setting here does.

Levels are open-circuit volts: the output impedance is declared infinite (HighZ, which
reads back 9.900000E+37: DG1000Z Programming Guide p.2-56) before a level is sent; ±10 V
open circuit. The instrument clamps an out-of-range value to its limit instead of
refusing it (p.2-184), so the driver refuses it first.

Accuracy (`ACCURACY`): the DG1000Z's DC offset accuracy, ±(1 % of setting + 5 mV +
0.5 % of amplitude) (DG1000Z Performance Verification Guide, Table 2-2), with no
amplitude in the DC function; applied to the DG800, for which it is unconfirmed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pymeasure.instruments import Channel, Instrument
from pymeasure.instruments.rigol.rigol_dg800 import DG800, VoltageChannel
from pymeasure.instruments.validators import strict_discrete_set

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.generators.base import GeneratorRole
from instruments.scpi import ScpiChannel, ScpiInstrument

EMF_PEAK_V = 10.0
_SPEC = (
    "Rigol DG1000Z Performance Verification Guide (edition not read), p.2-8 Table 2-2, "
    "DG1000Z DC offset accuracy (DG800: unconfirmed)"
)


class DG822Channel(ScpiChannel, VoltageChannel):
    """PyMeasure's DG800 channel, addressed by an integer number; the output state read
    as the words it answers (the rig's strict reader takes no word for a number)."""

    output_enabled = Channel.control(
        ":OUTP{ch}?",
        ":OUTP{ch} %s",
        """Control whether the output is on (bool).""",
        validator=strict_discrete_set,
        values={True: "ON", False: "OFF"},
        map_values=True,
        cast=str,
    )


class RigolDG822(GeneratorRole, ScpiInstrument, DG800):
    """Rigol DG822: two outputs, 25 MHz, ±10 V open-circuit."""

    VENDORS = ("RIGOL TECHNOLOGIES",)
    MODEL = "DG822"
    channel_count = 2
    EMF_PEAK_V = EMF_PEAK_V
    EDGE_MIN_S = 10e-9
    EDGE_MAX_S = 1.0
    WIDTH_MIN_S = 16e-9
    ACCURACY: ClassVar[AccuracyTable] = {
        "voltage_set": (Accuracy(1.0, 5e-3, EMF_PEAK_V, f"{_SPEC}, DC offset"),),
    }

    channel_1 = Instrument.ChannelCreator(DG822Channel, 1)
    channel_2 = Instrument.ChannelCreator(DG822Channel, 2)

    def __init__(self, adapter: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(adapter, name, **kwargs)

    def _high_impedance(self, ch: Any) -> None:
        ch.high_impedance = True
        self.raise_errors()

    def _dc(self, ch: Any, volts: float) -> None:
        self._set(f":SOUR{ch.id}:BURS OFF")
        ch.dc = volts
        self.raise_errors()

    def _dc_level(self, ch: Any) -> float:
        return float(self.values(f":SOUR{ch.id}:VOLT:OFFS?")[0])

    def _pulse(self, ch: Any, low: float, high: float, width: float, edge: float) -> None:
        n = ch.id
        if edge > 0.625 * width:
            raise ValueError(f"edge {edge:g} s beyond 0.625 x the width {width:g} s")
        period = max(2 * (width + edge), 1e-3)
        if float(self.ask(f":SOUR{n}:PULS:WIDT?")) > width:
            # narrow the pulse in force first: a shorter period must not meet a wider
            # pulse than it can hold (the instrument refuses with -221)
            self._set(f":SOUR{n}:PULS:WIDT {width:g}")
        # function, period and both levels in one command (PyMeasure's `pulse`): no
        # intermediate pair of levels the instrument would clamp
        ch.pulse = (1 / period, high - low, (high + low) / 2, 0.0)
        self.raise_errors()
        self._set(f":SOUR{n}:PULS:WIDT {width:g}")
        self._set(f":SOUR{n}:FUNC:PULS:TRAN {edge:g}")
        self._set(f":SOUR{n}:FUNC:PULS:TRAN:TRA {edge:g}")
        self._set(f":SOUR{n}:BURS:MODE TRIG")
        self._set(f":SOUR{n}:BURS:NCYC 1")
        self._set(f":SOUR{n}:BURS:TRIG:SOUR MAN")
        self._set(f":SOUR{n}:BURS ON")

    def _fire(self, ch: Any) -> None:
        self._set(f":SOUR{ch.id}:BURS:TRIG")

    def _output(self, ch: Any, on: bool) -> None:
        ch.output_enabled = bool(on)
        self.raise_errors()

    def _output_enabled(self, ch: Any) -> bool:
        return bool(ch.output_enabled)
