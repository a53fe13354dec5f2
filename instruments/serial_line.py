"""An instrument's RS-232 line settings, as VISA attributes for an `ASRL...::INSTR` resource.

A serial instrument understands nothing unless the host's baud rate, word length, parity,
stop bits and flow control match its own, and its replies end with its own terminator.
Each driver of a model with an RS-232 port states the factory settings (`SERIAL`); a
station file overrides any of them (`serial_line:`) for a unit whose front panel was
changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pyvisa import constants

PARITIES = {
    "none": constants.Parity.none,
    "even": constants.Parity.even,
    "odd": constants.Parity.odd,
}
STOP_BITS = {
    1: constants.StopBits.one,
    1.5: constants.StopBits.one_and_a_half,
    2: constants.StopBits.two,
}
FLOW = {
    "none": constants.ControlFlow.none,
    "xon_xoff": constants.ControlFlow.xon_xoff,
    "rts_cts": constants.ControlFlow.rts_cts,
}


@dataclass(frozen=True)
class SerialLine:
    baud_rate: int = 9600
    data_bits: int = 8
    parity: str = "none"  # none | even | odd
    stop_bits: float = 1  # 1 | 1.5 | 2
    flow_control: str = "none"  # none | xon_xoff | rts_cts
    read_termination: str = "\n"
    write_termination: str = "\n"

    def updated(self, changes: dict[str, Any] | None) -> SerialLine:
        """These settings with a station file's overrides (None or {}: unchanged)."""
        return replace(self, **{k: v for k, v in (changes or {}).items() if v is not None})

    def visa_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `ResourceManager.open_resource`."""
        return {
            "baud_rate": self.baud_rate,
            "data_bits": self.data_bits,
            "parity": PARITIES[self.parity],
            "stop_bits": STOP_BITS[self.stop_bits],
            "flow_control": FLOW[self.flow_control],
            "read_termination": self.read_termination,
            "write_termination": self.write_termination,
        }


def is_serial(resource: str) -> bool:
    """An `ASRL...` VISA resource: a serial port (RS-232, USB-CDC, a USB-serial adapter)."""
    return resource.strip().upper().startswith("ASRL")
