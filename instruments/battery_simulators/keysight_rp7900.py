"""Keysight RP7952A regenerative power system (RP7900 series).

One output, the N6900/RP7900 dialect: `OUTP 1|0`, `FUNC VOLT|CURR` (voltage or current
priority), `VOLT <v>`, `CURR:LIM <a>` and `CURR:LIM:NEG <−a>` (voltage priority: both
limits), `CURR <±a>` (current priority: a negative setting sinks a constant current),
`MEAS:VOLT?`, `MEAS:CURR?` (+ sourcing), `MEAS:POW?`, `STAT:OPER:COND?` (CV 1, CC 2,
OFF 4: RP7900 O&S Guide pp.241-242). PyMeasure has no RP7900 driver. The priority last
set is remembered, so a role's setting sends `FUNC` only when it changes.

Ratings (80 V class: O&S Guide p.75; ±250 A, 10 kW for the RP7952A) and the accuracy
figures are NOT confirmed against Keysight's tables; the sources say so. The spellings of
`FUNC`, `CURR:LIM:NEG` and the *IDN? firmware field are the N6900 family's, unconfirmed
for the RP7900 (docs/instruments.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.battery_simulators.base import RegenerativeRole
from instruments.scpi import ScpiInstrument, scpi_bool

_SPEC = (
    "Keysight RP7900 Series Regenerative Power System data sheet (revision not read), "
    "RP7952A specifications table (unconfirmed)"
)
OPER = {1: "CV", 2: "CC", 4: "OFF"}


class KeysightRP7952A(RegenerativeRole, ScpiInstrument):
    """Keysight RP7952A: 80 V, ±250 A, 10 kW, regenerative."""

    VENDORS = ("Keysight Technologies",)
    MODEL = "RP7952A"
    V_MAX = 81.6
    I_MAX = 255.0
    I_SINK_MAX = 255.0
    ACCURACY: ClassVar[AccuracyTable] = {
        "voltage_set": (Accuracy(0.03, 20e-3, V_MAX, f"{_SPEC}, programming"),),
        "voltage_meas": (Accuracy(0.03, 20e-3, V_MAX, f"{_SPEC}, read-back"),),
        "current_set": (Accuracy(0.04, 30e-3, I_MAX, f"{_SPEC}, programming"),),
        "current_meas": (Accuracy(0.04, 30e-3, I_MAX, f"{_SPEC}, read-back"),),
    }

    def __init__(self, adapter: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(adapter, name, **kwargs)
        self._priority: str | None = None

    def _set(self, command: str) -> None:
        self.write(command)
        self.raise_errors()

    def _prioritise(self, priority: str) -> None:
        if self._priority != priority:
            self._set(f"FUNC {priority}")
            self._priority = priority

    def reconnect(self, wait_s: float = 0.0) -> None:
        self._priority = None  # the instrument may have rebooted: ask again
        super().reconnect(wait_s)

    def _voltage(self, volts: float) -> None:
        self._prioritise("VOLT")
        self._set(f"VOLT {volts:g}")

    def _limits(self, source_a: float, sink_a: float) -> None:
        self._prioritise("VOLT")
        self._set(f"CURR:LIM {source_a:g}")
        self._set(f"CURR:LIM:NEG {-sink_a:g}")

    def _sink(self, amps: float) -> None:
        self._prioritise("CURR")
        self._set(f"CURR {-amps:g}")

    def _output(self, on: bool) -> None:
        self._set(f"OUTP {int(on)}")

    def _output_enabled(self) -> bool:
        return scpi_bool(self.ask("OUTP?"))

    def _measure(self, quantity: str) -> float:
        return float(self.values(f"MEAS:{quantity}?")[0])

    def regulation(self, channel: int = 1) -> str:
        """CV, CC or OFF, from the operation status register."""
        self._one(channel)
        bits = int(self.values("STAT:OPER:COND?")[0])
        return next((OPER[b] for b in (4, 2, 1) if bits & b), "")
