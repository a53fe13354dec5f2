"""Rigol DL3021 DC electronic load: 150 V, 40 A, 200 W, one input.

`:SOUR:FUNC?` answers `CC`/`CV`/`CR`/`CP` per the DL3000 programming guide, while
some firmware and clones echo `CURR`/`VOLT`/...; both are read as the same mode.

Not confirmed against the DL3000 programming guide: the short-circuit command
(`:SOUR:SHOR:STAT`, from the reference notes) and the slew command and its range
(`:SOUR:CURR:SLEW`, 0.001-2.5 A/us).

Accuracy (`ACCURACY`): the DL3000 states CC accuracy per current range (4 A / 40 A) and
CV/read-back accuracy per voltage range (15 V / 150 V) as % of setting + % of full scale;
the offset below is that % of full scale in amps or volts. This driver never selects a
range, so only the high ranges (the *RST ranges) are listed: a small value is not
credited with the low range's smaller offset. Not confirmed against a stored copy of the
datasheet: the figures are as recalled from Rigol's "DL3000 Series Programmable DC
Electronic Load" data sheet (Specifications table); each `source` says so. A station file
should replace them with the unit's calibration certificate.
"""

from __future__ import annotations

from typing import ClassVar

from pymeasure.instruments import Instrument
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.loads.base import LoadRole, ShortingLoad, read_mode
from instruments.scpi import ScpiInstrument, scpi_bool
from instruments.serial_line import SerialLine

_SPEC = "Rigol DL3000 Series data sheet (revision not read), Specifications table"


def _on_off(on: bool) -> str:
    return "ON" if on else "OFF"


class RigolDL3021(LoadRole, ShortingLoad, ScpiInstrument):
    """Rigol DL3021 electronic load, used in constant-current mode on the pack."""

    VENDORS = ("RIGOL TECHNOLOGIES",)
    MODEL = "DL3021"
    SERIAL = SerialLine(baud_rate=9600)  # RS232 port, factory 9600 8N1, no flow control
    LEVELS: ClassVar = {"CC": (0, 40), "CV": (0, 150), "CR": (0.08, 15000), "CP": (0, 200)}
    SLEW_RANGE = (0.001, 2.5)
    ACCURACY: ClassVar[AccuracyTable] = {
        # ± (0.05 % of setting + 0.05 % of 40 A)
        "current_set": (Accuracy(0.05, 20e-3, 40.0, f"{_SPEC}, CC 40 A range (unconfirmed)"),),
        "current_meas": (Accuracy(0.05, 20e-3, 40.0, f"{_SPEC}, 40 A read-back (unconfirmed)"),),
        # ± (0.03 % of setting + 0.025 % of 150 V) / ± (0.015 % + 0.015 % of 150 V)
        "voltage_set": (Accuracy(0.03, 37.5e-3, 150.0, f"{_SPEC}, CV 150 V range (unconfirmed)"),),
        "voltage_meas": (
            Accuracy(0.015, 22.5e-3, 150.0, f"{_SPEC}, 150 V read-back (unconfirmed)"),
        ),
    }

    function = Instrument.control(
        ":SOUR:FUNC?",
        ":SOUR:FUNC %s",
        """Control the regulation mode: CURR, VOLT, RES or POW (read back as CC/CV/CR/CP).""",
        validator=strict_discrete_set,
        values=("CURR", "VOLT", "RES", "POW"),
        cast=read_mode,
        check_set_errors=True,
    )

    current_level = Instrument.control(
        ":SOUR:CURR:LEV:IMM?",
        ":SOUR:CURR:LEV:IMM %g",
        """Control the constant-current level (A).""",
        validator=strict_range,
        values=LEVELS["CC"],
        check_set_errors=True,
    )
    voltage_level = Instrument.control(
        ":SOUR:VOLT:LEV:IMM?",
        ":SOUR:VOLT:LEV:IMM %g",
        """Control the constant-voltage level (V).""",
        validator=strict_range,
        values=LEVELS["CV"],
        check_set_errors=True,
    )
    resistance_level = Instrument.control(
        ":SOUR:RES:LEV:IMM?",
        ":SOUR:RES:LEV:IMM %g",
        """Control the constant-resistance level (ohm).""",
        validator=strict_range,
        values=LEVELS["CR"],
        check_set_errors=True,
    )
    power_level = Instrument.control(
        ":SOUR:POW:LEV:IMM?",
        ":SOUR:POW:LEV:IMM %g",
        """Control the constant-power level (W).""",
        validator=strict_range,
        values=LEVELS["CP"],
        check_set_errors=True,
    )

    input_state = Instrument.control(
        ":SOUR:INP:STAT?",
        ":SOUR:INP:STAT %s",
        """Control whether the load input is on (bool).""",
        validator=strict_discrete_set,
        values=(True, False),
        set_process=_on_off,
        cast=scpi_bool,
        check_set_errors=True,
    )
    short_state = Instrument.control(
        ":SOUR:SHOR:STAT?",
        ":SOUR:SHOR:STAT %s",
        """Control short mode: the input sinks its range's full current (bool).""",
        validator=strict_discrete_set,
        values=(True, False),
        set_process=_on_off,
        cast=scpi_bool,
        check_set_errors=True,
    )
    slew = Instrument.control(
        ":SOUR:CURR:SLEW?",
        ":SOUR:CURR:SLEW %g",
        """Control the CC slew rate for both edges (A/us).""",
        validator=strict_range,
        values=SLEW_RANGE,
        check_set_errors=True,
    )

    voltage = Instrument.measurement(":MEAS:VOLT?", """Measure the input voltage (V).""")
    current = Instrument.measurement(":MEAS:CURR?", """Measure the input current (A).""")
    power = Instrument.measurement(":MEAS:POW?", """Measure the input power (W).""")
