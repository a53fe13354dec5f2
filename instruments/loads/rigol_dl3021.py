"""Rigol DL3021 DC electronic load: 150 V, 40 A, 200 W, one input.

`:SOUR:FUNC?` answers `CC`/`CV`/`CR`/`CP` per the DL3000 programming guide, while
some firmware and clones echo `CURR`/`VOLT`/...; both are read as the same mode.

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
from instruments.scpi import ScpiInstrument, scpi_bool

_SPEC = "Rigol DL3000 Series data sheet, Specifications"

_MODE_ALIASES = {
    "CC": "CURR",
    "CURR": "CURR",
    "CURRENT": "CURR",
    "CV": "VOLT",
    "VOLT": "VOLT",
    "VOLTAGE": "VOLT",
    "CR": "RES",
    "RES": "RES",
    "RESISTANCE": "RES",
    "CP": "POW",
    "POW": "POW",
    "POWER": "POW",
}


def _mode(reply: str) -> str:
    try:
        return _MODE_ALIASES[reply.strip().upper()]
    except KeyError:
        raise ValueError(f"unknown load mode {reply!r}") from None


class RigolDL3021(ScpiInstrument):
    """Rigol DL3021 electronic load, used in constant-current mode on the pack."""

    VENDORS = ("RIGOL TECHNOLOGIES",)
    MODEL = "DL3021"
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
        """Control the regulation mode: CURR, VOLT, RES or POW.""",
        validator=strict_discrete_set,
        values=("CURR", "VOLT", "RES", "POW"),
        cast=_mode,
        check_set_errors=True,
    )

    current_level = Instrument.control(
        ":SOUR:CURR:LEV:IMM?",
        ":SOUR:CURR:LEV:IMM %g",
        """Control the constant-current level (A), 0-40.""",
        validator=strict_range,
        values=[0, 40],
        check_set_errors=True,
    )

    input_state = Instrument.control(
        ":SOUR:INP:STAT?",
        ":SOUR:INP:STAT %s",
        """Control whether the load input is on (bool).""",
        validator=strict_discrete_set,
        values=(True, False),
        set_process=lambda on: "ON" if on else "OFF",
        cast=scpi_bool,
        check_set_errors=True,
    )

    voltage = Instrument.measurement(":MEAS:VOLT?", """Measure the input voltage (V).""")
    current = Instrument.measurement(":MEAS:CURR?", """Measure the input current (A).""")
    power = Instrument.measurement(":MEAS:POW?", """Measure the input power (W).""")

    def set_constant_current(self, amps: float) -> None:
        """Select CC mode, then its level; the level is validated before any byte."""
        strict_range(amps, [0, 40])
        self.function = "CURR"
        self.current_level = amps

    def set_input(self, on: bool) -> None:
        self.input_state = bool(on)

    def input_enabled(self) -> bool:
        return bool(self.input_state)

    def measure_voltage(self) -> float:
        return float(self.voltage)

    def measure_current(self) -> float:
        return float(self.current)
