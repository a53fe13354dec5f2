"""Siglent SDL1020X DC electronic load: 150 V, 30 A, 200 W, one input.

From the SDL1000X programming guide (as summarised in the reference notes and public
command references): `:SOUR:FUNC CURR|VOLT|RES|POW`, `:SOUR:CURR:LEV:IMM <A>` (likewise
VOLT, RES, POW), `:SOUR:INP:STAT ON|OFF`, `:SOUR:SHOR:STAT ON|OFF`,
`:SOUR:CURR:SLEW:POS|NEG <A/us>`, `MEAS:VOLT?`, `MEAS:CURR?`, `MEAS:POW?`.

Not confirmed against the guide itself: the `FUNC?` reply words (long or short form:
both are read), the slew range (0.001-2.5 A/us), the CR range (0.03 ohm-10 kohm) and the
accuracy figures (see `ACCURACY`).
"""

from __future__ import annotations

from typing import ClassVar

from pymeasure.instruments import Instrument
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.loads.base import LoadRole, ShortingLoad, read_mode
from instruments.scpi import ScpiInstrument, scpi_bool

_SPEC = "Siglent SDL1000X Series data sheet (revision not read), specifications table"
LEVELS = {"CC": (0, 30), "CV": (0, 150), "CR": (0.03, 10000), "CP": (0, 200)}
SLEW_RANGE = (0.001, 2.5)  # A/us


def _on_off(on: bool) -> str:
    return "ON" if on else "OFF"


def _level(mnemonic: str, mode: str) -> property:
    return Instrument.control(
        f":SOUR:{mnemonic}:LEV:IMM?",
        f":SOUR:{mnemonic}:LEV:IMM %g",
        f"""Control the {mode} level.""",
        validator=strict_range,
        values=LEVELS[mode],
        check_set_errors=True,
    )


def _switch(command: str, doc: str) -> property:
    return Instrument.control(
        command + "?",
        command + " %s",
        doc,
        validator=strict_discrete_set,
        values=(True, False),
        set_process=_on_off,
        cast=scpi_bool,
        check_set_errors=True,
    )


def _slew(command: str, doc: str) -> property:
    return Instrument.control(
        command + "?",
        command + " %g",
        doc,
        validator=strict_range,
        values=SLEW_RANGE,
        check_set_errors=True,
    )


class SiglentSDL1020X(LoadRole, ShortingLoad, ScpiInstrument):
    VENDORS = ("Siglent Technologies",)
    MODEL = "SDL1020X"
    LEVELS: ClassVar = LEVELS
    SLEW_RANGE = SLEW_RANGE
    ACCURACY: ClassVar[AccuracyTable] = {
        # CC 30 A range ± (0.05 % + 0.05 % FS); CV 150 V range ± (0.02 % + 0.025 % FS)
        "current_set": (Accuracy(0.05, 15e-3, 30.0, f"{_SPEC}, CC 30 A (unconfirmed)"),),
        "current_meas": (Accuracy(0.05, 15e-3, 30.0, f"{_SPEC}, I read-back (unconfirmed)"),),
        "voltage_set": (Accuracy(0.02, 37.5e-3, 150.0, f"{_SPEC}, CV 150 V (unconfirmed)"),),
        "voltage_meas": (Accuracy(0.02, 37.5e-3, 150.0, f"{_SPEC}, V read-back (unconfirmed)"),),
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
    current_level = _level("CURR", "CC")
    voltage_level = _level("VOLT", "CV")
    resistance_level = _level("RES", "CR")
    power_level = _level("POW", "CP")
    input_state = _switch(":SOUR:INP:STAT", """Control whether the input is on (bool).""")
    short_state = _switch(":SOUR:SHOR:STAT", """Control short mode (bool).""")
    slew_rise = _slew(":SOUR:CURR:SLEW:POS", """Control the rising CC slew (A/us).""")
    slew_fall = _slew(":SOUR:CURR:SLEW:NEG", """Control the falling CC slew (A/us).""")

    voltage = Instrument.measurement("MEAS:VOLT?", """Measure the input voltage (V).""")
    current = Instrument.measurement("MEAS:CURR?", """Measure the input current (A).""")
    power = Instrument.measurement("MEAS:POW?", """Measure the input power (W).""")

    def _write_slew(self, value: float) -> None:
        self.slew_rise = value
        self.slew_fall = value
