"""Siglent SDL1020X DC electronic load: 150 V / 30 A / 200 W, one input.

From the SDL1000X programming guide as summarised in public command references:
``[:SOURce]:FUNCtion CURRent|VOLTage|POWer|RESistance``, ``[:SOURce]:CURRent[:LEVel]
[:IMMediate]`` (and VOLT/POW/RES), ``[:SOURce]:INPut[:STATe]`` (also ``:INPut``),
``[:SOURce]:SHORt[:STATe]``, ``[:SOURce]:CURRent:SLEW:POSitive|NEGative`` (A/µs),
``MEASure:VOLTage|CURRent|POWer|RESistance?``. Current ranges 5 A and 30 A
(``:CURRent:IRANGe``), *RST in the 30 A one.

Not confirmed against the guide itself: the ``FUNC?`` reply words (long form assumed),
the slew range (0.001–2.5 A/µs) and *RST slew, the CR range (0.03 Ω–10 kΩ), the range
command's name (``IRANGe``; some references give ``RANGe``, both are accepted here).
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Solve, command, measure
from simlab.scpi.models.load import FUNCTION_WORDS, LoadTwin, level_commands

T = LoadTwin
SLEW_CMD = "[SOURce:]CURRent:SLEW"


class SiglentSDL1020X(LoadTwin):
    VENDOR = "Siglent Technologies"
    MODEL = "SDL1020X"
    FIRMWARE = "1.1.1.21R2"
    NUMBER_FORMAT = "{:.6f}"
    INT_FORMAT = "{:d}"
    LEVELS: ClassVar = {
        "CC": (0.0, 30.0, 0.0),
        "CV": (0.0, 150.0, 0.0),
        "CR": (0.03, 10000.0, 1000.0),
        "CP": (0.0, 200.0, 0.0),
    }
    MODE_REPLY: ClassVar = {"CC": "CURRENT", "CV": "VOLTAGE", "CR": "RESISTANCE", "CP": "POWER"}
    CURRENT_RANGES = (5.0, 30.0)
    SLEW = (0.001, 2.5, 0.5)

    COMMANDS = (
        command("[SOURce:]FUNCtion", T.set_function, p.choice(*FUNCTION_WORDS)),
        command("[SOURce:]FUNCtion?", T.get_function),
        *level_commands("[SOURce:]{m}[:LEVel][:IMMediate]"),
        command("[SOURce:]CURRent:IRANGe", T.set_current_range, p.numeric),
        command("[SOURce:]CURRent:IRANGe?", T.get_current_range),
        command("[SOURce:]CURRent:RANGe", T.set_current_range, p.numeric),
        command("[SOURce:]CURRent:RANGe?", T.get_current_range),
        command(SLEW_CMD + "[:BOTH]", T.set_slew_both, p.numeric, solve=Solve.NONE),
        command(SLEW_CMD + ":POSitive", T.set_slew_rise, p.numeric, solve=Solve.NONE),
        command(SLEW_CMD + ":POSitive?", T.get_slew_rise),
        command(SLEW_CMD + ":NEGative", T.set_slew_fall, p.numeric, solve=Solve.NONE),
        command(SLEW_CMD + ":NEGative?", T.get_slew_fall),
        command("[SOURce:]INPut[:STATe]", T.set_input, p.boolean),
        command("[SOURce:]INPut[:STATe]?", T.get_input),
        command("[SOURce:]SHORt[:STATe]", T.set_short, p.boolean),
        command("[SOURce:]SHORt[:STATe]?", T.get_short),
        measure("MEASure[:SCALar]:VOLTage[:DC]?", T.meas_voltage),
        measure("MEASure[:SCALar]:CURRent[:DC]?", T.meas_current),
        measure("MEASure[:SCALar]:POWer[:DC]?", T.meas_power),
        measure("MEASure[:SCALar]:RESistance[:DC]?", T.meas_resistance),
    )
