"""The ElectronicLoad role over any model's declared controls.

A load model declares, as PyMeasure controls, `function` (regulation mode), one level
per mode (`current_level`, `voltage_level`, `resistance_level`, `power_level`),
`input_state` and the `voltage`/`current`/`power` measurements, plus `short_state` and a
slew control where the model has them. This mixin turns those into the role methods,
so every model answers the same calls and refuses an out-of-range level before the mode
change is even sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pymeasure.instruments.validators import strict_range

MODES = ("CC", "CV", "CR", "CP")
_LEVEL_ATTR = {
    "CC": "current_level",
    "CV": "voltage_level",
    "CR": "resistance_level",
    "CP": "power_level",
}
# Every spelling a load may answer `FUNC?` with, read as the role's mode name.
_MODE_READ = {
    "CC": "CC",
    "CURR": "CC",
    "CURRENT": "CC",
    "CV": "CV",
    "VOLT": "CV",
    "VOLTAGE": "CV",
    "CR": "CR",
    "RES": "CR",
    "RESISTANCE": "CR",
    "CP": "CP",
    "POW": "CP",
    "POWER": "CP",
}


def read_mode(reply: str) -> str:
    """`FUNC?` reply -> CC/CV/CR/CP; loads answer in short, long or CC-style words."""
    try:
        return _MODE_READ[reply.strip().strip('"').upper()]
    except KeyError:
        raise ValueError(f"unknown load mode {reply!r}") from None


class LoadRole:
    """Role methods of an electronic load; mixed into a ScpiInstrument model."""

    # role mode -> the word this model's `FUNC` command takes
    MODE_WORDS: ClassVar[Mapping[str, str]] = {
        "CC": "CURR",
        "CV": "VOLT",
        "CR": "RES",
        "CP": "POW",
    }
    # role mode -> programmable range of that mode's level, as the model states it
    LEVELS: ClassVar[Mapping[str, tuple[float, float]]]
    # the model's slew unit in A/s (1e6 for A/us), and its slew range in that unit
    SLEW_UNIT: ClassVar[float] = 1e6
    SLEW_RANGE: ClassVar[tuple[float, float] | None] = None

    function: Any
    input_state: Any
    voltage: Any
    current: Any
    power: Any

    def _level_range(self, mode: str) -> tuple[float, float]:
        if mode not in MODES:
            raise ValueError(f"load mode must be one of {', '.join(MODES)}, got {mode!r}")
        if mode not in self.LEVELS:
            raise ValueError(f"{type(self).__name__} has no {mode} mode")
        return self.LEVELS[mode]

    def set_mode(self, mode: str) -> None:
        self._level_range(mode)
        self.function = self.MODE_WORDS[mode]

    def mode(self) -> str:
        return read_mode(str(self.function))

    def set_level(self, mode: str, value: float) -> None:
        """Set the level of `mode` (A, V, ohm or W) without changing the active mode."""
        strict_range(value, self._level_range(mode))
        setattr(self, _LEVEL_ATTR[mode], value)

    def configure(self, mode: str, value: float) -> None:
        """Select `mode` and set its level; the level is checked before either is sent."""
        strict_range(value, self._level_range(mode))
        self.set_mode(mode)
        self.set_level(mode, value)

    def set_constant_current(self, amps: float) -> None:
        self.configure("CC", amps)

    def set_input(self, on: bool) -> None:
        self.input_state = bool(on)

    def input_enabled(self) -> bool:
        return bool(self.input_state)

    def measure_voltage(self) -> float:
        return float(self.voltage)

    def measure_current(self) -> float:
        return float(self.current)

    def measure_power(self) -> float:
        return float(self.power)

    def set_slew(self, amps_per_second: float) -> None:
        """Current slew rate for both edges, in A/s whatever unit the model takes."""
        if self.SLEW_RANGE is None:
            raise NotImplementedError(f"{type(self).__name__} has no programmable slew")
        value = amps_per_second / self.SLEW_UNIT
        strict_range(value, self.SLEW_RANGE)
        self._write_slew(value)

    def _write_slew(self, value: float) -> None:
        self.slew = value  # type: ignore[attr-defined]


class ShortingLoad:
    """Short mode: the load sinks the most current its present range allows."""

    short_state: Any

    def set_short(self, on: bool) -> None:
        self.short_state = bool(on)

    def short_enabled(self) -> bool:
        return bool(self.short_state)
