"""Rigol DL3021 DC electronic load: 150 V, 40 A, 200 W, one input.

`:SOUR:FUNC?` answers `CC`/`CV`/`CR`/`CP` per the DL3000 programming guide, while
some firmware and clones echo `CURR`/`VOLT`/...; both are read as the same mode.
"""

from __future__ import annotations

from pymeasure.instruments import Instrument
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.scpi import ScpiInstrument, scpi_bool

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
