"""Keysight E36312A triple-output supply, built on PyMeasure's own `KeysightE36312A`.

PyMeasure's driver states the command table (`VOLT %g, (@n)`, `CURR %g, (@n)`,
`OUTPut %d, (@n)`, `MEASure:VOLTage? (@n)`) and the per-output ranges (output 1:
0-6 V / 0-5 A, outputs 2-3: 0-25 V / 0-1 A); this driver adds the rig's behaviour (typed
errors, transcript, identity check, a checked error queue after every setting) and the
E36300 protection commands. PyMeasure's ranges are the rated ones; the guide allows 103 %
(6.18 V / 5.15 A, 25.75 V / 1.03 A), which the rig does not use.

Not confirmed against the E36300 guide: the OVP maxima (6.6 V, 27.5 V) and the accuracy
figures (see `ACCURACY`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pymeasure.instruments import Instrument

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.channels import KeysightProtection, ProtectedSource
from instruments.pymeasure_modules import pymeasure_module
from instruments.scpi import ScpiInstrument

# its package's other drivers import pandas (instruments.pymeasure_modules)
_pymeasure = pymeasure_module("pymeasure.instruments.keysight.keysightE36312A")
PyMeasureE36312A, VoltageChannel = _pymeasure.KeysightE36312A, _pymeasure.VoltageChannel

_SPEC = (
    "Keysight E36300 Series Programmable DC Power Supplies data sheet (revision not read), "
    "performance specifications table"
)


class E36312AChannel(KeysightProtection, VoltageChannel):
    # PyMeasure declares these without an error check; a refused setpoint must raise
    voltage_setpoint_check_set_errors = True
    current_limit_check_set_errors = True
    ovp_level_values = (0, 27.5)


class KeysightE36312A(ProtectedSource, ScpiInstrument, PyMeasureE36312A):
    """Keysight E36312A: output 1 6 V / 5 A, outputs 2-3 25 V / 1 A."""

    VENDORS = ("Keysight Technologies", "Agilent Technologies")
    MODEL = "E36312A"
    channel_count = 3
    ACCURACY: ClassVar[AccuracyTable] = {
        # output 1 (6 V / 5 A) and outputs 2-3 (25 V / 1 A) as two ranges
        "voltage_set": (
            Accuracy(0.03, 5e-3, 6.0, f"{_SPEC}, 6 V output, programming (unconfirmed)"),
            Accuracy(0.03, 10e-3, 25.0, f"{_SPEC}, 25 V outputs, programming (unconfirmed)"),
        ),
        "voltage_meas": (
            Accuracy(0.03, 5e-3, 6.0, f"{_SPEC}, 6 V output, read-back (unconfirmed)"),
            Accuracy(0.03, 10e-3, 25.0, f"{_SPEC}, 25 V outputs, read-back (unconfirmed)"),
        ),
        "current_set": (
            Accuracy(0.1, 2e-3, 1.0, f"{_SPEC}, 1 A outputs, programming (unconfirmed)"),
            Accuracy(0.1, 5e-3, 5.0, f"{_SPEC}, 5 A output, programming (unconfirmed)"),
        ),
        "current_meas": (
            Accuracy(0.1, 2e-3, 1.0, f"{_SPEC}, 1 A outputs, read-back (unconfirmed)"),
            Accuracy(0.1, 5e-3, 5.0, f"{_SPEC}, 5 A output, read-back (unconfirmed)"),
        ),
    }

    ch_1 = Instrument.ChannelCreator(E36312AChannel, 1)
    ch_2 = Instrument.ChannelCreator(E36312AChannel, 2)
    ch_3 = Instrument.ChannelCreator(E36312AChannel, 3)

    def __init__(self, adapter: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(adapter, name, **kwargs)
        self.ch_1.ovp_level_values = (0, 6.6)

    def set_output(self, channel: int, on: bool) -> None:
        # PyMeasure's output control is not dynamic and does not check the error queue
        super().set_output(channel, on)
        self.raise_errors()
