"""Rigol M300 data acquisition/switch mainframe: the short relay and fault insertion.

An MC3324 actuator channel (closing connects COM to NO) drives the short contactor or a
fault relay; MC3120/MC3132 multiplexer channels can short an NTC line. `ROUT:CLOS
(@201:203)`, `ROUT:OPEN`, `ROUT:CLOS? (@201:203)` → `1,1,1` (M300 programming guide).
`SYST:CTYP?` (module type) is sent in the Keysight form; not confirmed for the M300.
"""

from __future__ import annotations

from typing import ClassVar

from instruments.scpi import ScpiInstrument
from instruments.switches.routing import RouteSwitch


class RigolM300(RouteSwitch, ScpiInstrument):
    VENDORS = ("RIGOL TECHNOLOGIES",)
    MODEL = "M300"
    SLOTS = 5
    MODULES: ClassVar[dict[str, int]] = {"MC3120": 20, "MC3132": 32, "MC3324": 24}
