"""Rigol DS1104Z (DS1000Z series) oscilloscope for µs short-circuit captures.

Set-up per the DS1000Z programming guide: the input channel alone on (so the full
1 GSa/s and memory are its), probe ratio 1, `:CHANnel<n>:SCALe` the smallest 1-2-5 step
whose ±4 divisions hold the full scale, `:TIMebase:MAIN:SCALe` and `:ACQuire:MDEPth`
chosen so the sample interval is at most the one asked for and the record covers the
window asked for, `:TIMebase:MAIN:OFFSet` placing the trigger so the pre-trigger time
is kept. The sample rate actually in force is read back (`:ACQuire:SRATe?`) and the
record's timing comes from `:WAVeform:PREamble?`, never from the request.
Edge trigger: `:TRIGger:MODE EDGE`, `:TRIGger:EDGe:SOURce CHAN<n>`, `:SLOPe POS|NEG`,
`:LEVel <V>`; `:SINGle` arms; `:TRIGger:STATus?` answers WAIT, TD, RUN, AUTO or STOP.
Readout: `:WAVeform:SOURce`, `:MODE RAW`, `:FORMat BYTE|ASCii`, `:STARt`/`:STOP` in chunks
of at most 250 000 (BYTE) or 15 625 (ASCii) points, `:WAVeform:DATA?` as a TMC block;
volts = (byte − YORigin − YREFerence) × YINCrement.

Accuracy (`ACCURACY`): DC gain ±3 % of full scale (8 divisions) at ≥ 10 mV/div and the
timebase ±25 ppm, as recalled from the DS1000Z data sheet; NOT confirmed against a
stored copy, so each source says "(unconfirmed)".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from pymeasure.instruments import Channel, Instrument
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.digitizers.capture import Capture, CaptureSettings, parse_ascii_readings
from instruments.errors import InstrumentReplyError
from instruments.scpi import ScpiChannel, ScpiInstrument, scpi_bool

MAX_RATE = 1e9  # one channel on
DEPTHS = (12_000, 120_000, 1_200_000, 12_000_000, 24_000_000)  # one channel on
# With more channels on, the rate and the memory are shared (DS1000Z programming guide:
# 500 MSa/s with two, 250 MSa/s with three or four; memory halved and quartered).
SHARE = {1: 1, 2: 2, 3: 4, 4: 4}
DIVS_X = 12
TIMEBASES = tuple(
    round(m * 10.0**e, 12) for e in range(-9, 2) for m in (1, 2, 5) if 5e-9 <= m * 10.0**e <= 50
)
V_SCALES = tuple(
    round(m * 10.0**e, 6) for e in range(-3, 2) for m in (1, 2, 5) if m * 10.0**e <= 10
)
MAX_READ = {"BYTE": 250_000, "ASC": 15_625}
_SPEC = "Rigol DS1000Z Series data sheet (revision not read), specifications (unconfirmed)"


def _gain(scale: float) -> Accuracy:
    """±3 % of the 8-division full scale, on the range ±4 divisions."""
    return Accuracy(0.0, 0.03 * 8 * scale, 4 * scale, f"{_SPEC}, DC gain at {scale:g} V/div")


class DS1000ZChannel(ScpiChannel):
    display = Channel.control(
        ":CHAN{ch}:DISP?",
        ":CHAN{ch}:DISP %d",
        """Control whether the channel is on (bool).""",
        validator=strict_discrete_set,
        values=(True, False),
        set_process=int,
        cast=scpi_bool,
        check_set_errors=True,
    )
    scale = Channel.control(
        ":CHAN{ch}:SCAL?",
        ":CHAN{ch}:SCAL %g",
        """Control the vertical scale (V/div), 1 mV-10 V at probe ratio 1.""",
        validator=strict_range,
        values=[1e-3, 10],
        check_set_errors=True,
    )
    offset = Channel.control(
        ":CHAN{ch}:OFFS?",
        ":CHAN{ch}:OFFS %g",
        """Control the vertical offset (V).""",
        validator=strict_range,
        values=[-100, 100],
        check_set_errors=True,
    )
    probe = Channel.control(
        ":CHAN{ch}:PROB?",
        ":CHAN{ch}:PROB %g",
        """Control the probe ratio the scope scales by.""",
        validator=strict_discrete_set,
        values=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
        check_set_errors=True,
    )


def plan_acquisition(
    sample_interval_s: float, points: int, pretrigger_points: int, channels: int = 1
) -> tuple[float, int, float, float, int]:
    """Timebase scale, memory depth and offset for a record at least as fine and as long
    as asked, with `channels` on; returns (scale s/div, depth, offset s, interval s,
    pretrigger points)."""
    window = points * sample_interval_s
    share = SHARE[channels]
    best: tuple[int, float, float, int, float] | None = None
    for depth in (d // share for d in DEPTHS):
        for tb in TIMEBASES:
            rate = min(MAX_RATE / min(share, 4), depth / (DIVS_X * tb))
            dt = 1.0 / rate
            n = min(depth, round(DIVS_X * tb * rate))
            if dt > sample_interval_s * (1 + 1e-9) or n * dt < window * (1 - 1e-9):
                continue
            candidate = (n, -dt, tb, depth, dt)
            if best is None or candidate[:2] < best[:2]:
                best = candidate
    if best is None:
        raise ValueError(
            f"no DS1000Z setting gives {points} samples at {sample_interval_s:g} s or finer"
        )
    _n, _neg, tb, depth, dt = best
    pre_time = pretrigger_points * sample_interval_s
    offset = DIVS_X / 2 * tb - pre_time
    return tb, depth, offset, dt, round(pre_time / dt)


class RigolDS1104Z(ScpiInstrument):
    """Rigol DS1104Z four-channel scope, one channel at a time as a trip digitizer."""

    VENDORS = ("RIGOL TECHNOLOGIES",)
    MODEL = "DS1104Z"
    channel_count = 4
    ACCURACY: ClassVar[AccuracyTable] = {
        "voltage_meas": tuple(_gain(s) for s in V_SCALES if s >= 0.01),
        "timebase": (Accuracy(25e-4, 0.0, source=f"{_SPEC}, time base ±25 ppm"),),
    }

    ch_1 = Instrument.ChannelCreator(DS1000ZChannel, 1)
    ch_2 = Instrument.ChannelCreator(DS1000ZChannel, 2)
    ch_3 = Instrument.ChannelCreator(DS1000ZChannel, 3)
    ch_4 = Instrument.ChannelCreator(DS1000ZChannel, 4)

    timebase_scale = Instrument.control(
        ":TIM:MAIN:SCAL?",
        ":TIM:MAIN:SCAL %g",
        """Control the horizontal scale (s/div), 5 ns-50 s.""",
        validator=strict_range,
        values=[5e-9, 50],
        check_set_errors=True,
    )
    timebase_offset = Instrument.control(
        ":TIM:MAIN:OFFS?",
        ":TIM:MAIN:OFFS %g",
        """Control the trigger position from the screen centre (s, + moves it left).""",
        check_set_errors=True,
    )
    memory_depth = Instrument.control(
        ":ACQ:MDEP?",
        ":ACQ:MDEP %s",
        """Control the memory depth in points (per the channels on), or AUTO.""",
        validator=strict_discrete_set,
        values=(*sorted({d // n for d in DEPTHS for n in (1, 2, 4)}), "AUTO"),
        cast=str,
        check_set_errors=True,
    )
    sample_rate = Instrument.measurement(":ACQ:SRAT?", """Get the sample rate (Sa/s).""")
    trigger_status = Instrument.measurement(
        ":TRIG:STAT?", """Get the trigger state: TD, WAIT, RUN, AUTO or STOP.""", cast=str
    )

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._armed = False
        self._settings: CaptureSettings | None = None

    def _channel(self, channel: int) -> DS1000ZChannel:
        if not isinstance(channel, int) or not 1 <= channel <= self.channel_count:
            raise ValueError(f"channel must be 1..{self.channel_count}, got {channel!r}")
        return self.channels[channel]

    def _set(self, command: str) -> None:
        self.write(command)
        self.check_set_errors()

    def configure_capture(
        self,
        channel: int,
        full_scale_v: float,
        sample_interval_s: float,
        points: int,
        pretrigger_points: int,
        also: Mapping[int, float] | None = None,
    ) -> CaptureSettings:
        """The channel (and the `also` channels, each at its own full scale) on, the rest
        off, probe 1, ±full_scale_v on screen; a record at least as fine and as long as
        asked (see `plan_acquisition`). Returns what is in force for `channel`."""
        self._channel(channel)
        ranges = {channel: full_scale_v, **{n: v for n, v in (also or {}).items()}}
        scales = {n: self._scale_for(n, v) for n, v in ranges.items()}
        if not 0 <= pretrigger_points < points:
            raise ValueError(f"pretrigger_points must be in 0..{points - 1}")
        tb, depth, offset, _dt, _pre = plan_acquisition(
            sample_interval_s, points, pretrigger_points, len(ranges)
        )
        for n in range(1, self.channel_count + 1):
            self.channels[n].display = n in ranges
        for n, scale in scales.items():
            ch = self.channels[n]
            ch.probe = 1
            ch.scale = scale
            ch.offset = 0
        scale = scales[channel]
        self.timebase_scale = tb
        self.memory_depth = depth
        self.timebase_offset = offset
        rate = float(self.sample_rate)
        if not math.isfinite(rate) or rate <= 0:
            raise InstrumentReplyError(":ACQ:SRAT?", str(rate), "not a sample rate")
        dt = 1.0 / rate
        n_points = min(depth, round(DIVS_X * tb * rate))
        pre = min(max(round((DIVS_X / 2 * tb - offset) * rate), 0), n_points - 1)
        self._settings = CaptureSettings(dt, n_points, pre, 4 * scale)
        return self._settings

    def _scale_for(self, channel: int, full_scale_v: float) -> float:
        self._channel(channel)
        scale = next((s for s in V_SCALES if 4 * s >= abs(full_scale_v)), None)
        if scale is None:
            raise ValueError(f"full scale {full_scale_v:g} V beyond ±40 V at probe ratio 1")
        return scale

    def set_trigger(self, channel: int, level_v: float, rising: bool = True) -> None:
        self._channel(channel)
        self._set(":TRIG:MODE EDGE")
        self._set(f":TRIG:EDG:SOUR CHAN{channel}")
        self._set(f":TRIG:EDG:SLOP {'POS' if rising else 'NEG'}")
        self._set(f":TRIG:EDG:LEV {level_v:g}")

    def arm(self) -> None:
        self._set(":SING")
        self._armed = True

    def acquisition_state(self) -> str:
        state = self.trigger_status.strip().upper()
        if state in ("WAIT", "RUN", "AUTO"):
            return "armed"
        if state == "TD":
            return "triggered"
        if state == "STOP":
            return "complete" if self._armed else "idle"
        raise InstrumentReplyError(":TRIG:STAT?", state, "expected TD, WAIT, RUN, AUTO or STOP")

    def fetch(self, channel: int = 1, binary: bool = True) -> Capture:
        """The stopped record of `channel` from memory (RAW), BYTE blocks or ASCII."""
        self._channel(channel)
        fmt = "BYTE" if binary else "ASC"
        self._set(f":WAV:SOUR CHAN{channel}")
        self._set(":WAV:MODE RAW")
        self._set(f":WAV:FORM {fmt}")
        pre = self.values(":WAV:PRE?")
        if len(pre) != 10:
            raise InstrumentReplyError(":WAV:PRE?", str(pre), "expected 10 fields")
        points, x_inc, x_origin = int(pre[2]), float(pre[4]), float(pre[5])
        y_inc, y_origin, y_ref = float(pre[7]), float(pre[8]), float(pre[9])
        parts: list[np.ndarray] = []
        for start in range(1, points + 1, MAX_READ[fmt]):
            stop = min(start + MAX_READ[fmt] - 1, points)
            self._set(f":WAV:STAR {start}")
            self._set(f":WAV:STOP {stop}")
            self.write(":WAV:DATA?")
            block = self.read_definite_block()
            if binary:
                codes = np.frombuffer(block, dtype=np.uint8).astype(float)
                parts.append((codes - y_origin - y_ref) * y_inc)
            else:
                parts.append(parse_ascii_readings(":WAV:DATA?", block.decode("ascii", "replace")))
        values = np.concatenate(parts) if parts else np.zeros(0)
        if len(values) != points:
            raise InstrumentReplyError(":WAV:DATA?", f"{len(values)} points", f"expected {points}")
        pretrigger = round(-x_origin / x_inc) if x_inc > 0 else 0
        return Capture(values, x_inc, pretrigger, self.name, channel)

    def abort(self) -> None:
        self._set(":STOP")
        self._armed = False
