"""The internal DMM of a data acquisition mainframe, measuring through its multiplexer.

The DAQ970A's DMM reaches the bench through a multiplexer module (DAQM901A: channels
1-20, 4-wire on the pairs n and n+10). `MEASure:FRESistance? [range[,resolution]],
(@201)` closes the channel, measures 4-wire ohms and answers `+1.00000000E+04`;
`MEASure:RESistance?` the same 2-wire; `MEASure:TEMPerature? TCouple,K,(@203)` a
thermocouple's temperature in °C (internal reference junction). An open input reads
the overload value `+9.90000000E+37`, as the instrument answers. A channel on a module
without the DMM's path (an actuator module) is a settings conflict (-221); a 4-wire
measurement on the upper half of a DAQM901A is -222.

What a channel sees comes from the bench (`InstrumentHardware.meters`): the lab wires an
NTC line's resistance as the BMS's input sees it (faults included), or a thermocouple on
the BMS's FETs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import Chans, measure, opt
from simlab.scpi.errors import ScpiError

OVERLOAD = 9.9e37
SETTINGS_CONFLICT = -221
DATA_OUT_OF_RANGE = -222
# Modules whose channels reach the internal DMM, and how many 4-wire pairs each has.
MUX_PAIRS: dict[str, int] = {"DAQM901A": 10, "DAQM908A": 0}
THERMOCOUPLES = ("B", "E", "J", "K", "N", "R", "S", "T")


class ScanningDmm:
    """Mixin for a switch mainframe with an internal DMM (`hardware.meters`)."""

    hardware: Any

    def _module_of(self, channel: int) -> str:
        modules = self.hardware.modules
        slot = channel // 100
        return modules[slot - 1] if 1 <= slot <= len(modules) else ""

    def _read(self, channel: int, kind: str, four_wire: bool = False) -> float:
        module = self._module_of(channel)
        if module not in MUX_PAIRS:
            raise ScpiError(SETTINGS_CONFLICT, f"channel {channel} is not on a multiplexer")
        if four_wire and not 1 <= channel % 100 <= MUX_PAIRS[module]:
            raise ScpiError(DATA_OUT_OF_RANGE, f"no 4-wire pair for channel {channel}")
        meter = self.hardware.meters.get(channel)
        value = meter.read(kind) if meter is not None and meter.read is not None else None
        return OVERLOAD if value is None or value == float("inf") else float(value)

    def _fres(self, rng: Any, res: Any, chans: list[int]) -> str:
        return ",".join(self.fmt(self._read(ch, "resistance", True)) for ch in chans)  # type: ignore[attr-defined]

    def _res(self, rng: Any, res: Any, chans: list[int]) -> str:
        return ",".join(self.fmt(self._read(ch, "resistance")) for ch in chans)  # type: ignore[attr-defined]

    def _temp(self, probe: Any, kind: Any, one: Any, res: Any, chans: list[int]) -> str:
        if probe is not None and probe != "TCOUPLE":
            raise ScpiError(SETTINGS_CONFLICT, f"{probe}: only thermocouples are wired here")
        if kind is not None and str(kind.text) not in THERMOCOUPLES:
            raise ScpiError(-224, str(kind.text))
        return ",".join(self.fmt(self._read(ch, "temperature")) for ch in chans)  # type: ignore[attr-defined]

    DMM_COMMANDS: ClassVar[tuple] = (
        measure("MEASure:FRESistance?", _fres, opt(p.token), opt(p.token), chans=Chans.REQUIRED),
        measure("MEASure:RESistance?", _res, opt(p.token), opt(p.token), chans=Chans.REQUIRED),
        measure(
            "MEASure:TEMPerature?",
            _temp,
            opt(p.choice("TCouple", "RTD", "FRTD", "THERmistor", "DEF")),
            opt(p.word),
            opt(p.token),
            opt(p.token),
            chans=Chans.REQUIRED,
        ),
    )
