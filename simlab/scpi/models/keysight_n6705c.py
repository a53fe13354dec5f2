"""Keysight N6705C DC power analyzer with N6781A two-quadrant SMUs as cell emulators.

Every channel command on this mainframe names its channels with ``(@list)``; leaving the
list out is answered with -109 here. N6781A ranges (20 V range, 3 A range; the 6 V and
low-current ranges are folded in): 0–20.4 V, source limit 0–3.06 A, sink limit
programmed as a negative number, −3.06–0 A. With ``CURR:LIM:COUP ON`` (the *RST state)
the two limits track each other; the physics sees both, and the module's 20 W. Voltage,
output and meter handlers are the shared ones of ``supply.SupplyTwin``.
"""

from __future__ import annotations

from typing import ClassVar

from simlab.hardware import InstrumentHardware
from simlab.scpi import params as p
from simlab.scpi.device import Chans, Solve, command, measure, opt
from simlab.scpi.errors import ScpiError
from simlab.scpi.models.supply import Rating, SupplyTwin, rated_channel

SLOTS = 4
# N6781A: 20 V / ±3 A, 20 W, two-quadrant (it sinks what it sources)
MODULE_RATINGS = {"N6781A": Rating(v_max=20.4, i_max=3.06, p_max=20.0, i_sink=3.06)}
MODULES = tuple(MODULE_RATINGS)

VOLT = "[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]"
CURR_POS = "[SOURce:]CURRent:LIMit[:POSitive][:IMMediate][:AMPLitude]"
CURR_NEG = "[SOURce:]CURRent:LIMit:NEGative[:IMMediate][:AMPLitude]"
COUPLE = "[SOURce:]CURRent:LIMit:COUPle"
CURR_LEVEL = "[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]"
SENS_RANGE = "SENSe:CURRent[:DC]:RANGe[:UPPer]"
# N6781A current measurement ranges (A): the lowest that holds the value asked is chosen
CURRENT_RANGES = (0.001, 0.1, 3.06)
OVERLOAD = 9.91e37  # a reading beyond the range in force
LIST = Chans.REQUIRED
T = SupplyTwin


