"""The Keysight E36200 / E36300 supply dialect, shared by every model of the two series.

Channel lists select outputs (``VOLT 3.3,(@1)``); without a list a command acts on the
output chosen by ``INST CH2`` / ``INST:NSEL 2``. OVP is always armed at its level
(``VOLT:PROT``); OCP is armed with ``CURR:PROT:STAT`` and trips when the output enters
constant current; ``OUTP:PROT:CLE`` clears either latch. A model states its ratings.
"""

from __future__ import annotations

from simlab.scpi import params as p
from simlab.scpi.device import Chans, Solve, command, measure, opt
from simlab.scpi.models.supply import SupplyTwin

VOLT = "[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]"
CURR = "[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]"
OVP = "[SOURce:]VOLTage:PROTection[:LEVel]"
OCP_STATE = "[SOURce:]CURRent:PROTection:STATe"
ANY = Chans.OPTIONAL  # no (@list): the channel chosen by INST / INST:NSEL

T = SupplyTwin


class KeysightE36Supply(SupplyTwin):
    VENDOR = "Keysight Technologies"

    COMMANDS = (
        command(VOLT, T.set_voltage, p.numeric, chans=ANY),
        command(VOLT + "?", T.get_voltage, opt(p.limit_word), chans=ANY),
        command(CURR, T.set_current, p.numeric, chans=ANY),
        command(CURR + "?", T.get_current, opt(p.limit_word), chans=ANY),
        command("OUTPut[:STATe]", T.set_output, p.boolean, chans=ANY),
        command("OUTPut[:STATe]?", T.get_output, chans=ANY),
        measure("MEASure[:SCALar]:VOLTage[:DC]?", T.meas_voltage, chans=ANY),
        measure("MEASure[:SCALar]:CURRent[:DC]?", T.meas_current, chans=ANY),
        command("INSTrument[:SELect]", T.select_word, p.word, solve=Solve.NONE),
        command("INSTrument[:SELect]?", T.get_select_word),
        command("INSTrument:NSELect", T.select_number, p.integer, solve=Solve.NONE),
        command("INSTrument:NSELect?", T.get_select_number),
        command(OVP, T.set_ovp, p.numeric, chans=ANY),
        command(OVP + "?", T.get_ovp, opt(p.limit_word), chans=ANY),
        command("[SOURce:]VOLTage:PROTection:TRIPped?", T.get_ovp_tripped, chans=ANY),
        command(OCP_STATE, T.set_ocp_state, p.boolean, chans=ANY),
        command(OCP_STATE + "?", T.get_ocp_state, chans=ANY),
        command("[SOURce:]CURRent:PROTection:TRIPped?", T.get_ocp_tripped, chans=ANY),
        command("OUTPut:PROTection:CLEar", T.clear_protection, chans=ANY),
        # CC / CV as the E3600 family reports them (bit 0 CC, bit 1 CV; unconfirmed for
        # the E36200/E36300 guides)
        measure("STATus:QUEStionable:INSTrument:ISUMmary<n>:CONDition?", T.isum_bits, chans=ANY),
    )
