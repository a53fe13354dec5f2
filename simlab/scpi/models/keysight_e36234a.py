"""Keysight E36234A: two-output autoranging DC supply, 60 V / 10 A / 200 W per output.

Programming ranges from the E36200-series guide: 0–61.8 V, 0–10.3 A, OVP up to 66 V.
Without a channel list a command acts on the output chosen by ``INST``/``INST:NSEL``.
"""

from __future__ import annotations

from simlab.hardware import InstrumentHardware, SourceChannel
from simlab.scpi import params as p
from simlab.scpi.device import Chans, ScpiDevice, Solve, command, measure, opt
from simlab.scpi.errors import ScpiError

V_MAX = 61.8
I_MAX = 10.3
OVP_MAX = 66.0
CHANNELS = (1, 2)

VOLT = "[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]"
CURR = "[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]"
OVP = "[SOURce:]VOLTage:PROTection[:LEVel]"
ANY = Chans.OPTIONAL  # no (@list): the channel chosen by INST / INST:NSEL


class KeysightE36234A(ScpiDevice):
    VENDOR = "Keysight Technologies"
    MODEL = "E36234A"
    FIRMWARE = "1.0.4-1.0.0-1.05"

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        if modules:
            raise ValueError("the E36234A has no modules")
        return InstrumentHardware(
            "Keysight E36234A", sources={n: SourceChannel() for n in CHANNELS}
        )

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        if sorted(hardware.sources) != list(CHANNELS):
            raise ValueError(
                f"E36234A needs sources {list(CHANNELS)}, got {sorted(hardware.sources)}"
            )

    def reset_state(self) -> None:
        self.selected_channel = 1
        self.ovp = dict.fromkeys(CHANNELS, OVP_MAX)
        self.ovp_tripped = dict.fromkeys(CHANNELS, False)
        for ch in CHANNELS:
            src = self.source(ch)
            src.voltage_set = 0.0
            src.current_limit = 0.0
            src.output_on = False

    def after_solve(self) -> None:
        """Latch over-voltage protection the way the supply does: output off until cleared."""
        tripped = False
        for ch in CHANNELS:
            src = self.source(ch)
            if src.output_on and src.voltage_meas > self.ovp[ch]:
                src.output_on = False
                self.ovp_tripped[ch] = True
                tripped = True
        if tripped:
            self._solve_fn()

    # setpoints
    def set_voltage(self, value: float | str, chans: list[int]) -> None:
        volts = p.resolve(value, 0.0, V_MAX, 0.0)
        for ch in chans:
            self.source(ch).voltage_set = volts

    def get_voltage(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.fmt_each(chans, lambda ch: p.resolve(limit, 0.0, V_MAX, 0.0))
        return self.fmt_each(chans, lambda ch: self.source(ch).voltage_set)

    def set_current(self, value: float | str, chans: list[int]) -> None:
        amps = p.resolve(value, 0.0, I_MAX, 0.0)
        for ch in chans:
            self.source(ch).current_limit = amps

    def get_current(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.fmt_each(chans, lambda ch: p.resolve(limit, 0.0, I_MAX, 0.0))
        return self.fmt_each(chans, lambda ch: self.source(ch).current_limit)

    # output
    def set_output(self, state: bool, chans: list[int]) -> None:
        for ch in chans:
            # a latched protection keeps the output off until OUTP:PROT:CLE
            self.source(ch).output_on = state and not self.ovp_tripped[ch]

    def get_output(self, chans: list[int]) -> str:
        return ",".join("1" if self.source(ch).output_on else "0" for ch in chans)

    # measurements
    def meas_voltage(self, chans: list[int]) -> str:
        return self.fmt_each(chans, lambda ch: self.source(ch).voltage_meas)

    def meas_current(self, chans: list[int]) -> str:
        return self.fmt_each(chans, lambda ch: self.source(ch).current_meas)

    # channel selection
    def select(self, name: str) -> None:
        self.selected_channel = int(name[2:])

    def get_select(self) -> str:
        return f"CH{self.selected_channel}"

    def nselect(self, number: int) -> None:
        if number not in CHANNELS:
            raise ScpiError(-222, f"no channel {number}")
        self.selected_channel = number

    def get_nselect(self) -> str:
        return self.fmt_int(self.selected_channel)

    # protection
    def set_ovp(self, value: float | str, chans: list[int]) -> None:
        volts = p.resolve(value, 0.0, OVP_MAX, OVP_MAX)
        for ch in chans:
            self.ovp[ch] = volts

    def get_ovp(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.fmt_each(chans, lambda ch: p.resolve(limit, 0.0, OVP_MAX, OVP_MAX))
        return self.fmt_each(chans, lambda ch: self.ovp[ch])

    def ovp_trip(self, chans: list[int]) -> str:
        return ",".join("1" if self.ovp_tripped[ch] else "0" for ch in chans)

    def clear_protection(self, chans: list[int]) -> None:
        for ch in chans:
            self.ovp_tripped[ch] = False

    COMMANDS = (
        command(VOLT, set_voltage, p.numeric, chans=ANY),
        command(VOLT + "?", get_voltage, opt(p.limit_word), chans=ANY),
        command(CURR, set_current, p.numeric, chans=ANY),
        command(CURR + "?", get_current, opt(p.limit_word), chans=ANY),
        command("OUTPut[:STATe]", set_output, p.boolean, chans=ANY),
        command("OUTPut[:STATe]?", get_output, chans=ANY),
        measure("MEASure[:SCALar]:VOLTage[:DC]?", meas_voltage, chans=ANY),
        measure("MEASure[:SCALar]:CURRent[:DC]?", meas_current, chans=ANY),
        command("INSTrument[:SELect]", select, p.choice("CH1", "CH2"), solve=Solve.NONE),
        command("INSTrument[:SELect]?", get_select),
        command("INSTrument:NSELect", nselect, p.integer, solve=Solve.NONE),
        command("INSTrument:NSELect?", get_nselect),
        command(OVP, set_ovp, p.numeric, chans=ANY),
        command(OVP + "?", get_ovp, opt(p.limit_word), chans=ANY),
        command("[SOURce:]VOLTage:PROTection:TRIPped?", ovp_trip, chans=ANY),
        command("OUTPut:PROTection:CLEar", clear_protection, chans=ANY),
    )
