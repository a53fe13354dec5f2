"""Siglent SPD3303X: CH1/CH2 0–32 V / 0–3.2 A, CH3 fixed (2.5/3.3/5 V by a switch).

The SPD3300 dialect: ``CH1:VOLT 5`` (or ``INST CH1`` then ``VOLT 5``), ``CH1:VOLT?``,
``OUTP CH1,ON``, ``MEAS:VOLT? CH1`` / ``MEAS:CURR? CH1`` / ``MEAS:POWE? CH1`` (without the
word: the selected channel), ``INST?`` -> ``CH1``, ``SYST:STAT?`` -> hexadecimal status
(bit 0/1 CH1/CH2 in CC, bits 2–3 01 = independent, bit 4/5 CH1/CH2 output on),
``OUTP:TRACK 0`` (independent; series and parallel are not modelled and are refused with
-221). ``*IDN?`` answers five fields (vendor, model, serial, firmware, hardware);
``SYST:ERR?`` answers ``0 No Error`` without the SCPI comma and quotes; ``SYST:VERS?``
answers the firmware version. The supply has no OVP/OCP over SCPI. Replies carry 3
decimals.

Not confirmed against Siglent's guide: the error reply for a non-empty queue
(``<code> <message>`` assumed), the numeric range errors (-222 assumed; the supply may
clamp instead), and IEEE 488.2 commands beyond ``*IDN?``, ``*SAV``, ``*RCL`` (the
mandatory ones are accepted here).
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Chans, Solve, command, measure, opt
from simlab.scpi.errors import MESSAGES, ScpiError
from simlab.scpi.models.supply import Rating, SupplyTwin
from simlab.scpi.parser import Word

CH = "[CH<n>:]"
ANY = Chans.OPTIONAL
T = SupplyTwin


class SiglentSPD3303X(SupplyTwin):
    VENDOR = "Siglent Technologies"
    MODEL = "SPD3303X"
    FIRMWARE = "1.01.01.02.05"
    HARDWARE = "V3.0"
    NUMBER_FORMAT = "{:.3f}"
    INT_FORMAT = "{:d}"
    RATINGS: ClassVar[dict[int, Rating]] = {
        1: Rating(v_max=32.0, i_max=3.2),
        2: Rating(v_max=32.0, i_max=3.2),
        3: Rating(v_max=5.0, i_max=3.2, fixed_v=3.3),
    }

    def _idn(self) -> str:
        return f"{self.VENDOR},{self.MODEL},{self.serial},{self.FIRMWARE},{self.HARDWARE}"

    def _error_query(self) -> str:
        code = self.errors.pop()
        return f"{code} {MESSAGES.get(code, 'Error') if code else 'No Error'}"

    def _version(self) -> str:
        return self.FIRMWARE  # SYST:VERS? answers the firmware version on this model

    def _which(self, word: Word | None) -> list[int]:
        return self.word_channel(word) if word is not None else [self.selected_channel]

    def select(self, word: Word) -> None:
        if word.text == "CH3":
            raise ScpiError(-224, "CH3 cannot be selected")
        self.select_word(word)

    def output(self, word: Word, state: bool) -> None:
        self.set_output(state, self.word_channel(word))

    def track(self, mode: int) -> None:
        if mode not in (0, 1, 2):
            raise ScpiError(-224, str(mode))
        if mode:
            raise ScpiError(-221, "series/parallel tracking is not modelled")

    def status(self) -> str:
        bits = 0x04  # independent
        for ch, (cc_bit, on_bit) in {1: (0x01, 0x10), 2: (0x02, 0x20)}.items():
            src = self.source(ch)
            if src.output_on and src.in_current_limit:
                bits |= cc_bit
            if src.output_on:
                bits |= on_bit
        return f"0x{bits:04X}"

    COMMANDS = (
        command(CH + "VOLTage", T.set_voltage, p.numeric, chans=ANY),
        command(CH + "VOLTage?", T.get_voltage, opt(p.limit_word), chans=ANY),
        command(CH + "CURRent", T.set_current, p.numeric, chans=ANY),
        command(CH + "CURRent?", T.get_current, opt(p.limit_word), chans=ANY),
        command("INSTrument[:SELect]", select, p.word, solve=Solve.NONE),
        command("INSTrument[:SELect]?", T.get_select_word),
        command("OUTPut[:STATe]", output, p.word, p.boolean),
        command("OUTPut:TRACK", track, p.integer, solve=Solve.NONE),
        measure("MEASure:VOLTage?", lambda d, w: d.meas_voltage(d._which(w)), opt(p.word)),
        measure("MEASure:CURRent?", lambda d, w: d.meas_current(d._which(w)), opt(p.word)),
        measure("MEASure:POWEr?", lambda d, w: d.meas_power(d._which(w)), opt(p.word)),
        measure("SYSTem:STATus?", status),
    )
