"""Keysight 34465A DMM in digitize mode (DIG option): level-triggered DC-volt captures.

A capture is set up as the Truevolt manual describes: `CONF:VOLT:DC <range>` (a fixed
range), `VOLT:DC:ZERO:AUTO OFF`, `VOLT:DC:APER <s>`, `SAMP:SOUR TIM`, `SAMP:TIM <s>`
(20 µs minimum with DIG), `SAMP:COUN <n>`, `SAMP:COUN:PRET <n>`, then `TRIG:SOUR INT`,
`TRIG:LEV <V>`, `TRIG:SLOP POS|NEG` and `INIT`. Progress is polled with
`STAT:OPER:COND?` (bit 4 measuring, bit 5 waiting for trigger) rather than `*OPC?`,
which would hold the bus for the whole capture. Readings come back as ASCII (`FETC?`) or
in definite-length blocks (`R? <n>`, which also frees the reading memory).

Accuracy (`ACCURACY`): DC volts, 1 year, per range (% of reading + % of range, the latter
written as an offset in volts), plus the noise of a 20 µs aperture; and the timebase of
the sample timer. As recalled from the 34465A data sheet; NOT confirmed against a stored
copy, so each source says "(unconfirmed)".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from pymeasure.instruments import Instrument
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.digitizers.capture import Capture, CaptureSettings, parse_ascii_readings
from instruments.errors import InstrumentReplyError
from instruments.scpi import ScpiInstrument

RANGES = (0.1, 1.0, 10.0, 100.0, 1000.0)
MIN_INTERVAL_S = 20e-6
MAX_POINTS = 2_000_000
BLOCK_READINGS = 50_000  # readings per `R?` block: a bounded reply size
OPER_MEASURING = 16
OPER_WAITING = 32
_DCV = (
    "Keysight Truevolt 34460A/61A/65A/70A data sheet (revision not read), DC voltage "
    "accuracy table, 1 year, plus the 0.001 PLC noise adder (unconfirmed)"
)
_TB = (
    "Keysight Truevolt 34460A/61A/65A/70A data sheet (revision not read), digitizing: "
    "sample timer accuracy (unconfirmed)"
)


def _dcv(rdg_pct: float, range_pct: float, rng: float) -> Accuracy:
    return Accuracy(rdg_pct, range_pct / 100.0 * rng, rng * 1.2, _DCV)


class Keysight34465A(ScpiInstrument):
    """Keysight 34465A (or 34470A) digitizing DC volts on its one input."""

    VENDORS = ("Keysight Technologies", "Agilent Technologies")
    MODEL = "34465A"
    HAS_OPT = True
    channel_count = 1
    ACCURACY: ClassVar[AccuracyTable] = {
        "voltage_meas": (
            _dcv(0.0050, 0.0035 + 0.0300, 0.1),
            _dcv(0.0040, 0.0007 + 0.0100, 1.0),
            _dcv(0.0035, 0.0005 + 0.0100, 10.0),
            _dcv(0.0045, 0.0006 + 0.0100, 100.0),
            _dcv(0.0045, 0.0010 + 0.0100, 1000.0),
        ),
        "timebase": (Accuracy(0.01, 0.0, source=_TB),),
    }

    voltage_range = Instrument.control(
        "VOLT:DC:RANG?",
        "VOLT:DC:RANG %g",
        """Control the fixed DC-volt range (V).""",
        validator=strict_discrete_set,
        values=RANGES,
        check_set_errors=True,
    )
    sample_timer = Instrument.control(
        "SAMP:TIM?",
        "SAMP:TIM %g",
        """Control the sample interval (s), 20 µs-3600 s.""",
        validator=strict_range,
        values=[MIN_INTERVAL_S, 3600],
        check_set_errors=True,
    )
    sample_count = Instrument.control(
        "SAMP:COUN?",
        "SAMP:COUN %d",
        """Control the number of samples per trigger.""",
        validator=strict_range,
        values=[1, MAX_POINTS],
        cast=int,
        check_set_errors=True,
    )
    pretrigger_count = Instrument.control(
        "SAMP:COUN:PRET?",
        "SAMP:COUN:PRET %d",
        """Control how many of the samples precede the trigger.""",
        validator=strict_range,
        values=[0, MAX_POINTS - 1],
        cast=int,
        check_set_errors=True,
    )
    trigger_level = Instrument.control(
        "TRIG:LEV?",
        "TRIG:LEV %g",
        """Control the internal (level) trigger threshold (V).""",
        validator=strict_range,
        values=[-1200, 1200],
        check_set_errors=True,
    )
    trigger_slope = Instrument.control(
        "TRIG:SLOP?",
        "TRIG:SLOP %s",
        """Control the level-trigger direction: POS or NEG.""",
        validator=strict_discrete_set,
        values=("POS", "NEG"),
        cast=str,
        check_set_errors=True,
    )
    operation_condition = Instrument.measurement(
        "STAT:OPER:COND?", """Get the standard operation condition register.""", cast=int
    )
    points_in_memory = Instrument.measurement(
        "DATA:POIN?", """Get how many readings the memory holds.""", cast=int
    )

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._armed = False
        self._settings: CaptureSettings | None = None

    @staticmethod
    def _check(channel: int) -> None:
        if channel != 1:
            raise ValueError(f"the 34465A has one input (channel 1), got {channel!r}")

    def configure_capture(
        self,
        channel: int,
        full_scale_v: float,
        sample_interval_s: float,
        points: int,
        pretrigger_points: int,
        also: Mapping[int, float] | None = None,
    ) -> CaptureSettings:
        """Fixed range ≥ full_scale_v, timed sampling, pre-trigger; returns what is set.

        Everything is validated before the first byte: a range beyond 1000 V, an interval
        under 20 µs, a pre-trigger count not below `points`, or a second input (`also`:
        the DMM has one) is a ValueError.
        """
        self._check(channel)
        if also:
            raise ValueError(f"the {self.MODEL} digitizes one input; asked for {sorted(also)} too")
        rng = next((r for r in RANGES if abs(full_scale_v) <= r), None)
        if rng is None:
            raise ValueError(f"full scale {full_scale_v:g} V beyond the 1000 V range")
        strict_range(sample_interval_s, [MIN_INTERVAL_S, 3600])
        strict_range(points, [1, MAX_POINTS])
        if not 0 <= pretrigger_points < points:
            raise ValueError(f"pretrigger_points must be in 0..{points - 1}")
        aperture = min(sample_interval_s, 1.0)
        self.write(f"CONF:VOLT:DC {rng:g}")
        self.check_set_errors()
        self.write("VOLT:DC:ZERO:AUTO OFF")
        self.check_set_errors()
        self.write(f"VOLT:DC:APER {aperture:g}")
        self.check_set_errors()
        self.write("SAMP:SOUR TIM")
        self.check_set_errors()
        self.sample_timer = sample_interval_s
        self.sample_count = points
        self.pretrigger_count = pretrigger_points
        self._settings = CaptureSettings(
            float(self.sample_timer), int(points), int(pretrigger_points), rng
        )
        return self._settings

    def set_trigger(self, channel: int, level_v: float, rising: bool = True) -> None:
        self._check(channel)
        self.write("TRIG:SOUR INT")
        self.check_set_errors()
        self.trigger_level = level_v
        self.trigger_slope = "POS" if rising else "NEG"

    def arm(self) -> None:
        self.write("INIT")
        self.check_set_errors()
        self._armed = True

    def acquisition_state(self) -> str:
        """idle, armed (waiting for the trigger), triggered (filling) or complete."""
        cond = self.operation_condition
        if cond & OPER_WAITING:
            return "armed"
        if cond & OPER_MEASURING:
            return "triggered"
        return "complete" if self._armed else "idle"

    def fetch(self, channel: int = 1, binary: bool = True) -> Capture:
        """The completed record: `R?` blocks (binary=True) or one ASCII `FETC?`."""
        self._check(channel)
        settings = self._settings
        if settings is None:
            raise RuntimeError(f"{self.name}: fetch before configure_capture")
        if binary:
            parts = []
            remaining = settings.points
            while remaining > 0:
                count = min(remaining, BLOCK_READINGS)
                self.write(f"R? {count}")
                block = self.read_definite_block().decode("ascii", "replace")
                readings = parse_ascii_readings(f"R? {count}", block)
                if len(readings) == 0:
                    break
                parts.append(readings)
                remaining -= len(readings)
            values = np.concatenate(parts) if parts else np.zeros(0)
        else:
            values = parse_ascii_readings("FETC?", self.ask("FETC?"))
        if len(values) != settings.points:
            raise InstrumentReplyError(
                "R?" if binary else "FETC?",
                f"{len(values)} readings",
                f"expected {settings.points}",
            )
        return Capture(values, settings.sample_interval_s, settings.pretrigger_points, self.name)

    def abort(self) -> None:
        self.write("ABOR")
        self._armed = False
