"""NGI N83624 battery simulator (model N83624-06-05): 24 isolated cell channels,
0–6 V, up to 5 A each, addressed one by one or many at once.

From NGI's "N83624 Series Programming Guide – SCPI Protocol" (V20240130): a channel is
named by a numeric suffix (``SOUR1:VOLT 2.54``, ``MEAS1:VOLT?``) or, for many at once, by
a channel list glued to the value (``SOUR:VOLT 5(@1,2,3)``, ``MEAS:VOLT?(@1,2)``);
currents are programmed and read in mA (``SOUR1:OUTCURR 1000``, ``MEAS1:CURR?``);
``OUTP1:ONOFF 1`` switches a channel, ``OUTP1:MODE 0`` selects source (battery
simulation) mode, ``OUTP1:STAT?`` answers a bit field (bit 0 on, bit 1 OVP, bit 2 OCP),
``PRO1:VOLT`` / ``PRO1:CURR`` set OVP (V) and OCP (mA), 0 = off as after *RST;
``*IDN?`` answers ``NGI,N83624,0,<version>`` (the third field is reserved, not a serial).
A semicolon keeps the path (``SOUR1:VOLT 2.54;OUTCURR 1000``). The LAN port is 7000.
Replies end in CR LF, as the published open-source driver for the model reads them (the
guide names LF as the command terminator only).

Only source mode is modelled: charge, SOC and SEQ modes (``OUTP:MODE 1|3|128``) are
refused with -221. Not confirmed in the guide: ``SYST:ERR?`` (the guide lists the
standard error codes but not how they are read; the standard query is served), that
the source-mode current limit bounds sink current too (modelled as symmetric), the
OVP/OCP maxima (6.5 V, 5.5 A), and the reply format of numbers (``5`` for 5 V, so
``%g``-style).
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Chans, Solve, command, measure, opt
from simlab.scpi.errors import ScpiError
from simlab.scpi.models.supply import Rating, SupplyTwin

ANY = Chans.OPTIONAL
T = SupplyTwin
MA = 1000.0
CHANNELS = 24
MODES = {0: "source", 1: "charge", 3: "SOC", 128: "SEQ"}


class NgiN83624(SupplyTwin):
    VENDOR = "NGI"
    MODEL = "N83624"
    FIRMWARE = "V1.00"
    NUMBER_FORMAT = "{:.6g}"
    INT_FORMAT = "{:d}"
    OVP_ALWAYS_ARMED = False
    ATTACHED_CHANNEL_LISTS = True
    REPLY_TERMINATION = "\r\n"  # as the published open-source driver reads it
    RATINGS: ClassVar[dict[int, Rating]] = {
        n: Rating(v_max=6.0, i_max=5.0, ovp_max=6.5, ocp_max=5.5, i_sink=5.0)
        for n in range(1, CHANNELS + 1)
    }

    def _idn(self) -> str:
        return f"{self.VENDOR},{self.MODEL},0,{self.FIRMWARE}"  # field 3 is reserved

    def reset_state(self) -> None:
        super().reset_state()
        # *RST sets protection values to 0, which the guide treats as off
        self.ovp = dict.fromkeys(self.hardware.sources, 0.0)
        self.ocp = dict.fromkeys(self.hardware.sources, 0.0)
        self.mode = dict.fromkeys(self.hardware.sources, 0)
        self.current_range = dict.fromkeys(self.hardware.sources, 3)

    # currents in mA on the wire -------------------------------------------------------

    def set_limit_ma(self, value: float | str, chans: list[int]) -> None:
        amps = value if isinstance(value, str) else value / MA
        self.set_current(amps, chans)

    def get_limit_ma(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.each(chans, self.fmt_i, lambda ch: p.resolve(limit, 0.0, MA * 5.0))
        return self.each(chans, self.fmt_i, lambda ch: self.source(ch).current_limit * MA)

    def meas_current_ma(self, chans: list[int]) -> str:
        return self.each(chans, self.fmt_i, lambda ch: self.source(ch).current_meas * MA)

    def set_range(self, value: int, chans: list[int]) -> None:
        if value not in (0, 2, 3):
            raise ScpiError(-224, str(value))
        for ch in chans:
            self.current_range[ch] = value

    def get_range(self, chans: list[int]) -> str:
        return ",".join(self.fmt_int(self.current_range[ch]) for ch in chans)

    def set_mode(self, value: int, chans: list[int]) -> None:
        if value not in MODES:
            raise ScpiError(-224, str(value))
        if value != 0:
            raise ScpiError(-221, f"{MODES[value]} mode is not modelled")
        for ch in chans:
            self.mode[ch] = value

    def get_mode(self, chans: list[int]) -> str:
        return ",".join(self.fmt_int(self.mode[ch]) for ch in chans)

    def state_bits(self, chans: list[int]) -> str:
        def bits(ch: int) -> int:
            src = self.source(ch)
            return int(src.output_on) | self.ovp_tripped[ch] << 1 | self.ocp_tripped[ch] << 2

        return ",".join(self.fmt_int(bits(ch)) for ch in chans)

    # protection: a level of 0 is off ---------------------------------------------------

    def set_pro_volt(self, value: float | str, chans: list[int]) -> None:
        self.set_ovp(value, chans)
        for ch in chans:
            self.ovp_armed[ch] = self.ovp[ch] > 0.0

    def set_pro_curr_ma(self, value: float | str, chans: list[int]) -> None:
        self.set_ocp(value if isinstance(value, str) else value / MA, chans)
        for ch in chans:
            self.ocp_armed[ch] = self.ocp[ch] > 0.0

    def get_pro_curr_ma(self, chans: list[int]) -> str:
        return self.each(chans, self.fmt_i, lambda ch: self.ocp[ch] * MA)

    def set_onoff(self, state: bool, chans: list[int]) -> None:
        if state:
            for ch in chans:  # re-enabling a channel clears its latch, as the guide implies
                self.ovp_tripped[ch] = self.ocp_tripped[ch] = False
        self.set_output(state, chans)

    COMMANDS = (
        command("SOURce<n>:VOLTage", T.set_voltage, p.numeric, chans=ANY),
        command("SOURce<n>:VOLTage?", T.get_voltage, opt(p.limit_word), chans=ANY),
        command("SOURce<n>:OUTCURRent", set_limit_ma, p.numeric, chans=ANY),
        command("SOURce<n>:OUTCURRent?", get_limit_ma, opt(p.limit_word), chans=ANY),
        command("SOURce<n>:RANGe", set_range, p.integer, chans=ANY, solve=Solve.NONE),
        command("SOURce<n>:RANGe?", get_range, chans=ANY),
        command("OUTPut<n>:ONOFF", set_onoff, p.boolean, chans=ANY),
        command("OUTPut<n>:ONOFF?", T.get_output, chans=ANY),
        command("OUTPut<n>:MODE", set_mode, p.integer, chans=ANY),
        command("OUTPut<n>:MODE?", get_mode, chans=ANY),
        measure("OUTPut<n>:STATe?", state_bits, chans=ANY),
        measure("OUTPut<n>:EVENt?", state_bits, chans=ANY),
        measure("MEASure<n>:VOLTage?", T.meas_voltage, chans=ANY),
        measure("MEASure<n>:CURRent?", meas_current_ma, chans=ANY),
        measure("MEASure<n>:POWer?", T.meas_power, chans=ANY),
        command("PRO<n>:VOLTage", set_pro_volt, p.numeric, chans=ANY),
        command("PRO<n>:VOLTage?", lambda d, c: d.get_ovp(None, c), chans=ANY),
        command("PRO<n>:CURRent", set_pro_curr_ma, p.numeric, chans=ANY),
        command("PRO<n>:CURRent?", get_pro_curr_ma, chans=ANY),
    )
