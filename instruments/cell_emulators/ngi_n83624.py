"""NGI N83624 battery simulator (N83624-06-05): 24 isolated cell channels, 0-6 V, 5 A.

Written from NGI's "N83624 Series Programming Guide - SCPI Protocol" (V20240130). A
channel is a numeric suffix (`SOUR3:VOLT 3.3`, `SOUR3:OUTCURR 1000`, `OUTP3:ONOFF 1`,
`MEAS3:VOLT?`, `MEAS3:CURR?`); currents travel in mA and are converted here, so the role
speaks amperes. Many channels take one message with a channel list glued to the value
(`SOUR:VOLT 3.3(@1,2,3)`, `MEAS:VOLT?(@1,2,3)`): `set_voltages` and `measure_voltages`
address a whole pack at once. The simulator answers LAN clients on TCP port 7000.

The channel must be in source mode (`OUTP<n>:MODE 0`) for these commands to act as a
cell; `set_source_mode` selects it. Not confirmed in the guide: that `SYST:ERR?` is
served (it lists the standard error codes but no query; this driver checks every
setting with it), that the source-mode current limit bounds sink current too (the role
treats it as the symmetric source/sink limit), and the accuracy figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pymeasure.instruments import Channel, Instrument
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.channels import MultiChannelSource, one_per_channel
from instruments.scpi import ScpiChannel, ScpiInstrument, scpi_bool

CHANNELS = 24
V_MAX = 6.0
I_MAX = 5.0
_SPEC = "NGI N83624 Series data sheet (revision not read), specifications table"


def _to_ma(amps: float) -> float:
    return round(amps * 1000.0, 3)


def _from_ma(milliamps: float) -> float:
    return milliamps / 1000.0


class N83624Channel(ScpiChannel):
    voltage_setpoint = Channel.control(
        "SOUR{ch}:VOLT?",
        "SOUR{ch}:VOLT %g",
        """Control the cell voltage (V).""",
        validator=strict_range,
        values=(0, V_MAX),
        check_set_errors=True,
    )
    current_limit = Channel.control(
        "SOUR{ch}:OUTCURR?",
        "SOUR{ch}:OUTCURR %g",
        """Control the output current limit (A; sent in mA).""",
        validator=strict_range,
        values=(0, I_MAX),
        set_process=_to_ma,
        get_process=_from_ma,
        check_set_errors=True,
    )
    output_enabled = Channel.control(
        "OUTP{ch}:ONOFF?",
        "OUTP{ch}:ONOFF %d",
        """Control whether the channel output is on (bool).""",
        validator=strict_discrete_set,
        values=(True, False),
        set_process=int,
        cast=scpi_bool,
        check_set_errors=True,
    )
    mode = Channel.control(
        "OUTP{ch}:MODE?",
        "OUTP{ch}:MODE %d",
        """Control the operating mode: 0 source (cell), 1 charge, 3 SOC, 128 SEQ.""",
        validator=strict_discrete_set,
        values=(0, 1, 3, 128),
        cast=int,
        check_set_errors=True,
    )
    voltage = Channel.measurement("MEAS{ch}:VOLT?", """Measure the cell voltage (V).""")
    current = Channel.measurement(
        "MEAS{ch}:CURR?", """Measure the cell current (A; read in mA).""", get_process=_from_ma
    )


class NgiN83624(MultiChannelSource, ScpiInstrument):
    """NGI N83624: 24 cells, one channel a cell, addressable as one pack."""

    VENDORS = ("NGI",)
    MODEL = "N83624"
    channel_count = CHANNELS
    ACCURACY: ClassVar[AccuracyTable] = {
        "voltage_set": (Accuracy(0.02, 1e-3, V_MAX, f"{_SPEC}, voltage (unconfirmed)"),),
        "voltage_meas": (Accuracy(0.02, 1e-3, V_MAX, f"{_SPEC}, voltage (unconfirmed)"),),
        "current_set": (Accuracy(0.1, 5e-3, I_MAX, f"{_SPEC}, current (unconfirmed)"),),
        "current_meas": (Accuracy(0.1, 5e-3, I_MAX, f"{_SPEC}, current (unconfirmed)"),),
    }

    channels = Instrument.MultiChannelCreator(N83624Channel, list(range(1, CHANNELS + 1)))

    def set_source_mode(self, channel: int) -> None:
        self.channel(channel).mode = 0

    def _list(self, channels: Sequence[int]) -> str:
        if not channels:
            raise ValueError("no channels given")
        for number in channels:
            self.channel(number)
        return "(@" + ",".join(str(n) for n in channels) + ")"

    def set_voltages(self, channels: list[int], volts: float) -> None:
        """One message for a whole pack: `SOUR:VOLT 3.3(@1,2,...)`, checked once."""
        strict_range(volts, (0, V_MAX))
        self.write(f"SOUR:VOLT {volts:g}{self._list(channels)}")
        self.raise_errors()

    def measure_voltages(self, channels: list[int]) -> list[float]:
        return one_per_channel(self, channels, self.values(f"MEAS:VOLT?{self._list(channels)}"))
