"""Keysight E36234A: two isolated outputs, 60 V / 10 A / 200 W each (E36200 series).

Programming ranges are 103 % of rating (61.8 V, 10.3 A), as the series manual gives;
the 200 W power envelope is enforced by the instrument itself (it limits, not errors).
OVP is programmable to 66 V (110 % of rating); OCP arms on `CURR:PROT:STAT` and trips
when the output enters constant current. Not confirmed against the guide: the 66 V OVP
maximum.

Accuracy (`ACCURACY`): the E36200 outputs autorange, so one entry per quantity covers the
whole output. Not confirmed against a stored copy of the datasheet: the figures are the
E36234A programming and read-back accuracy (12 months, 23 °C ± 5 °C) as recalled from
Keysight's "E36200 Series Autoranging Power Supplies" data sheet; each `source` says so.
A station file should replace them with the unit's calibration certificate.
"""

from __future__ import annotations

from typing import ClassVar

from pymeasure.instruments import Instrument

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.channels import KeysightProtection, OutputChannel, ProtectedSource
from instruments.scpi import ScpiInstrument

_SPEC = (
    "Keysight E36200 Series Autoranging Power Supplies data sheet (revision not read), "
    "E36234A performance specifications table"
)


class E36234AChannel(KeysightProtection, OutputChannel):
    voltage_setpoint_values = (0, 61.8)
    current_limit_values = (0, 10.3)
    ovp_level_values = (0, 66.0)


class KeysightE36234A(ProtectedSource, ScpiInstrument):
    """Keysight E36234A dual-output DC supply, used as the pack charger."""

    VENDORS = ("Keysight Technologies", "Agilent Technologies")
    MODEL = "E36234A"
    channel_count = 2
    ACCURACY: ClassVar[AccuracyTable] = {
        "voltage_set": (Accuracy(0.035, 20e-3, 61.8, f"{_SPEC}, programming (unconfirmed)"),),
        "voltage_meas": (Accuracy(0.035, 20e-3, 61.8, f"{_SPEC}, read-back (unconfirmed)"),),
        "current_set": (Accuracy(0.2, 10e-3, 10.3, f"{_SPEC}, programming (unconfirmed)"),),
        "current_meas": (Accuracy(0.2, 10e-3, 10.3, f"{_SPEC}, read-back (unconfirmed)"),),
    }

    ch_1 = Instrument.ChannelCreator(E36234AChannel, 1)
    ch_2 = Instrument.ChannelCreator(E36234AChannel, 2)
