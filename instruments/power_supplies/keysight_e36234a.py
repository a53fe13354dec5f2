"""Keysight E36234A: two isolated outputs, 60 V / 10 A / 200 W each (E36200 series).

Programming ranges are 103 % of rating (61.8 V, 10.3 A), as the series manual gives;
the 200 W power envelope is enforced by the instrument itself (it limits, not errors).
"""

from __future__ import annotations

from pymeasure.instruments import Channel, Instrument
from pymeasure.instruments.validators import strict_range

from instruments.channels import MultiChannelSource, OutputChannel
from instruments.scpi import ScpiInstrument


class E36234AChannel(OutputChannel):
    voltage_setpoint = Channel.control(
        "VOLT? (@{ch})",
        "VOLT %g,(@{ch})",
        """Control the programmed output voltage (V), 0-61.8.""",
        validator=strict_range,
        values=[0, 61.8],
        check_set_errors=True,
    )

    current_limit = Channel.control(
        "CURR? (@{ch})",
        "CURR %g,(@{ch})",
        """Control the constant-current limit (A), 0-10.3.""",
        validator=strict_range,
        values=[0, 10.3],
        check_set_errors=True,
    )


class KeysightE36234A(MultiChannelSource, ScpiInstrument):
    """Keysight E36234A dual-output DC supply, used as the pack charger."""

    VENDORS = ("Keysight Technologies", "Agilent Technologies")
    MODEL = "E36234A"
    channel_count = 2

    ch_1 = Instrument.ChannelCreator(E36234AChannel, 1)
    ch_2 = Instrument.ChannelCreator(E36234AChannel, 2)

    def set_current_limit(self, channel: int, amps: float) -> None:
        self.channel(channel).current_limit = amps
