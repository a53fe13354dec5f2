"""Siglent SPD3303X, built on PyMeasure's Siglent SPD driver family (`SPDBase`,
`SPDChannel`: `CH1:VOLT %g`, `CH1:CURR %g`, `MEAS:VOLT? CH1`, `OUTP CH1,ON`, `INST CH1`).

PyMeasure's channel silently clamps out-of-range values (`truncated_range`); the rig
refuses them instead (`strict_range`, through the dynamic `validator`). The outputs are
CH1/CH2, 0-32 V / 0-3.2 A; CH3 is fixed by a front switch and not a charger. The output
state is read from `SYST:STAT?` (bit 4/5 = CH1/CH2 on). `*IDN?` has five fields
(hardware revision last) and `SYST:ERR?` answers `0 No Error` without SCPI punctuation.
The model has no OVP/OCP over SCPI.

Not confirmed against Siglent's programming guide: the error reply for a non-empty
queue (`<code> <message>`, with or without a comma, is read), whether an out-of-range
value is refused with -222 or clamped by the supply, and the accuracy figures.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, ClassVar

from pymeasure.instruments import Instrument
from pymeasure.instruments.siglenttechnologies.siglent_spdbase import SPDBase, SPDChannel
from pymeasure.instruments.validators import strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.channels import MultiChannelSource
from instruments.errors import InstrumentReplyError
from instruments.scpi import ScpiChannel, ScpiInstrument

_SPEC = "Siglent SPD3303X data sheet (revision not read), specifications table"
_ERROR = re.compile(r'\s*([+-]?\d+)\s*[,\s]\s*"?([^"]*)"?\s*')
_OUTPUT_BIT = {1: 0x10, 2: 0x20}


class SPD3303XChannel(ScpiChannel, SPDChannel):
    voltage_setpoint_validator = strict_range
    voltage_setpoint_values = (0, 32.0)
    voltage_setpoint_check_set_errors = True
    current_limit_validator = strict_range
    current_limit_values = (0, 3.2)
    current_limit_check_set_errors = True


class SiglentSPD3303X(MultiChannelSource, ScpiInstrument, SPDBase):
    """Siglent SPD3303X: CH1 and CH2 programmable, 0-32 V / 0-3.2 A each."""

    VENDORS = ("Siglent Technologies",)
    MODEL = "SPD3303X"
    IDN_FIELDS = 5
    channel_count = 2
    selected_channel_values: ClassVar = {1: "CH1", 2: "CH2"}
    ACCURACY: ClassVar[AccuracyTable] = {
        "voltage_set": (Accuracy(0.03, 10e-3, 32.0, f"{_SPEC}, programming (unconfirmed)"),),
        "voltage_meas": (Accuracy(0.03, 10e-3, 32.0, f"{_SPEC}, read-back (unconfirmed)"),),
        "current_set": (Accuracy(0.3, 10e-3, 3.2, f"{_SPEC}, programming (unconfirmed)"),),
        "current_meas": (Accuracy(0.3, 10e-3, 3.2, f"{_SPEC}, read-back (unconfirmed)"),),
    }

    ch_1 = Instrument.ChannelCreator(
        SPD3303XChannel, 1, voltage_range=[0, 32], current_range=[0, 3.2]
    )
    ch_2 = Instrument.ChannelCreator(
        SPD3303XChannel, 2, voltage_range=[0, 32], current_range=[0, 3.2]
    )

    system_status = Instrument.measurement(
        "SYST:STAT?",
        """Get the status register (int, sent in hexadecimal).""",
        cast=lambda reply: int(reply, 16),
    )

    def __init__(self, adapter: Any, name: str | None = None, **kwargs: Any) -> None:
        with warnings.catch_warnings():
            # PyMeasure's SPD base warns that SCPI support is unknown; the SPD3303X has it
            warnings.simplefilter("ignore", FutureWarning)
            super().__init__(adapter, name, **kwargs)

    def parse_error(self, reply: str) -> tuple[int, str]:
        m = _ERROR.fullmatch(reply)
        if m is None:
            raise InstrumentReplyError("SYST:ERR?", reply, "expected <code> <message>")
        return int(m.group(1)), m.group(2).strip()

    def set_output(self, channel: int, on: bool) -> None:
        self.channel(channel).enable_output(bool(on))
        self.raise_errors()

    def output_enabled(self, channel: int) -> bool:
        self.channel(channel)
        return bool(int(self.system_status) & _OUTPUT_BIT[channel])
