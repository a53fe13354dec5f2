"""Keysight DAQ970A mainframe with switch modules: the short relay and fault insertion.

A DAQM903A actuator channel (Form C, 1 A) drives the short-circuit contactor's coil or
opens a sense lead through its NC contact; DAQM901A/DAQM908A multiplexer channels can
short an NTC line. `ROUT:CLOS (@301)`, `ROUT:OPEN (@301)`, `ROUT:CLOS? (@301,302)` →
`1,0`, `SYST:CTYP? 300` → the module in slot 3 (DAQ970A programming guide). A switch has
no measurement accuracy to state; its contact resistance is part of the bench wiring.
"""

from __future__ import annotations

from typing import ClassVar

from instruments.scpi import ScpiInstrument
from instruments.switches.routing import RouteSwitch


class KeysightDAQ970A(RouteSwitch, ScpiInstrument):
    VENDORS = ("Keysight Technologies", "Agilent Technologies")
    MODEL = "DAQ970A"
    SLOTS = 3
    # DAQM907A (multifunction): two 8-bit digital ports, s01 and s02 (`read_digital`)
    MODULES: ClassVar[dict[str, int]] = {
        "DAQM901A": 22,
        "DAQM903A": 20,
        "DAQM907A": 5,
        "DAQM908A": 40,
    }
