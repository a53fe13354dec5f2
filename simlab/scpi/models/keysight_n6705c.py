"""Keysight N6705C DC power analyzer with N6781A two-quadrant SMUs as cell emulators.

Every channel command on this mainframe names its channels with ``(@list)``; leaving the
list out is answered with -109 here. N6781A ranges (20 V range, 3 A range; the 6 V and
low-current ranges are folded in): 0–20.4 V, source limit 0–3.06 A, sink limit
programmed as a negative number, −3.06–0 A. With ``CURR:LIM:COUP ON`` (the *RST state)
the two limits track each other; the physics sees one symmetric limit, the smaller
magnitude of the two.
"""

from __future__ import annotations

from simlab.hardware import InstrumentHardware, SourceChannel
from simlab.scpi import params as p
from simlab.scpi.device import Chans, ScpiDevice, Solve, command, measure, opt

SLOTS = 4
MODULES = ("N6781A",)
V_MAX = 20.4
I_MAX = 3.06

VOLT = "[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]"
CURR_POS = "[SOURce:]CURRent:LIMit[:POSitive][:IMMediate][:AMPLitude]"
CURR_NEG = "[SOURce:]CURRent:LIMit:NEGative[:IMMediate][:AMPLitude]"
COUPLE = "[SOURce:]CURRent:LIMit:COUPle"
LIST = Chans.REQUIRED


class KeysightN6705C(ScpiDevice):
    VENDOR = "Keysight Technologies"
    MODEL = "N6705C"
    FIRMWARE = "D.03.04.1340"
    OPTIONS = "0"
    NUMBER_FORMAT = "{:+.6E}"

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        modules = ["N6781A"] * SLOTS if modules is None else modules
        if not 1 <= len(modules) <= SLOTS:
            raise ValueError(f"the N6705C has 1 to {SLOTS} modules, got {len(modules)}")
        for module in modules:
            if module not in MODULES:
                raise ValueError(f"module {module!r} not emulated; known: {', '.join(MODULES)}")
        sources = {slot: SourceChannel() for slot in range(1, len(modules) + 1)}
        return InstrumentHardware("Keysight N6705C", sources=sources)

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        if not hardware.sources or sorted(hardware.sources) != list(
            range(1, len(hardware.sources) + 1)
        ):
            raise ValueError(
                f"N6705C needs sources 1..n (n <= {SLOTS}), got {sorted(hardware.sources)}"
            )
        if len(hardware.sources) > SLOTS:
            raise ValueError(f"N6705C has {SLOTS} slots, got {len(hardware.sources)} sources")

    def reset_state(self) -> None:
        self.limit_pos = dict.fromkeys(self.hardware.sources, 0.0)
        self.limit_neg = dict.fromkeys(self.hardware.sources, 0.0)
        self.coupled = dict.fromkeys(self.hardware.sources, True)
        for src in self.hardware.sources.values():
            src.voltage_set = 0.0
            src.current_limit = 0.0
            src.output_on = False

    def _apply_limit(self, ch: int) -> None:
        self.source(ch).current_limit = min(self.limit_pos[ch], -self.limit_neg[ch])

    def set_voltage(self, value: float | str, chans: list[int]) -> None:
        volts = p.resolve(value, 0.0, V_MAX, 0.0)
        for ch in chans:
            self.source(ch).voltage_set = volts

    def get_voltage(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.fmt_each(chans, lambda ch: p.resolve(limit, 0.0, V_MAX, 0.0))
        return self.fmt_each(chans, lambda ch: self.source(ch).voltage_set)

    def set_limit_pos(self, value: float | str, chans: list[int]) -> None:
        amps = p.resolve(value, 0.0, I_MAX, 0.0)
        for ch in chans:
            self.limit_pos[ch] = amps
            if self.coupled[ch]:
                self.limit_neg[ch] = -amps
            self._apply_limit(ch)

    def get_limit_pos(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.fmt_each(chans, lambda ch: p.resolve(limit, 0.0, I_MAX, 0.0))
        return self.fmt_each(chans, lambda ch: self.limit_pos[ch])

    def set_limit_neg(self, value: float | str, chans: list[int]) -> None:
        # MIN is the most negative value, MAX is 0 (the sink limit is a negative number)
        amps = p.resolve(value, -I_MAX, 0.0, 0.0)
        for ch in chans:
            self.limit_neg[ch] = amps
            if self.coupled[ch]:
                self.limit_pos[ch] = -amps
            self._apply_limit(ch)

    def get_limit_neg(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.fmt_each(chans, lambda ch: p.resolve(limit, -I_MAX, 0.0, 0.0))
        return self.fmt_each(chans, lambda ch: self.limit_neg[ch])

    def set_coupling(self, state: bool, chans: list[int]) -> None:
        for ch in chans:
            self.coupled[ch] = state

    def get_coupling(self, chans: list[int]) -> str:
        return ",".join("1" if self.coupled[ch] else "0" for ch in chans)

    def set_output(self, state: bool, chans: list[int]) -> None:
        for ch in chans:
            self.source(ch).output_on = state

    def get_output(self, chans: list[int]) -> str:
        return ",".join("1" if self.source(ch).output_on else "0" for ch in chans)

    def meas_voltage(self, chans: list[int]) -> str:
        return self.fmt_each(chans, lambda ch: self.source(ch).voltage_meas)

    def meas_current(self, chans: list[int]) -> str:
        return self.fmt_each(chans, lambda ch: self.source(ch).current_meas)

    def channel_count(self) -> str:
        return self.fmt_int(len(self.hardware.sources))

    def channel_model(self, chans: list[int]) -> str:
        return ",".join(MODULES[0] for _ in chans)

    def clear_protection(self, chans: list[int]) -> None:
        """No protection latches in this twin; accepted so clients' recovery code runs."""

    COMMANDS = (
        command(VOLT, set_voltage, p.numeric, chans=LIST),
        command(VOLT + "?", get_voltage, opt(p.limit_word), chans=LIST),
        command(CURR_POS, set_limit_pos, p.numeric, chans=LIST),
        command(CURR_POS + "?", get_limit_pos, opt(p.limit_word), chans=LIST),
        command(CURR_NEG, set_limit_neg, p.numeric, chans=LIST),
        command(CURR_NEG + "?", get_limit_neg, opt(p.limit_word), chans=LIST),
        command(COUPLE, set_coupling, p.boolean, chans=LIST, solve=Solve.NONE),
        command(COUPLE + "?", get_coupling, chans=LIST),
        command("OUTPut[:STATe]", set_output, p.boolean, chans=LIST),
        command("OUTPut[:STATe]?", get_output, chans=LIST),
        measure("MEASure[:SCALar]:VOLTage[:DC]?", meas_voltage, chans=LIST),
        measure("MEASure[:SCALar]:CURRent[:DC]?", meas_current, chans=LIST),
        command("SYSTem:CHANnel[:COUNt]?", channel_count),
        command("SYSTem:CHANnel:MODel?", channel_model, chans=LIST),
        command("OUTPut:PROTection:CLEar", clear_protection, chans=LIST, solve=Solve.NONE),
    )
