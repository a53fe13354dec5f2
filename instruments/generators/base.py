"""The `FunctionGenerator` role over a model's channels: levels in open-circuit volts.

A model driver states its envelope (`EMF_PEAK_V`, edge and width limits) and the few
calls its dialect needs (`_high_impedance`, `_dc`, `_pulse`, `_fire`, `_output`); the
checks every model shares live here, so a level or a pulse beyond the model is refused
with ValueError before a byte is sent.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GeneratorRole:
    """Role methods (instruments.roles.FunctionGenerator) over `channels[n]`."""

    channel_count: ClassVar[int]
    EMF_PEAK_V: ClassVar[float]
    EDGE_MIN_S: ClassVar[float]
    EDGE_MAX_S: ClassVar[float]
    WIDTH_MIN_S: ClassVar[float]
    channels: dict[Any, Any]

    def _ch(self, number: int) -> Any:
        if not isinstance(number, int) or not 1 <= number <= self.channel_count:
            raise ValueError(f"channel must be 1..{self.channel_count}, got {number!r}")
        return self.channels[number]

    def _level(self, volts: float) -> float:
        if not abs(volts) <= self.EMF_PEAK_V:
            raise ValueError(
                f"{volts:g} V open-circuit is beyond the output's ±{self.EMF_PEAK_V:g} V"
            )
        return float(volts)

    def _set(self, command: str) -> None:
        self.write(command)  # type: ignore[attr-defined]
        self.raise_errors()  # type: ignore[attr-defined]

    def set_high_impedance(self, channel: int) -> None:
        """Levels are programmed as open-circuit volts from here on."""
        self._high_impedance(self._ch(channel))

    def set_dc(self, channel: int, volts: float) -> None:
        """A steady level (the DC function), open-circuit volts."""
        self._dc(self._ch(channel), self._level(volts))

    def dc_level(self, channel: int) -> float:
        """The programmed DC level as the instrument reports it."""
        return self._dc_level(self._ch(channel))

    def configure_pulse(
        self, channel: int, low_v: float, high_v: float, width_s: float, edge_s: float
    ) -> None:
        """One pulse per trigger from `low_v` to `high_v`, `width_s` between the 50 %
        points, both edges `edge_s`; the output idles at `low_v` until `fire`."""
        ch = self._ch(channel)
        low, high = self._level(low_v), self._level(high_v)
        if not high > low:
            raise ValueError(f"pulse high {high:g} V must be above its low {low:g} V")
        if not self.EDGE_MIN_S <= edge_s <= self.EDGE_MAX_S:
            raise ValueError(
                f"edge {edge_s:g} s outside {self.EDGE_MIN_S:g}..{self.EDGE_MAX_S:g} s"
            )
        if not width_s >= max(self.WIDTH_MIN_S, edge_s):
            raise ValueError(f"pulse width {width_s:g} s below the minimum")
        self._pulse(ch, low, high, width_s, edge_s)

    def fire(self, channel: int) -> None:
        """Trigger the configured pulse now."""
        self._fire(self._ch(channel))

    def set_output(self, channel: int, on: bool) -> None:
        self._output(self._ch(channel), on)

    def output_enabled(self, channel: int) -> bool:
        return self._output_enabled(self._ch(channel))

    # --- what a model implements ----------------------------------------------------------

    def _high_impedance(self, ch: Any) -> None:
        raise NotImplementedError

    def _dc(self, ch: Any, volts: float) -> None:
        raise NotImplementedError

    def _dc_level(self, ch: Any) -> float:
        raise NotImplementedError

    def _pulse(self, ch: Any, low: float, high: float, width: float, edge: float) -> None:
        raise NotImplementedError

    def _fire(self, ch: Any) -> None:
        raise NotImplementedError

    def _output(self, ch: Any, on: bool) -> None:
        raise NotImplementedError

    def _output_enabled(self, ch: Any) -> bool:
        raise NotImplementedError
