"""Powertek MC642 (Meatest M642) programmable resistance decade: one NTC.

Identity and the SCPI error queue (`SYSTem:ERRor?`) are as the MC642 operation manual
gives them. NOT confirmed against the manual's command tree, which could not be read:
the resistance and output commands (SCPI-99 source subsystem, `RES <ohms>` / `RES?`,
`OUTP ON|OFF` / `OUTP?`), the 0-10 MΩ range and the accuracy below (as recalled from
the M642 data sheet). Each is marked "(unconfirmed)"; confirm before a bench relies on it.
"""

from __future__ import annotations

from typing import ClassVar

from pymeasure.instruments import Instrument
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.scpi import ScpiInstrument, scpi_bool
from instruments.thermistors.base import SingleResistance

R_MAX = 10e6
_SPEC = (
    "Meatest M642 / Powertek MC642 data sheet (revision not read), resistance accuracy "
    "table, 1 year (unconfirmed)"
)


class PowertekMC642(SingleResistance, ScpiInstrument):
    """Powertek MC642 resistance decade; its output emulates one NTC."""

    VENDORS = ("Powertek", "MEATEST")
    MODEL = "MC642"
    RESISTANCE_RANGE = (0.0, R_MAX)
    ACCURACY: ClassVar[AccuracyTable] = {
        "resistance_set": (
            Accuracy(0.01, 0.02, 1_000.0, _SPEC),
            Accuracy(0.01, 0.1, 100_000.0, _SPEC),
            Accuracy(0.03, 10.0, R_MAX, _SPEC),
        ),
    }

    resistance_setpoint = Instrument.control(
        "RES?",
        "RES %g",
        """Control the output resistance (Ω), 0-1e7 (unconfirmed command and range).""",
        validator=strict_range,
        values=[0, R_MAX],
        check_set_errors=True,
    )

    output_state = Instrument.control(
        "OUTP?",
        "OUTP %s",
        """Control whether the output terminals are connected (bool).""",
        validator=strict_discrete_set,
        values=(True, False),
        set_process=lambda on: "ON" if on else "OFF",
        cast=scpi_bool,
        check_set_errors=True,
    )
