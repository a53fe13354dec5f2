"""Keysight 33522B (33500B series), built on PyMeasure's own `Agilent33500`.

PyMeasure's channel table states the commands (`SOUR{ch}:FUNC`, `SOUR{ch}:VOLT:OFFS`,
`SOUR{ch}:VOLT:HIGH/LOW`, `SOUR{ch}:FUNC:PULS:WIDT/PER`, `SOUR{ch}:FUNC:PULS:TRAN:BOTH`,
`OUTP{ch}`, `OUTP{ch}:LOAD`, `SOUR{ch}:BURS:STAT/MODE/NCYC`); this driver adds the rig's
behaviour (identity, typed errors, a checked error queue after every setting) and the
role the station's current-sense emulation needs (`FunctionGenerator`).

Levels are open-circuit volts: the driver declares the load infinite (`OUTP{ch}:LOAD
INF`) before it programs a level, so what it sends is what the generator's 50 Ω source
produces unloaded, ±10 V (±5 V into 50 Ω, doubled open: 33500 Series Operating and
Service Guide p.62). A single pulse is a triggered burst of one cycle from the bus
(`TRIG{ch}:SOUR BUS`, fired with `TRIG{ch}`), edges 8.4 ns to 1 µs (p.69-70).

Accuracy (`ACCURACY`): DC level ±(1 % of setting + 2 mV) open-circuit, as recalled from
the 33500B data sheet; NOT confirmed against a stored copy, so the source says
"(unconfirmed)". A bench states its emulation chain's calibration (generator and
attenuator together) in the station file.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pymeasure.instruments import Instrument

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.generators.base import GeneratorRole
from instruments.pymeasure_modules import pymeasure_module
from instruments.scpi import ScpiChannel, ScpiInstrument

# its package's other drivers import pandas (instruments.pymeasure_modules)
_pymeasure = pymeasure_module("pymeasure.instruments.agilent.agilent33500")
Agilent33500, Agilent33500Channel = _pymeasure.Agilent33500, _pymeasure.Agilent33500Channel

_SPEC = "Keysight 33500B Series Waveform Generators data sheet (revision not read)"
EMF_PEAK_V = 10.0


class Channel33522B(ScpiChannel, Agilent33500Channel):
    """PyMeasure's channel with the open-circuit ranges and checked settings."""

    shape_check_set_errors = True
    offset_values = (-EMF_PEAK_V, EMF_PEAK_V)
    offset_check_set_errors = True
    voltage_high_values = (-EMF_PEAK_V, EMF_PEAK_V)
    voltage_high_check_set_errors = True
    voltage_low_values = (-EMF_PEAK_V, EMF_PEAK_V)
    voltage_low_check_set_errors = True
    pulse_width_check_set_errors = True
    pulse_period_check_set_errors = True
    pulse_transition_check_set_errors = True
    output_check_set_errors = True
    output_load_check_set_errors = True
    burst_state_check_set_errors = True
    burst_mode_check_set_errors = True
    burst_ncycles_check_set_errors = True


class Keysight33522B(GeneratorRole, ScpiInstrument, Agilent33500):
    """Keysight 33522B: two outputs, 30 MHz, ±10 V open-circuit."""

    VENDORS = ("Keysight Technologies", "Agilent Technologies")
    MODEL = "33522B"
    channel_count = 2
    EMF_PEAK_V = EMF_PEAK_V
    EDGE_MIN_S = 8.4e-9
    EDGE_MAX_S = 1e-6
    WIDTH_MIN_S = 16e-9
    ACCURACY: ClassVar[AccuracyTable] = {
        "voltage_set": (
            Accuracy(1.0, 2e-3, EMF_PEAK_V, f"{_SPEC}, DC level, open circuit (unconfirmed)"),
        ),
    }

    ch_1 = Instrument.ChannelCreator(Channel33522B, 1)
    ch_2 = Instrument.ChannelCreator(Channel33522B, 2)

    def __init__(self, adapter: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(adapter, name, **kwargs)

    # --- the FunctionGenerator role in this model's commands ----------------------------

    def _high_impedance(self, ch: Any) -> None:
        ch.output_load = "INF"

    def _dc(self, ch: Any, volts: float) -> None:
        ch.burst_state = False
        ch.shape = "DC"
        ch.offset = volts

    def _dc_level(self, ch: Any) -> float:
        return float(ch.offset)

    def _pulse(self, ch: Any, low: float, high: float, width: float, edge: float) -> None:
        period = max(2 * (width + edge), 1e-3)
        if ch.pulse_width > width:
            # narrow the pulse in force first: a shorter period must not meet a wider
            # pulse than it can hold (the instrument refuses with -221)
            ch.pulse_width = width
        # function, period and both levels in one command: no intermediate pair of
        # levels to conflict with the ones in force
        self._set(f"SOUR{ch.id}:APPL:PULS {1 / period:g},{high - low:g},{(high + low) / 2:g}")
        ch.pulse_width = width
        ch.pulse_transition = edge
        ch.burst_mode = "TRIG"
        ch.burst_ncycles = 1
        self._set(f"TRIG{ch.id}:SOUR BUS")
        ch.burst_state = True

    def _fire(self, ch: Any) -> None:
        self._set(f"TRIG{ch.id}")

    def _output(self, ch: Any, on: bool) -> None:
        ch.output = bool(on)

    def _output_enabled(self, ch: Any) -> bool:
        return bool(ch.output)
