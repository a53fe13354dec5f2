"""Keysight RP7952A regenerative power system (RP7900 series): a two-quadrant DC source
that sources and sinks its full rating, used as a battery simulator on a BMS's battery
terminals or as the charger and load on its pack terminals.

Single output, the N6900/RP7900 dialect: `OUTPut[:STATe]` (query 0/1; RP7900 O&S Guide
p.210), `[SOURce:]FUNCtion VOLTage|CURRent` (voltage or current priority),
`[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]`, `[SOURce:]CURRent:LIMit[:POSitive]`
and `:NEGative` (voltage priority: "you can program a negative and positive current
limit", p.118), `[SOURce:]CURRent[:LEVel]` (current priority: a negative setting sinks a
constant current), `[SOURce:]VOLTage:LIMit` (current priority),
`[SOURce:]VOLTage:RESistance` (programmed output resistance, voltage priority, p.238),
`MEASure[:SCALar]:VOLTage|CURRent|POWer[:DC]?`, `OUTPut:PROTection:CLEar`, and the
status registers as the guide lists them (pp.241-242): `STATus:OPERation:CONDition?`
CV 1, CC 2, OFF 4; `STATus:QUEStionable:CONDition?` OV 1, OC 2, CP+ 8, CP− 32,
LIM+ 128, LIM− 256.

Ratings (80 V, ±250 A, 10 kW) are the RP7952A's as recalled, NOT confirmed against a
Keysight model table (the guide confirms the 80 V class, p.75); the spellings of
`FUNCtion`, `CURRent:LIMit:NEGative`, `VOLTage:LIMit` and the `*IDN?` firmware field are
the N6900 family's, unconfirmed for the RP7900. The output's response time and its
current limit's engagement are modelled in the bench (`physics.pack_source.*`).
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Solve, command, measure, opt
from simlab.scpi.models.supply import Rating, SupplyTwin

T = SupplyTwin
VOLT = "[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]"
LIM_POS = "[SOURce:]CURRent:LIMit[:POSitive][:IMMediate][:AMPLitude]"
LIM_NEG = "[SOURce:]CURRent:LIMit:NEGative[:IMMediate][:AMPLitude]"
CURR = "[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]"

OPER_CV, OPER_CC, OPER_OFF = 1, 2, 4
QUES_CP_POS, QUES_CP_NEG, QUES_LIM_POS, QUES_LIM_NEG = 8, 32, 128, 256


class KeysightRP7952A(SupplyTwin):
    VENDOR = "Keysight Technologies"
    MODEL = "RP7952A"
    FIRMWARE = "A.01.02.0086"
    NUMBER_FORMAT = "{:+.6E}"
    RATINGS: ClassVar[dict[int, Rating]] = {
        1: Rating(v_max=81.6, i_max=255.0, ovp_max=88.0, p_max=10_000.0, i_sink=255.0)
    }

    def channel_numbers(self) -> list[int]:
        return [1]

    def reset_state(self) -> None:
        super().reset_state()
        src = self.source(1)
        src.sink_limit, src.priority, src.current_set, src.r_out = 0.0, "voltage", 0.0, 0.0
        self.v_limit = self.rating(1).v_max

    # --- priority, limits, current setting ------------------------------------------------

    def set_function(self, word: str) -> None:
        self.source(1).priority = "current" if word.startswith("CURR") else "voltage"

    def get_function(self) -> str:
        return "CURR" if self.source(1).priority == "current" else "VOLT"

    def set_limit_pos(self, value: float | str) -> None:
        self.source(1).current_limit = p.resolve(value, 0.0, self.rating(1).i_max, 0.0)

    def get_limit_pos(self, limit: str | None) -> str:
        if limit:
            return self.fmt(p.resolve(limit, 0.0, self.rating(1).i_max))
        return self.fmt(self.source(1).current_limit)

    def set_limit_neg(self, value: float | str) -> None:
        top = self.rating(1).i_sink
        self.source(1).sink_limit = -p.resolve(value, -top, 0.0, 0.0)

    def get_limit_neg(self, limit: str | None) -> str:
        if limit:
            return self.fmt(p.resolve(limit, -self.rating(1).i_sink, 0.0))
        return self.fmt(-(self.source(1).sink_limit or 0.0))

    def set_level(self, value: float | str) -> None:
        r = self.rating(1)
        self.source(1).current_set = p.resolve(value, -r.i_sink, r.i_max, 0.0)

    def get_level(self, limit: str | None) -> str:
        r = self.rating(1)
        if limit:
            return self.fmt(p.resolve(limit, -r.i_sink, r.i_max))
        return self.fmt(self.source(1).current_set)

    def set_v_limit(self, value: float | str) -> None:
        self.v_limit = p.resolve(value, 0.0, self.rating(1).v_max, self.rating(1).v_max)

    def get_v_limit(self) -> str:
        return self.fmt(self.v_limit)

    def set_resistance(self, value: float | str) -> None:
        self.source(1).r_out = p.resolve(value, 0.0, 1.0, 0.0)

    def get_resistance(self) -> str:
        return self.fmt(self.source(1).r_out)

    # --- status -------------------------------------------------------------------------------

    def oper_condition(self) -> str:
        src = self.source(1)
        if not src.output_on:
            return self.fmt_int(OPER_OFF)
        return self.fmt_int(OPER_CC if src.mode in ("CC", "CC-", "CP") else OPER_CV)

    def ques_condition(self) -> str:
        src, bits = self.source(1), 0
        if src.output_on and src.mode == "CC":
            bits |= QUES_LIM_POS
        elif src.output_on and src.mode == "CC-":
            bits |= QUES_LIM_NEG
        elif src.output_on and src.mode == "CP":
            bits |= QUES_CP_POS if src.current_meas >= 0 else QUES_CP_NEG
        return self.fmt_int(bits)

    COMMANDS = (
        command("[SOURce:]FUNCtion", set_function, p.choice("VOLTage", "CURRent")),
        command("[SOURce:]FUNCtion?", get_function),
        command(VOLT, lambda dev, v: T.set_voltage(dev, v, [1]), p.numeric),
        command(VOLT + "?", lambda dev, lim: T.get_voltage(dev, lim, [1]), opt(p.limit_word)),
        command(LIM_POS, set_limit_pos, p.numeric),
        command(LIM_POS + "?", get_limit_pos, opt(p.limit_word)),
        command(LIM_NEG, set_limit_neg, p.numeric),
        command(LIM_NEG + "?", get_limit_neg, opt(p.limit_word)),
        command(CURR, set_level, p.numeric),
        command(CURR + "?", get_level, opt(p.limit_word)),
        command("[SOURce:]VOLTage:LIMit[:POSitive]", set_v_limit, p.numeric, solve=Solve.NONE),
        command("[SOURce:]VOLTage:LIMit[:POSitive]?", get_v_limit),
        command(
            "[SOURce:]VOLTage:RESistance[:LEVel][:IMMediate][:AMPLitude]", set_resistance, p.numeric
        ),
        command("[SOURce:]VOLTage:RESistance[:LEVel][:IMMediate][:AMPLitude]?", get_resistance),
        command("OUTPut[:STATe]", lambda dev, on: T.set_output(dev, on, [1]), p.boolean),
        command("OUTPut[:STATe]?", lambda dev: T.get_output(dev, [1])),
        command("OUTPut:PROTection:CLEar", lambda dev: T.clear_protection(dev, [1])),
        command(
            "[SOURce:]VOLTage:PROTection[:LEVel]", lambda dev, v: T.set_ovp(dev, v, [1]), p.numeric
        ),
        command(
            "[SOURce:]VOLTage:PROTection[:LEVel]?",
            lambda dev, lim: T.get_ovp(dev, lim, [1]),
            opt(p.limit_word),
        ),
        measure("MEASure[:SCALar]:VOLTage[:DC]?", lambda dev: T.meas_voltage(dev, [1])),
        measure("MEASure[:SCALar]:CURRent[:DC]?", lambda dev: T.meas_current(dev, [1])),
        measure("MEASure[:SCALar]:POWer[:DC]?", lambda dev: T.meas_power(dev, [1])),
        measure("STATus:OPERation:CONDition?", oper_condition),
        measure("STATus:QUEStionable:CONDition?", ques_condition),
    )
