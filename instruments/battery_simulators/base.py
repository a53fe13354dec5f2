"""What every regenerative source driver shares: one output that sources and sinks, used
as a battery simulator (`set_current_limits`), a charger (`set_current_limit`: source
only) or a load (`set_sink_current`: a constant sink), and `AsLoad`, which presents such
a source as the station's electronic load.

A model states its ranges and implements a few calls in its dialect; the checks live
here, so a value beyond the model is a ValueError before a byte is sent.
"""

from __future__ import annotations

from typing import Any, ClassVar

from instruments.accuracy import Accuracy


class RegenerativeRole:
    """Role methods (instruments.roles.RegenerativeSource) over output 1."""

    channel_count: ClassVar[int] = 1
    V_MAX: ClassVar[float]
    I_MAX: ClassVar[float]  # source
    I_SINK_MAX: ClassVar[float]

    def _one(self, channel: int) -> None:
        if channel != 1:
            raise ValueError(f"the {self.MODEL} has one output, got channel {channel!r}")  # type: ignore[attr-defined]

    @staticmethod
    def _within(what: str, value: float, top: float, unit: str) -> float:
        if not 0.0 <= value <= top:
            raise ValueError(f"{what} {value:g} {unit} outside 0..{top:g} {unit}")
        return float(value)

    def set_voltage(self, channel: int, volts: float) -> None:
        self._one(channel)
        self._voltage(self._within("voltage", volts, self.V_MAX, "V"))

    def set_current_limit(self, channel: int, amps: float) -> None:
        """As a supply (a charger): source up to `amps`, sink nothing."""
        self._one(channel)
        self._limits(self._within("current limit", amps, self.I_MAX, "A"), 0.0)

    def set_current_limits(self, channel: int, source_a: float, sink_a: float) -> None:
        """As a battery simulator: voltage priority, both limits (sink as a magnitude)."""
        self._one(channel)
        src = self._within("source limit", source_a, self.I_MAX, "A")
        self._limits(src, self._within("sink limit", sink_a, self.I_SINK_MAX, "A"))

    def set_sink_current(self, channel: int, amps: float) -> None:
        """As a load: sink a constant `amps` from whatever drives the terminals."""
        self._one(channel)
        self._sink(self._within("sink current", amps, self.I_SINK_MAX, "A"))

    def set_output(self, channel: int, on: bool) -> None:
        self._one(channel)
        self._output(bool(on))

    def output_enabled(self, channel: int) -> bool:
        self._one(channel)
        return self._output_enabled()

    def measure_voltage(self, channel: int) -> float:
        self._one(channel)
        return self._measure("VOLT")

    def measure_current(self, channel: int) -> float:
        """+ sourcing, − sinking."""
        self._one(channel)
        return self._measure("CURR")

    def measure_power(self, channel: int = 1) -> float:
        self._one(channel)
        return self._measure("POW")

    # --- a model's dialect ----------------------------------------------------------------

    def _voltage(self, volts: float) -> None:
        raise NotImplementedError

    def _limits(self, source_a: float, sink_a: float) -> None:
        raise NotImplementedError

    def _sink(self, amps: float) -> None:
        raise NotImplementedError

    def _output(self, on: bool) -> None:
        raise NotImplementedError

    def _output_enabled(self) -> bool:
        raise NotImplementedError

    def _measure(self, quantity: str) -> float:
        raise NotImplementedError


class AsLoad:
    """A regenerative source as the station's electronic load (instruments.roles
    ElectronicLoad): constant current only, sinking; its current read as the magnitude
    it sinks."""

    def __init__(self, driver: Any, channel: int = 1):
        self.driver, self.channel = driver, channel
        self.name = getattr(driver, "name", "")

    def set_constant_current(self, amps: float) -> None:
        self.driver.set_sink_current(self.channel, amps)

    def configure(self, mode: str, value: float) -> None:
        if mode.upper() != "CC":
            raise ValueError(f"{self.name}: as a load it sinks a constant current; not {mode}")
        self.set_constant_current(value)

    def mode(self) -> str:
        return "CC"

    def set_slew(self, amps_per_second: float) -> None:
        raise ValueError(f"{self.name}: the sink current's slew is not programmable here")

    def set_input(self, on: bool) -> None:
        self.driver.set_output(self.channel, on)

    def input_enabled(self) -> bool:
        return self.driver.output_enabled(self.channel)

    def measure_voltage(self) -> float:
        return self.driver.measure_voltage(self.channel)

    def measure_current(self) -> float:
        return -self.driver.measure_current(self.channel)

    def measure_power(self) -> float:
        return -self.driver.measure_power(self.channel)

    def accuracy(self, quantity: str, value: float) -> Accuracy:
        return self.driver.accuracy(quantity, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.driver, name)  # identity, errors, close: the instrument's