class KeysightN6705C(SupplyTwin):
    VENDOR = "Keysight Technologies"
    MODEL = "N6705C"
    FIRMWARE = "D.03.04.1340"
    OPTIONS = "0"
    NUMBER_FORMAT = "{:+.6E}"
    RATINGS: ClassVar[dict[int, Rating]] = {}  # per slot, from the module fitted

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        modules = ["N6781A"] * SLOTS if modules is None else modules
        if not 1 <= len(modules) <= SLOTS:
            raise ValueError(f"the N6705C has 1 to {SLOTS} modules, got {len(modules)}")
        for module in modules:
            if module not in MODULES:
                raise ValueError(f"module {module!r} not emulated; known: {', '.join(MODULES)}")
        sources = {
            slot: rated_channel(MODULE_RATINGS[module]) for slot, module in enumerate(modules, 1)
        }
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

    def rating(self, ch: int) -> Rating:
        return MODULE_RATINGS[MODULES[0]]

    def reset_state(self) -> None:
        self.current_level: dict[int, float] = {}
        super().reset_state()
        self.limit_pos = dict.fromkeys(self.hardware.sources, 0.0)
        self.limit_neg = dict.fromkeys(self.hardware.sources, 0.0)
        self.coupled = dict.fromkeys(self.hardware.sources, True)
        self.meas_range = dict.fromkeys(self.hardware.sources, CURRENT_RANGES[-1])

    def _apply_limit(self, ch: int) -> None:
        src = self.source(ch)
        src.current_limit, src.sink_limit = self.limit_pos[ch], -self.limit_neg[ch]

    def set_limit_pos(self, value: float | str, chans: list[int]) -> None:
        amps = p.resolve(value, 0.0, self.rating(chans[0]).i_max, 0.0)
        for ch in chans:
            self.limit_pos[ch] = amps
            if self.coupled[ch]:
                self.limit_neg[ch] = -amps
            self._apply_limit(ch)

    def get_limit_pos(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.each(
                chans, self.fmt_i, lambda ch: p.resolve(limit, 0.0, self.rating(ch).i_max)
            )
        return self.each(chans, self.fmt_i, lambda ch: self.limit_pos[ch])

    def set_limit_neg(self, value: float | str, chans: list[int]) -> None:
        # MIN is the most negative value, MAX is 0 (the sink limit is a negative number)
        amps = p.resolve(value, -self.rating(chans[0]).i_max, 0.0, 0.0)
        for ch in chans:
            self.limit_neg[ch] = amps
            if self.coupled[ch]:
                self.limit_pos[ch] = -amps
            self._apply_limit(ch)

    def get_limit_neg(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.each(
                chans, self.fmt_i, lambda ch: p.resolve(limit, -self.rating(ch).i_max, 0.0)
            )
        return self.each(chans, self.fmt_i, lambda ch: self.limit_neg[ch])

    def set_coupling(self, state: bool, chans: list[int]) -> None:
        for ch in chans:
            self.coupled[ch] = state

    def get_coupling(self, chans: list[int]) -> str:
        return ",".join("1" if self.coupled[ch] else "0" for ch in chans)

    def set_current_level(self, value: float | str, chans: list[int]) -> None:
        for ch in chans:
            self.current_level[ch] = p.resolve(value, 0.0, self.rating(ch).i_max, 0.0)

    def get_current_level(self, chans: list[int]) -> str:
        return self.fmt_each(chans, lambda ch: self.current_level.get(ch, 0.0))

    def set_priority(self, mode: str, chans: list[int]) -> None:
        if mode != "VOLT":
            raise ScpiError(-221, "current priority is not emulated")

    def set_meas_range(self, value: float | str, chans: list[int]) -> None:
        amps = p.resolve(value, 0.0, CURRENT_RANGES[-1], CURRENT_RANGES[-1])
        chosen = next(r for r in CURRENT_RANGES if amps <= r * (1 + 1e-9))
        for ch in chans:
            self.meas_range[ch] = chosen

    def get_meas_range(self, chans: list[int]) -> str:
        return self.each(chans, self.fmt_i, lambda ch: self.meas_range[ch])

    def meas_current_ranged(self, chans: list[int]) -> str:
        """The meter on its range: a current beyond it reads as the overload value."""

        def reading(ch: int) -> float:
            amps = self.source(ch).current_meas
            return OVERLOAD if abs(amps) > self.meas_range[ch] * 1.02 else amps

        return self.each(chans, self.fmt_i, reading)

    def channel_count(self) -> str:
        return self.fmt_int(len(self.hardware.sources))

    def channel_model(self, chans: list[int]) -> str:
        return ",".join(MODULES[0] for _ in chans)

    COMMANDS = (
        command(VOLT, T.set_voltage, p.numeric, chans=LIST),
        command(VOLT + "?", T.get_voltage, opt(p.limit_word), chans=LIST),
        command(CURR_POS, set_limit_pos, p.numeric, chans=LIST),
        command(CURR_POS + "?", get_limit_pos, opt(p.limit_word), chans=LIST),
        command(CURR_NEG, set_limit_neg, p.numeric, chans=LIST),
        command(CURR_NEG + "?", get_limit_neg, opt(p.limit_word), chans=LIST),
        command(COUPLE, set_coupling, p.boolean, chans=LIST, solve=Solve.NONE),
        command(COUPLE + "?", get_coupling, chans=LIST),
        command("OUTPut[:STATe]", T.set_output, p.boolean, chans=LIST),
        command("OUTPut[:STATe]?", T.get_output, chans=LIST),
        measure("MEASure[:SCALar]:VOLTage[:DC]?", T.meas_voltage, chans=LIST),
        measure("MEASure[:SCALar]:CURRent[:DC]?", meas_current_ranged, chans=LIST),
        command(SENS_RANGE, set_meas_range, p.numeric, chans=LIST, solve=Solve.NONE),
        command(SENS_RANGE + "?", get_meas_range, chans=LIST),
        command("SYSTem:CHANnel[:COUNt]?", channel_count),
        command("SYSTem:CHANnel:MODel?", channel_model, chans=LIST),
        # regulation as the N6700 family reports it (the RP7900's bits; N6700 unconfirmed)
        measure("STATus:OPERation:CONDition?", T.oper_bits, chans=LIST),
        measure("STATus:QUEStionable:CONDition?", T.ques_bits, chans=LIST),
        # no protection latches are modelled on the SMUs; accepted so recovery code runs
        command("OUTPut:PROTection:CLEar", T.clear_protection, chans=LIST, solve=Solve.NONE),
        # what QCoDeS's KeysightN6705B driver reads in normal use (its source_current and
        # source_mode parameters): the current-priority setting, kept but not emulated
        # (only voltage priority is), and the priority mode, VOLTage only
        command(CURR_LEVEL, set_current_level, p.numeric, chans=LIST, solve=Solve.NONE),
        command(CURR_LEVEL + "?", get_current_level, chans=LIST),
        command("OUTPut:PMODe", set_priority, p.choice("VOLTage", "CURRent"), chans=LIST),
        command("OUTPut:PMODe?", lambda dev, chans: ",".join("VOLT" for _ in chans), chans=LIST),
    )
