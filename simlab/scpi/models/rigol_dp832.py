"""Rigol DP832: triple-output supply, CH1/CH2 30 V / 3 A, CH3 5 V / 3 A.

The DP800 dialect: a numeric suffix or the selected channel addresses setpoints
(``:SOUR2:VOLT 5``, or ``:INST CH2`` / ``:INST:NSEL 2`` then ``:VOLT 5``); output and
protection commands take the channel as a leading word (``:OUTP CH1,ON``,
``:OUTP:OVP:VAL CH1,8.8``) or act on the selected channel without it; ``:OUTP? CH1``
answers ``ON``/``OFF``; voltages are answered with 3 decimals and currents with 4
(``8.800``, ``5.0000``), as the DP800 programming guide shows. ``:APPL CH1,5,1`` sets
both at once. OVP and OCP are off after *RST and latch the output off when they trip.

Ranges: CH1/CH2 0–32 V / 0–3.2 A, CH3 0–5.3 V / 0–3.2 A; OVP to 33 V / 5.5 V, OCP to
3.3 A. Not confirmed against the guide: those maxima, the ``:OUTP:OVP:QUES?`` reply
words (``YES``/``NO``), the ``*OPT?`` reply and ``:APPL?`` format.
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Chans, Solve, command, measure, opt
from simlab.scpi.models.supply import Rating, SupplyTwin
from simlab.scpi.parser import Token, Word

SRC = "[SOURce<n>:]"
VOLT = SRC + "VOLTage[:LEVel][:IMMediate][:AMPLitude]"
CURR = SRC + "CURRent[:LEVel][:IMMediate][:AMPLitude]"
ANY = Chans.OPTIONAL
T = SupplyTwin


class RigolDP832(SupplyTwin):
    VENDOR = "RIGOL TECHNOLOGIES"
    MODEL = "DP832"
    FIRMWARE = "00.01.14"
    OPTIONS = "0"
    INT_FORMAT = "{:d}"
    NUMBER_FORMAT = "{:.3f}"
    V_FORMAT = "{:.3f}"
    I_FORMAT = "{:.4f}"
    P_FORMAT = "{:.3f}"
    OUTPUT_WORDS = ("ON", "OFF")
    OVP_ALWAYS_ARMED = False
    RATINGS: ClassVar[dict[int, Rating]] = {
        1: Rating(v_max=32.0, i_max=3.2, ovp_max=33.0, ocp_max=3.3),
        2: Rating(v_max=32.0, i_max=3.2, ovp_max=33.0, ocp_max=3.3),
        3: Rating(v_max=5.3, i_max=3.2, ovp_max=5.5, ocp_max=3.3),
    }
    LABELS: ClassVar[dict[int, str]] = {1: "30V/3A", 2: "30V/3A", 3: "5V/3A"}

    # --- `[CHn,]value` arguments ----------------------------------------------------------

    def _target(self, first: Token, second: Token | None) -> tuple[list[int], Token]:
        """``CH1,ON`` -> ([1], ON); ``ON`` -> ([selected], ON)."""
        if second is None:
            return [self.selected_channel], first
        return self.word_channel(first), second

    def _which(self, word: Word | None) -> list[int]:
        return self.word_channel(word) if word is not None else [self.selected_channel]

    def output(self, first: Token, second: Token | None) -> None:
        chans, state = self._target(first, second)
        self.set_output(p.boolean(state), chans)

    def output_query(self, word: Word | None) -> str:
        return self.get_output(self._which(word))

    def output_mode(self, word: Word | None) -> str:
        src = self.source(self._which(word)[0])
        if not src.output_on:
            return "CV"
        return "CC" if src.in_current_limit else "CV"

    def apply(self, word: Word, volts: Token, amps: Token | None) -> None:
        chans = self.word_channel(word)
        self.set_voltage(p.numeric(volts), chans)
        if amps is not None:
            self.set_current(p.numeric(amps), chans)

    def apply_query(self, word: Word | None) -> str:
        ch = self._which(word)[0]
        src = self.source(ch)
        setting = f"{self.fmt_v(src.voltage_set)},{self.fmt_i(src.current_limit)}"
        return f"CH{ch}:{self.LABELS[ch]},{setting}"

    def meas_all(self, word: Word | None) -> str:
        chans = self._which(word)
        return ",".join(
            [self.meas_voltage(chans), self.meas_current(chans), self.meas_power(chans)]
        )

    def ovp_value(self, first: Token, second: Token | None) -> None:
        chans, value = self._target(first, second)
        self.set_ovp(p.numeric(value), chans)

    def ovp_value_query(self, word: Word | None, limit: str | None = None) -> str:
        return self.get_ovp(limit, self._which(word))

    def ovp_state(self, first: Token, second: Token | None) -> None:
        chans, state = self._target(first, second)
        self.set_ovp_state(p.boolean(state), chans)

    def ovp_state_query(self, word: Word | None) -> str:
        return self.get_ovp_state(self._which(word))

    def ovp_question(self, word: Word | None) -> str:
        return "YES" if self.ovp_tripped[self._which(word)[0]] else "NO"

    def ovp_clear(self, word: Word | None) -> None:
        self.clear_ovp(self._which(word))

    def ocp_value(self, first: Token, second: Token | None) -> None:
        chans, value = self._target(first, second)
        self.set_ocp(p.numeric(value), chans)

    def ocp_value_query(self, word: Word | None, limit: str | None = None) -> str:
        return self.get_ocp(limit, self._which(word))

    def ocp_state(self, first: Token, second: Token | None) -> None:
        chans, state = self._target(first, second)
        self.set_ocp_state(p.boolean(state), chans)

    def ocp_state_query(self, word: Word | None) -> str:
        return self.get_ocp_state(self._which(word))

    def ocp_question(self, word: Word | None) -> str:
        return "YES" if self.ocp_tripped[self._which(word)[0]] else "NO"

    def ocp_clear(self, word: Word | None) -> None:
        self.clear_ocp(self._which(word))

    COMMANDS = (
        command(VOLT, T.set_voltage, p.numeric, chans=ANY),
        command(VOLT + "?", T.get_voltage, opt(p.limit_word), chans=ANY),
        command(CURR, T.set_current, p.numeric, chans=ANY),
        command(CURR + "?", T.get_current, opt(p.limit_word), chans=ANY),
        command(SRC + "VOLTage:PROTection[:LEVel]", T.set_ovp, p.numeric, chans=ANY),
        command(SRC + "VOLTage:PROTection[:LEVel]?", T.get_ovp, opt(p.limit_word), chans=ANY),
        command(SRC + "VOLTage:PROTection:STATe", T.set_ovp_state, p.boolean, chans=ANY),
        command(SRC + "VOLTage:PROTection:STATe?", T.get_ovp_state, chans=ANY),
        command(SRC + "VOLTage:PROTection:CLEar", T.clear_ovp, chans=ANY),
        command(SRC + "CURRent:PROTection[:LEVel]", T.set_ocp, p.numeric, chans=ANY),
        command(SRC + "CURRent:PROTection[:LEVel]?", T.get_ocp, opt(p.limit_word), chans=ANY),
        command(SRC + "CURRent:PROTection:STATe", T.set_ocp_state, p.boolean, chans=ANY),
        command(SRC + "CURRent:PROTection:STATe?", T.get_ocp_state, chans=ANY),
        command(SRC + "CURRent:PROTection:CLEar", T.clear_ocp, chans=ANY),
        command("INSTrument[:SELEct]", T.select_word, p.word, solve=Solve.NONE),
        command("INSTrument[:SELEct]?", T.get_select_word),
        command("INSTrument:NSELect", T.select_number, p.integer, solve=Solve.NONE),
        command("INSTrument:NSELect?", T.get_select_number),
        command("APPLy", apply, p.word, p.token, opt(p.token)),
        command("APPLy?", apply_query, opt(p.word)),
        command("OUTPut[:STATe]", output, p.token, opt(p.token)),
        command("OUTPut[:STATe]?", output_query, opt(p.word)),
        measure("OUTPut:MODE?", output_mode, opt(p.word)),
        command("OUTPut:OVP:VALue", ovp_value, p.token, opt(p.token)),
        command("OUTPut:OVP:VALue?", ovp_value_query, opt(p.word), opt(p.limit_word)),
        command("OUTPut:OVP[:STATe]", ovp_state, p.token, opt(p.token)),
        command("OUTPut:OVP[:STATe]?", ovp_state_query, opt(p.word)),
        measure("OUTPut:OVP:QUEStion?", ovp_question, opt(p.word)),
        command("OUTPut:OVP:CLEar", ovp_clear, opt(p.word)),
        command("OUTPut:OCP:VALue", ocp_value, p.token, opt(p.token)),
        command("OUTPut:OCP:VALue?", ocp_value_query, opt(p.word), opt(p.limit_word)),
        command("OUTPut:OCP[:STATe]", ocp_state, p.token, opt(p.token)),
        command("OUTPut:OCP[:STATe]?", ocp_state_query, opt(p.word)),
        measure("OUTPut:OCP:QUEStion?", ocp_question, opt(p.word)),
        command("OUTPut:OCP:CLEar", ocp_clear, opt(p.word)),
        measure("MEASure[:VOLTage][:DC]?", lambda d, w: d.meas_voltage(d._which(w)), opt(p.word)),
        measure("MEASure:CURRent[:DC]?", lambda d, w: d.meas_current(d._which(w)), opt(p.word)),
        measure("MEASure:POWEr[:DC]?", lambda d, w: d.meas_power(d._which(w)), opt(p.word)),
        measure("MEASure:ALL[:DC]?", meas_all, opt(p.word)),
    )
