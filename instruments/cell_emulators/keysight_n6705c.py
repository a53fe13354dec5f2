"""Keysight N6705C DC power analyzer with four N6781A two-quadrant SMU modules.

Each N6781A channel stands in for one cell: it must source (discharge) and sink
(charge, balancing) current, so both the positive and the negative current limit are
set. Ranges follow the N6781A programming ranges (20 V range: 0-20.4 V; 3 A range:
±3.06 A). The negative limit is programmed as a negative number, as Keysight's N6700
command reference gives it for the N678xA SMUs.

Accuracy (`ACCURACY`) is stated for the ranges this driver leaves in force: it never
sends `VOLT:RANG` or `SENS:*:RANG`, so programming runs on the 20 V / 3 A ranges and
read-back on the 20 V / 3 A measurement ranges (the *RST ranges). Narrower ranges
(6 V programming; 1 V, 100 mV, 100 mA, 1 mA measurement) exist on the module but are not
listed, so a small value is never credited with a range the instrument is not on.

Not confirmed against a stored copy of the datasheet: the four figures below are the
N6781A performance specifications as recalled from Keysight's "N6700 Modular Power System
Family Specifications Guide"; only the module's measurement ranges (20 V / 1 V / 100 mV
voltage, with their noise table) were confirmed there. Their `source` says so, and a
station file should replace them with the unit's calibration certificate.
"""

from __future__ import annotations

from typing import ClassVar

from pymeasure.instruments import Channel, Instrument
from pymeasure.instruments.validators import strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.channels import ChannelListSource, OutputChannel
from instruments.scpi import ScpiInstrument

_SPEC = (
    "Keysight N6700 Modular Power System Family Specifications Guide (edition not read), "
    "N6781A performance specifications table"
)

EXPECTED_MODULES = ("N6781A",)


class N6781AChannel(OutputChannel):
    """An N6781A SMU: two-quadrant, so it has a source (`CURR:LIM`) and a sink limit."""

    voltage_setpoint_values = (0, 20.4)

    # the SMU's source limit is CURR:LIM (CURR is its current-priority setpoint)
    current_limit_get_command = "CURR:LIM? (@{ch})"
    current_limit_set_command = "CURR:LIM %g,(@{ch})"
    current_limit_values = (0, 3.06)

    current_limit_negative = Channel.control(
        "CURR:LIM:NEG? (@{ch})",
        "CURR:LIM:NEG %g,(@{ch})",
        """Control the negative (sink) current limit (A), -3.06-0.""",
        validator=strict_range,
        values=[-3.06, 0],
        check_set_errors=True,
    )

    module = Channel.measurement(
        "SYST:CHAN:MOD? (@{ch})", """Get the module model in this slot (str).""", cast=str
    )


class KeysightN6705C(ChannelListSource, ScpiInstrument):
    """Keysight N6705C mainframe; channels 1-4 are N6781A SMUs used as cell emulators."""

    VENDORS = ("Keysight Technologies", "Agilent Technologies")
    MODEL = "N6705C"
    HAS_OPT = True
    channel_count = 4
    ACCURACY: ClassVar[AccuracyTable] = {
        "voltage_set": (Accuracy(0.025, 1.8e-3, 20.4, f"{_SPEC}, 20 V range (unconfirmed)"),),
        "voltage_meas": (Accuracy(0.025, 1.5e-3, 20.4, f"{_SPEC}, 20 V range (unconfirmed)"),),
        "current_set": (Accuracy(0.04, 300e-6, 3.06, f"{_SPEC}, 3 A range (unconfirmed)"),),
        "current_meas": (Accuracy(0.03, 250e-6, 3.06, f"{_SPEC}, 3 A range (unconfirmed)"),),
    }

    ch_1 = Instrument.ChannelCreator(N6781AChannel, 1)
    ch_2 = Instrument.ChannelCreator(N6781AChannel, 2)
    ch_3 = Instrument.ChannelCreator(N6781AChannel, 3)
    ch_4 = Instrument.ChannelCreator(N6781AChannel, 4)

    def set_current_limit(self, channel: int, amps: float) -> None:
        """Symmetric source and sink limit: `amps` out, `-amps` in."""
        self._set_limits(self.channel(channel), amps)

    def set_current_limits(self, channels: list[int], amps: float) -> None:
        """The same symmetric limits on every channel in `channels`, in two messages."""
        self._set_limits(self.channel_group(channels), amps)

    @staticmethod
    def _set_limits(ch: N6781AChannel, amps: float) -> None:
        ch.current_limit = amps
        ch.current_limit_negative = -amps if amps else 0.0

    # The current meter's ranges below 3 A, for small currents (a BMS's standby draw):
    # the band in force is the one of the range set (`set_current_meas_range`).
    CURRENT_MEAS_RANGES: ClassVar[dict[float, Accuracy]] = {
        0.1: Accuracy(0.025, 10e-6, 0.1, f"{_SPEC}, 100 mA range (unconfirmed)"),
        0.001: Accuracy(0.025, 100e-9, 0.001, f"{_SPEC}, 1 mA range (unconfirmed)"),
    }

    def set_current_meas_range(self, channel: int, amps: float) -> float:
        """Put the channel's current meter on the smallest range holding `amps` (3.06 A
        for anything above 100 mA); returns the range's top."""
        ranges = [*sorted(self.CURRENT_MEAS_RANGES), 3.06]
        chosen = next((r for r in ranges if amps <= r), 3.06)
        self.write(f"SENS:CURR:RANG {chosen:g},(@{channel})")
        self.check_set_errors()
        return chosen

    def current_meas_accuracy(self, range_a: float, value: float) -> Accuracy:
        """The current meter's band at `value` on the range whose top is `range_a`."""
        band = self.CURRENT_MEAS_RANGES.get(range_a)
        return band if band is not None else self.accuracy("current_meas", value)

    def module_type(self, channel: int) -> str:
        return str(self.channel(channel).module).strip()

    def installed_modules(self, count: int | None = None) -> list[str]:
        """The module model in slots 1..count (all by default), slot 1 first."""
        return [self.module_type(n) for n in range(1, (count or self.channel_count) + 1)]

    def check_modules(self, expected: tuple[str, ...] = EXPECTED_MODULES) -> list[str]:
        """Read every slot's module type; ValueError if one is not a cell-capable SMU,
        since a one-quadrant module cannot sink a charge current."""
        found = [self.module_type(n) for n in range(1, self.channel_count + 1)]
        wrong = [f"ch{n}={m}" for n, m in enumerate(found, 1) if m.upper() not in expected]
        if wrong:
            raise ValueError(f"{self.name}: modules {', '.join(wrong)} not in {expected}")
        return found
