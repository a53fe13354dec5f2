"""Keysight EL34143A DC electronic load: 150 V, 60 A, 350 W, one input.

The EL30000 dialect names the input with a channel list on every command: `FUNC CURR,(@1)`,
`CURR 2.5,(@1)`, `INP 1,(@1)`, `INP:SHOR 1,(@1)` (short: the input sinks its present
range's full current), `CURR:SLEW <A/s>,(@1)`, `MEAS:VOLT? (@1)`, `MEAS:POW? (@1)`;
`FUNC?` answers the short form (`CURR`).

Not confirmed against the EL30000 programming guide: the CR range (0.05 ohm-15 kohm),
the slew range (830 A/s-2.5 MA/s) and the accuracy figures (see `ACCURACY`).
"""

from __future__ import annotations

from typing import ClassVar

from pymeasure.instruments import Instrument
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.loads.base import LoadRole, ShortingLoad, read_mode
from instruments.scpi import ScpiInstrument, scpi_bool

_SPEC = (
    "Keysight EL30000 Series DC Electronic Loads data sheet (revision not read), "
    "EL34143A specifications table"
)
LEVELS = {"CC": (0, 60), "CV": (0, 150), "CR": (0.05, 15000), "CP": (0, 350)}
SLEW_RANGE = (830.0, 2.5e6)  # A/s


def _level(mnemonic: str, mode: str) -> property:
    return Instrument.control(
        f"{mnemonic}? (@1)",
        f"{mnemonic} %g,(@1)",
        f"""Control the {mode} level.""",
        validator=strict_range,
        values=LEVELS[mode],
        check_set_errors=True,
    )


def _switch(command: str, doc: str) -> property:
    return Instrument.control(
        command + "? (@1)",
        command + " %d,(@1)",
        doc,
        validator=strict_discrete_set,
        values=(True, False),
        set_process=int,
        cast=scpi_bool,
        check_set_errors=True,
    )


class KeysightEL34143A(LoadRole, ShortingLoad, ScpiInstrument):
    VENDORS = ("Keysight Technologies",)
    MODEL = "EL34143A"
    HAS_OPT = True
    LEVELS: ClassVar = LEVELS
    SLEW_UNIT = 1.0
    SLEW_RANGE = SLEW_RANGE
    ACCURACY: ClassVar[AccuracyTable] = {
        "current_set": (Accuracy(0.05, 20e-3, 60.0, f"{_SPEC}, CC 60 A (unconfirmed)"),),
        "current_meas": (Accuracy(0.05, 15e-3, 60.0, f"{_SPEC}, I meas 60 A (unconfirmed)"),),
        "voltage_set": (Accuracy(0.03, 20e-3, 150.0, f"{_SPEC}, CV 150 V (unconfirmed)"),),
        "voltage_meas": (Accuracy(0.03, 15e-3, 150.0, f"{_SPEC}, V meas (unconfirmed)"),),
    }

    function = Instrument.control(
        "FUNC? (@1)",
        "FUNC %s,(@1)",
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
    input_state = _switch("INP", """Control whether the input is on (bool).""")
    short_state = _switch("INP:SHOR", """Control short mode (bool).""")
    slew = Instrument.control(
        "CURR:SLEW? (@1)",
        "CURR:SLEW %g,(@1)",
        """Control the CC slew rate for both edges (A/s).""",
        validator=strict_range,
        values=SLEW_RANGE,
        check_set_errors=True,
    )

    voltage = Instrument.measurement("MEAS:VOLT? (@1)", """Measure the input voltage (V).""")
    current = Instrument.measurement("MEAS:CURR? (@1)", """Measure the input current (A).""")
    power = Instrument.measurement("MEAS:POW? (@1)", """Measure the input power (W).""")
