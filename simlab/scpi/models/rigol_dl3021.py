"""Rigol DL3021 DC electronic load: 150 V / 40 A / 200 W, one input.

Mode is set by ``:SOUR:FUNC CURR|VOLT|RES|POW`` and read back as ``CC|CV|CR|CP``; each
mode has its own level. Ranges follow the DL3000 programming guide (CR 0.08 Ω–15 kΩ;
current ranges 4 A and 40 A, *RST in the 40 A one). Not confirmed against the guide:
short mode (``:SOUR:SHOR:STAT``, from the reference notes) and the slew command and
range (``:SOUR:CURR:SLEW``, 0.001–2.5 A/µs).
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Solve, command, measure
from simlab.scpi.models.load import FUNCTION_WORDS, LoadTwin, level_commands

T = LoadTwin


class RigolDL3021(LoadTwin):
    VENDOR = "RIGOL TECHNOLOGIES"
    MODEL = "DL3021"
    FIRMWARE = "00.01.05.00.01"
    NUMBER_FORMAT = "{:.6f}"
    INT_FORMAT = "{:d}"
    LEVELS: ClassVar = {
        "CC": (0.0, 40.0, 0.0),
        "CV": (0.0, 150.0, 0.0),
        "CR": (0.08, 15000.0, 1000.0),
        "CP": (0.0, 200.0, 0.0),
    }
    CURRENT_RANGES = (4.0, 40.0)
    SLEW = (0.001, 2.5, 2.5)

    COMMANDS = (
        command("[SOURce:]FUNCtion", T.set_function, p.choice(*FUNCTION_WORDS)),
        command("[SOURce:]FUNCtion?", T.get_function),
        *level_commands("[SOURce:]{m}[:LEVel][:IMMediate]"),
        command("[SOURce:]CURRent:RANGe", T.set_current_range, p.numeric),
        command("[SOURce:]CURRent:RANGe?", T.get_current_range),
        command("[SOURce:]CURRent:SLEW[:BOTH]", T.set_slew_both, p.numeric, solve=Solve.NONE),
        command("[SOURce:]CURRent:SLEW[:BOTH]?", T.get_slew_rise),
        command("[SOURce:]INPut[:STATe]", T.set_input, p.boolean),
        command("[SOURce:]INPut[:STATe]?", T.get_input),
        command("[SOURce:]SHORt[:STATe]", T.set_short, p.boolean),
        command("[SOURce:]SHORt[:STATe]?", T.get_short),
        measure("MEASure:VOLTage[:DC]?", T.meas_voltage),
        measure("MEASure:CURRent[:DC]?", T.meas_current),
        measure("MEASure:POWer[:DC]?", T.meas_power),
        measure("MEASure:RESistance[:DC]?", T.meas_resistance),
    )
