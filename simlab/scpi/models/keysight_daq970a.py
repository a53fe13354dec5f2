"""Keysight DAQ970A data acquisition mainframe with switch modules (three slots).

Emulated modules: DAQM901A (20-channel armature multiplexer, channels 1-20 plus the two
current channels 21-22), DAQM903A (20-channel actuator / general-purpose switch, Form C:
closing connects COM to NO) and DAQM908A (40-channel single-ended multiplexer).
`ROUT:CLOS (@101)`, `ROUT:OPEN (@101)`, `ROUT:CLOS? (@101,102)` → `1,0`, `ROUT:OPEN?`,
`ROUT:CLOS:EXCL`, `SYST:CTYP? <slot>`; `*RST` opens every channel. DAQM907A
(multifunction): its two 8-bit digital ports s01 and s02 as inputs, `DIG:DATA:BYTE? (@301)`
→ `1` (its totalizer and DACs are not emulated). The internal DMM measures through
the multiplexers (`simlab.scpi.dmm_scan`): `MEAS:FRES? (@201)`, `MEAS:RES?`,
`MEAS:TEMP? TC,K,(@203)`.
"""

from __future__ import annotations

from typing import ClassVar

from simlab.hardware import InstrumentHardware, MeterInput
from simlab.scpi.dmm_scan import MUX_PAIRS, ScanningDmm
from simlab.scpi.switching import SwitchMainframe


class KeysightDAQ970A(ScanningDmm, SwitchMainframe):
    VENDOR = "Keysight Technologies"
    MODEL = "DAQ970A"
    FIRMWARE = "A.03.02-01.00-03.00-02.01"
    SLOTS = 3
    MODULES: ClassVar[dict[str, int]] = {
        "DAQM901A": 22,
        "DAQM903A": 20,
        "DAQM907A": 0,  # multifunction: no relays; digital ports s01, s02
        "DAQM908A": 40,
    }
    DIGITAL: ClassVar[dict[str, int]] = {"DAQM907A": 2}
    MODULE_VENDOR = "Keysight Technologies"
    MODULE_FIRMWARE = "1.0"
    DEFAULT_MODULES = ("DAQM903A",)
    COMMANDS = SwitchMainframe.COMMANDS + ScanningDmm.DMM_COMMANDS

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        """The relays of every module, and a DMM input behind each multiplexer channel."""
        hw = super().build_hardware(modules)
        for slot, module in enumerate(hw.modules, 1):
            if module in MUX_PAIRS:
                for n in range(1, 21 if module == "DAQM901A" else 41):
                    hw.meters[slot * 100 + n] = MeterInput()
        return hw
