"""Rigol M300 data acquisition/switch mainframe (five slots).

Emulated modules: MC3120 (20-channel multiplexer), MC3132 (32-channel multiplexer) and
MC3324 (24-channel actuator: closing connects COM to NO). `ROUT:CLOS (@201:203)`,
`ROUT:CLOS? (@201:203)` → `1,1,1`, `ROUT:OPEN`, `ROUT:OPEN?`, `ROUT:CLOS:EXCL`, per the
M300 programming guide; `*RST` opens every channel. `SYST:CTYP?` is answered in the
Keysight form; the M300 guide's own module query was not confirmed.
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi.switching import SwitchMainframe


class RigolM300(SwitchMainframe):
    VENDOR = "RIGOL TECHNOLOGIES"
    MODEL = "M300"
    FIRMWARE = "01.01.00.03"
    SLOTS = 5
    MODULES: ClassVar[dict[str, int]] = {"MC3120": 20, "MC3132": 32, "MC3324": 24}
    MODULE_VENDOR = "RIGOL TECHNOLOGIES"
    MODULE_FIRMWARE = "01.00"
    DEFAULT_MODULES = ("MC3324",)
