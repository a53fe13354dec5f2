"""Channel command tables shared by Keysight multi-output sources, and the role methods
that address them by number.

The E36200 supplies and the N6700 mainframes use the same channel-list dialect
(`VOLT 3.3,(@1)`), so the common commands are declared once; a model subclasses the
channel only to state its own ranges and extra commands.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pymeasure.instruments import Channel
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.scpi import ScpiChannel, scpi_bool


class OutputChannel(ScpiChannel):
    """One output addressed with an SCPI channel list `(@n)`."""

    voltage_setpoint = Channel.control(
        "VOLT? (@{ch})",
        "VOLT %g,(@{ch})",
        """Control the programmed output voltage (V).""",
        validator=strict_range,
        values=[0, 0],
        check_set_errors=True,
    )

    output_enabled = Channel.control(
        "OUTP? (@{ch})",
        "OUTP %d,(@{ch})",
        """Control whether the output is on (bool).""",
        validator=strict_discrete_set,
        values=(True, False),
        set_process=int,
        cast=scpi_bool,
        check_set_errors=True,
    )

    voltage = Channel.measurement("MEAS:VOLT? (@{ch})", """Measure the output voltage (V).""")

    current = Channel.measurement(
        "MEAS:CURR? (@{ch})", """Measure the output current (A); negative when sinking."""
    )


class MultiChannelSource:
    """Role methods (PowerSupply / CellEmulator) over `channels[n]` of an instrument.

    Mixed into a ScpiInstrument that declares its channels with ChannelCreator.
    """

    channel_count: ClassVar[int]
    channels: dict[Any, Any]

    def channel(self, number: int) -> Any:
        """The channel object for a 1-based number; refuses unknown numbers before I/O."""
        if not isinstance(number, int) or not 1 <= number <= self.channel_count:
            raise ValueError(f"channel must be 1..{self.channel_count}, got {number!r}")
        return self.channels[number]

    def set_voltage(self, channel: int, volts: float) -> None:
        self.channel(channel).voltage_setpoint = volts

    def set_output(self, channel: int, on: bool) -> None:
        self.channel(channel).output_enabled = bool(on)

    def output_enabled(self, channel: int) -> bool:
        return bool(self.channel(channel).output_enabled)

    def measure_voltage(self, channel: int) -> float:
        return float(self.channel(channel).voltage)

    def measure_current(self, channel: int) -> float:
        return float(self.channel(channel).current)
