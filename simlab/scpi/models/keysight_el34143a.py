"""Keysight EL34143A DC electronic load: 150 V / 60 A / 350 W, one input.

The EL30000 dialect: every command may carry the input's channel list ``(@1)``
(``FUNC CURR,(@1)``, ``CURR 2.5,(@1)``, ``INP ON,(@1)``, ``MEAS:VOLT? (@1)``); short mode
is ``INPut:SHORt[:STATe]`` and sinks the full current of the present range, as on
Keysight's earlier N3300 loads; slew is in A/s; ``FUNC?`` answers the short form
(``CURR``). Current ranges 6 A and 60 A, *RST in the 60 A one.

Not confirmed against the EL30000 guide: the low current range (6 A), the slew range
(830 A/s–2.5 MA/s), the CR range (0.05 Ω–15 kΩ), the *OPT? reply and firmware string.
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Chans, Solve, command, measure
from simlab.scpi.models.load import FUNCTION_WORDS, LoadTwin, level_commands

T = LoadTwin
ONE = Chans.OPTIONAL  # `(@1)` may be given or left out
SLEW_CMD = "[SOURce:]CURRent:SLEW"


class KeysightEL34143A(LoadTwin):
    VENDOR = "Keysight Technologies"
    MODEL = "EL34143A"
    FIRMWARE = "A.01.02"
    OPTIONS = "0"
    LEVELS: ClassVar = {
        "CC": (0.0, 60.0, 0.0),
        "CV": (0.0, 150.0, 0.0),
        "CR": (0.05, 15000.0, 1000.0),
        "CP": (0.0, 350.0, 0.0),
    }
    MODE_REPLY: ClassVar = {"CC": "CURR", "CV": "VOLT", "CR": "RES", "CP": "POW"}
    CURRENT_RANGES = (6.0, 60.0)
    SLEW = (830.0, 2.5e6, 2.5e6)

    COMMANDS = (
        command("[SOURce:]FUNCtion", T.set_function, p.choice(*FUNCTION_WORDS), chans=ONE),
        command("[SOURce:]FUNCtion?", T.get_function, chans=ONE),
        *level_commands("[SOURce:]{m}[:LEVel][:IMMediate][:AMPLitude]", chans=ONE),
        command("[SOURce:]CURRent:RANGe", T.set_current_range, p.numeric, chans=ONE),
        command("[SOURce:]CURRent:RANGe?", T.get_current_range, chans=ONE),
        command(SLEW_CMD + "[:BOTH]", T.set_slew_both, p.numeric, chans=ONE, solve=Solve.NONE),
        command(SLEW_CMD + "[:BOTH]?", T.get_slew_rise, chans=ONE),
        command(SLEW_CMD + ":POSitive", T.set_slew_rise, p.numeric, chans=ONE, solve=Solve.NONE),
        command(SLEW_CMD + ":POSitive?", T.get_slew_rise, chans=ONE),
        command(SLEW_CMD + ":NEGative", T.set_slew_fall, p.numeric, chans=ONE, solve=Solve.NONE),
        command(SLEW_CMD + ":NEGative?", T.get_slew_fall, chans=ONE),
        command("INPut[:STATe]", T.set_input, p.boolean, chans=ONE),
        command("INPut[:STATe]?", T.get_input, chans=ONE),
        command("INPut:SHORt[:STATe]", T.set_short, p.boolean, chans=ONE),
        command("INPut:SHORt[:STATe]?", T.get_short, chans=ONE),
        command("INPut:PROTection:CLEar", T.clear_protection, chans=ONE, solve=Solve.NONE),
        measure("MEASure[:SCALar]:VOLTage[:DC]?", T.meas_voltage, chans=ONE),
        measure("MEASure[:SCALar]:CURRent[:DC]?", T.meas_current, chans=ONE),
        measure("MEASure[:SCALar]:POWer[:DC]?", T.meas_power, chans=ONE),
    )
