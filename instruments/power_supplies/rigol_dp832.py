"""Rigol DP832 triple-output supply: CH1/CH2 30 V / 3 A, CH3 5 V / 3 A.

From the DP800 programming guide: setpoints by source suffix (`:SOUR2:VOLT 5`, so no
channel-select state is left behind), outputs and protection by a leading channel word
(`:OUTP CH1,ON`, `:OUTP? CH1` -> `ON`/`OFF`, `:OUTP:OVP:VAL CH1,8.8`, `:OUTP:OVP CH1,ON`,
`:OUTP:OVP:QUES? CH1`, `:OUTP:OVP:CLEAR CH1`, likewise OCP), meters by word
(`:MEAS:VOLT? CH1`). Programmable ranges are 32 V / 3.2 A (CH3 5.3 V / 3.2 A).

OCP here trips at its own level (`set_ocp_level`), not at the current limit.

Not confirmed against the guide: the source-suffix form (`:SOUR<n>:VOLT`; the reference
notes give `:INST:NSEL n` then `:SOUR:VOLT`), the OVP/OCP maxima (33 V / 5.5 V, 3.3 A),
the `:OUTP:OVP:QUES?` reply words (`YES`/`NO` and `1`/`0` both read).
"""

from __future__ import annotations

from typing import ClassVar

from pymeasure.instruments import Channel, Instrument
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.channels import ProtectedSource
from instruments.scpi import ScpiChannel, ScpiInstrument, scpi_bool
from instruments.serial_line import SerialLine

_PV = (
    "Rigol DP800 Performance Verification Manual (edition not read), ch.3 "
    '"CC Programming and Readback Accuracy", Annual Accuracy table, DP832 row'
)
_SPEC = (
    "Rigol DP800 Series data sheet (edition not read), CV programming and readback accuracy "
    "(unconfirmed: a forum transcription of the DP832 specification agrees)"
)


def _on_off(on: bool) -> str:
    return "ON" if on else "OFF"


def _yes(reply: str) -> bool:
    text = reply.strip().upper()
    if text in ("YES", "NO"):
        return text == "YES"
    return scpi_bool(text)


def _switch(get: str, set_: str, doc: str) -> property:
    return Channel.control(
        get,
        set_,
        doc,
        validator=strict_discrete_set,
        values=(True, False),
        set_process=_on_off,
        cast=scpi_bool,
        check_set_errors=True,
    )


class DP832Channel(ScpiChannel):
    voltage_setpoint = Channel.control(
        ":SOUR{ch}:VOLT?",
        ":SOUR{ch}:VOLT %g",
        """Control the programmed output voltage (V).""",
        validator=strict_range,
        values=(0, 32.0),
        check_set_errors=True,
        dynamic=True,
    )
    current_limit = Channel.control(
        ":SOUR{ch}:CURR?",
        ":SOUR{ch}:CURR %g",
        """Control the constant-current limit (A).""",
        validator=strict_range,
        values=(0, 3.2),
        check_set_errors=True,
        dynamic=True,
    )
    output_enabled = _switch(":OUTP? CH{ch}", ":OUTP CH{ch},%s", "Control the output (bool).")

    voltage = Channel.measurement(":MEAS:VOLT? CH{ch}", """Measure the output voltage (V).""")
    current = Channel.measurement(":MEAS:CURR? CH{ch}", """Measure the output current (A).""")
    power = Channel.measurement(":MEAS:POWE? CH{ch}", """Measure the output power (W).""")

    ovp_level = Channel.control(
        ":OUTP:OVP:VAL? CH{ch}",
        ":OUTP:OVP:VAL CH{ch},%g",
        """Control the over-voltage protection level (V).""",
        validator=strict_range,
        values=(0, 33.0),
        check_set_errors=True,
        dynamic=True,
    )
    ovp_enabled = _switch(":OUTP:OVP? CH{ch}", ":OUTP:OVP CH{ch},%s", "Control OVP (bool).")
    ocp_level = Channel.control(
        ":OUTP:OCP:VAL? CH{ch}",
        ":OUTP:OCP:VAL CH{ch},%g",
        """Control the over-current protection level (A).""",
        validator=strict_range,
        values=(0, 3.3),
        check_set_errors=True,
    )
    ocp_enabled = _switch(":OUTP:OCP? CH{ch}", ":OUTP:OCP CH{ch},%s", "Control OCP (bool).")
    ovp_tripped = Channel.measurement(
        ":OUTP:OVP:QUES? CH{ch}", """Get whether OVP has latched (bool).""", cast=_yes
    )
    ocp_tripped = Channel.measurement(
        ":OUTP:OCP:QUES? CH{ch}", """Get whether OCP has latched (bool).""", cast=_yes
    )

    def clear_protection(self) -> None:
        for which in ("OVP", "OCP"):
            self.write(f":OUTP:{which}:CLEAR CH{{ch}}")
            self.parent.raise_errors()


class DP832LowChannel(DP832Channel):
    """CH3, the 5 V output."""

    voltage_setpoint_values = (0, 5.3)
    ovp_level_values = (0, 5.5)


class RigolDP832(ProtectedSource, ScpiInstrument):
    """Rigol DP832 used as a charger (CH1/CH2) or an auxiliary supply (CH3)."""

    VENDORS = ("RIGOL TECHNOLOGIES",)
    MODEL = "DP832"
    HAS_OPT = True
    SERIAL = SerialLine(baud_rate=9600)  # RS232 port, factory 9600 8N1, no flow control
    channel_count = 3
    ACCURACY: ClassVar[AccuracyTable] = {
        # DP832 (non-A) CC programming 0.2 % + 10 mA, read-back 0.15 % + 5 mA, read in the
        # DP800 Performance Verification Manual; the voltage figures are not confirmed
        "current_set": (Accuracy(0.2, 10e-3, 3.2, f"{_PV}, programming"),),
        "current_meas": (Accuracy(0.15, 5e-3, 3.2, f"{_PV}, readback"),),
        "voltage_set": (Accuracy(0.05, 20e-3, 32.0, f"{_SPEC}, programming"),),
        "voltage_meas": (Accuracy(0.05, 10e-3, 32.0, f"{_SPEC}, readback"),),
    }

    ch_1 = Instrument.ChannelCreator(DP832Channel, 1)
    ch_2 = Instrument.ChannelCreator(DP832Channel, 2)
    ch_3 = Instrument.ChannelCreator(DP832LowChannel, 3)

    def set_ocp_level(self, channel: int, amps: float) -> None:
        self.channel(channel).ocp_level = amps

    def measure_power(self, channel: int) -> float:
        return float(self.channel(channel).power)
