"""Channel command tables shared by multi-output sources, and the role methods that
address them by number.

The E36200/E36300 supplies and the N6700 mainframes use the same channel-list dialect
(`VOLT 3.3,(@1)`), so the common controls are declared once here with `dynamic=True`: a
model states its own ranges in a line (`voltage_setpoint_values = [0, 61.8]`) instead of
re-declaring the control. Models with another dialect (`CH1:VOLT`, `:OUTP CH1,ON`)
declare their own channel class and reuse `MultiChannelSource` unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pymeasure.instruments import Channel
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.errors import InstrumentReplyError
from instruments.scpi import ScpiChannel, scpi_bool


def one_per_channel(instrument: Any, channels: Sequence[int], reply: Any) -> list[float]:
    """A reading per channel asked, in order (a one-channel reply is a bare value); a reply
    of another length is a typed error, never a reading given to the wrong channel."""
    readings = reply if isinstance(reply, list) else [reply]
    if len(readings) != len(channels):
        raise InstrumentReplyError(
            instrument.last_command,
            ",".join(map(str, readings)),
            f"expected {len(channels)} values",
            instrument.name,
        )
    return [float(v) for v in readings]


class OutputChannel(ScpiChannel):
    """One output addressed with an SCPI channel list `(@n)`.

    Ranges are dynamic: a model's channel class sets `<control>_values` to its own.
    The defaults ([0, 0]) refuse every nonzero value, so a model that forgets to state a
    range cannot send an unchecked setpoint.
    """

    voltage_setpoint = Channel.control(
        "VOLT? (@{ch})",
        "VOLT %g,(@{ch})",
        """Control the programmed output voltage (V).""",
        validator=strict_range,
        values=[0, 0],
        check_set_errors=True,
        dynamic=True,
    )

    current_limit = Channel.control(
        "CURR? (@{ch})",
        "CURR %g,(@{ch})",
        """Control the constant-current limit (A).""",
        validator=strict_range,
        values=[0, 0],
        check_set_errors=True,
        dynamic=True,
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


class KeysightProtection(ScpiChannel):
    """Over-voltage and over-current protection of the E36200/E36300 outputs.

    `VOLT:PROT` sets the OVP level, `CURR:PROT:STAT` arms OCP (it trips when the output
    enters constant-current mode), `OUTP:PROT:CLE` re-enables a latched output and the
    `:TRIP?` queries tell which protection latched.
    """

    ovp_level = Channel.control(
        "VOLT:PROT? (@{ch})",
        "VOLT:PROT %g,(@{ch})",
        """Control the over-voltage protection level (V).""",
        validator=strict_range,
        values=[0, 0],
        check_set_errors=True,
        dynamic=True,
    )

    ocp_enabled = Channel.control(
        "CURR:PROT:STAT? (@{ch})",
        "CURR:PROT:STAT %d,(@{ch})",
        """Control whether over-current protection is armed (bool).""",
        validator=strict_discrete_set,
        values=(True, False),
        set_process=int,
        cast=scpi_bool,
        check_set_errors=True,
    )

    ovp_tripped = Channel.measurement(
        "VOLT:PROT:TRIP? (@{ch})", """Get whether OVP has latched (bool).""", cast=scpi_bool
    )

    ocp_tripped = Channel.measurement(
        "CURR:PROT:TRIP? (@{ch})", """Get whether OCP has latched (bool).""", cast=scpi_bool
    )

    def clear_protection(self) -> None:
        """Re-enable an output that a protection turned off (the cause must be gone)."""
        self.write("OUTP:PROT:CLE (@{ch})")
        self.parent.raise_errors()


class MultiChannelSource:
    """Role methods (PowerSupply / CellEmulator) over `channels[n]` of an instrument.

    Mixed into a ScpiInstrument that declares its channels with ChannelCreator; each
    channel offers `voltage_setpoint`, `current_limit`, `output_enabled`, `voltage` and
    `current`, and for a protected supply `ovp_level`, `ocp_enabled`, `ovp_tripped`,
    `ocp_tripped` and `clear_protection()`.
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

    def set_current_limit(self, channel: int, amps: float) -> None:
        self.channel(channel).current_limit = amps

    def set_output(self, channel: int, on: bool) -> None:
        self.channel(channel).output_enabled = bool(on)

    def output_enabled(self, channel: int) -> bool:
        return bool(self.channel(channel).output_enabled)

    def measure_voltage(self, channel: int) -> float:
        return float(self.channel(channel).voltage)

    def measure_current(self, channel: int) -> float:
        return float(self.channel(channel).current)


class ChannelListSource(MultiChannelSource):
    """A MultiChannelSource whose channel list takes several channels at once, as the
    N6700 mainframes' does (`VOLT 3.3,(@1,2,3,4)`, `MEAS:VOLT? (@1,2,3,4)`).

    A group of channels is the model's own channel class with the list as its id, so the
    one command table (and its validators) addresses one channel or several: a pack's
    cells on four mainframes are set in four messages instead of sixteen, each followed
    by one error-queue check. Only for models whose channel placeholder sits inside
    `(@...)`: a `CH1:VOLT` dialect cannot name two channels in one header.
    """

    name: str
    last_command: str

    def channel_group(self, numbers: Sequence[int]) -> Any:
        """The channels `numbers` (1-based, each checked) as one addressable channel."""
        key = tuple(numbers)
        groups = self.__dict__.setdefault("_channel_groups", {})  # a channel costs ~0.4 ms
        group = groups.get(key)
        if group is None:
            if not key:
                raise ValueError("no channels given")
            first = self.channel(key[0])
            for number in key[1:]:
                self.channel(number)
            group = groups[key] = type(first)(self, ",".join(str(n) for n in key))
        return group

    def set_voltages(self, channels: list[int], volts: float) -> None:
        self.channel_group(channels).voltage_setpoint = volts

    def set_current_limits(self, channels: list[int], amps: float) -> None:
        self.channel_group(channels).current_limit = amps

    def set_outputs(self, channels: list[int], on: bool) -> None:
        self.channel_group(channels).output_enabled = bool(on)

    def measure_voltages(self, channels: list[int]) -> list[float]:
        return one_per_channel(self, channels, self.channel_group(channels).voltage)


class ProtectedSource(MultiChannelSource):
    """A MultiChannelSource whose channels have OVP and OCP (ProtectedSupply role)."""

    def set_ovp(self, channel: int, volts: float) -> None:
        self.channel(channel).ovp_level = volts

    def set_ocp(self, channel: int, on: bool) -> None:
        self.channel(channel).ocp_enabled = bool(on)

    def protection_tripped(self, channel: int) -> bool:
        ch = self.channel(channel)
        return bool(ch.ovp_tripped) or bool(ch.ocp_tripped)

    def clear_protection(self, channel: int) -> None:
        self.channel(channel).clear_protection()
