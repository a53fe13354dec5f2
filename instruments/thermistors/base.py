"""Role methods of a single-output programmable resistance (ResistanceSource).

The calibrator and the decade box each have one pair of output terminals; a station
wires one NTC to each. Their command sets differ, so each model declares its controls
(`resistance_setpoint`, `output_state`) and inherits the channel-numbered role methods.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SingleResistance:
    channel_count: ClassVar[int] = 1
    RESISTANCE_RANGE: ClassVar[tuple[float, float]] = (0.0, 0.0)

    resistance_setpoint: Any
    output_state: Any

    def _check(self, channel: int) -> None:
        if channel != 1:
            raise ValueError(f"{type(self).__name__} has one output (channel 1), got {channel!r}")

    def set_resistance(self, channel: int, ohms: float) -> None:
        self._check(channel)
        self.resistance_setpoint = ohms

    def resistance(self, channel: int) -> float:
        """The programmed resistance read back from the instrument (Ω)."""
        self._check(channel)
        return float(self.resistance_setpoint)

    def set_output(self, channel: int, on: bool) -> None:
        self._check(channel)
        self.output_state = bool(on)

    def output_enabled(self, channel: int) -> bool:
        self._check(channel)
        return bool(self.output_state)
