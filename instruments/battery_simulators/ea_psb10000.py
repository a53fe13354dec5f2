"""EA Elektro-Automatik PSB 10060-120 (PSB 10000 series), a bidirectional supply.

One DC terminal: it sources up to `CURR` / `POW` while the terminal is below `VOLT`, and
sinks up to `SINK:CURR` / `SINK:POW` above it. Settings need remote control, so the driver
sends `SYST:LOCK ON` before its first setting (and after a reconnect). Queries answer with
the unit (`54.00 V`), which the driver strips. As a charger: `VOLT`, `CURR`, `SINK:CURR 0`;
as a battery simulator: `VOLT`, `CURR`, `SINK:CURR`; as a load: `VOLT 0`, `CURR 0`,
`SINK:CURR <a>`. `*IDN?` fields carry a space after each comma (stripped). PyMeasure has no
PSB driver (pylablib's EA class speaks the PS 2000 B's binary protocol).

NOT confirmed against EA's "Programming guide ModBus & SCPI" (not reachable here): the
ratings (60 V, ±120 A, 3 kW), the accuracy figures (EA states them in % of the rating),
the sign of a sinking current in `MEAS:CURR?`, the `SYST:LOCK` requirement's error.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.battery_simulators.base import RegenerativeRole
from instruments.errors import InstrumentReplyError
from instruments.scpi import ScpiInstrument, scpi_bool

_SPEC = (
    "EA Elektro-Automatik PSB 10000 data sheet (revision not read), PSB 10060-120 "
    "column (unconfirmed)"
)
_WITH_UNIT = re.compile(r"\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*")


class EaPSB10060_120(RegenerativeRole, ScpiInstrument):
    """EA PSB 10060-120: 60 V, ±120 A, 3 kW, regenerative."""

    VENDORS = ("EA Elektro-Automatik GmbH & Co. KG",)
    MODEL = "PSB 10060-120"
    V_MAX = 61.2
    I_MAX = 122.4
    I_SINK_MAX = 122.4
    ACCURACY: ClassVar[AccuracyTable] = {
        # EA states accuracy in % of the rating: 0.1 % of 60 V, 0.2 % of 120 A
        "voltage_set": (Accuracy(0.0, 0.06, V_MAX, f"{_SPEC}, 0.1 % of rating"),),
        "voltage_meas": (Accuracy(0.0, 0.06, V_MAX, f"{_SPEC}, 0.1 % of rating"),),
        "current_set": (Accuracy(0.0, 0.24, I_MAX, f"{_SPEC}, 0.2 % of rating"),),
        "current_meas": (Accuracy(0.0, 0.24, I_MAX, f"{_SPEC}, 0.2 % of rating"),),
    }

    def __init__(self, adapter: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(adapter, name, **kwargs)
        self._remote = False

    def _set(self, command: str) -> None:
        if not self._remote:
            self.write("SYST:LOCK ON")
            self.raise_errors()
            self._remote = True
        self.write(command)
        self.raise_errors()

    def reconnect(self, wait_s: float = 0.0) -> None:
        self._remote = False
        super().reconnect(wait_s)

    def _number(self, command: str, unit: str) -> float:
        reply = self.ask(command)
        m = _WITH_UNIT.fullmatch(reply)
        if m is None or (m.group(2) and m.group(2).upper() != unit):
            raise InstrumentReplyError(command, reply, f"expected a number in {unit}", self.name)
        return float(m.group(1))

    def _voltage(self, volts: float) -> None:
        self._set(f"VOLT {volts:g}")

    def _limits(self, source_a: float, sink_a: float) -> None:
        self._set(f"CURR {source_a:g}")
        self._set(f"SINK:CURR {sink_a:g}")

    def _sink(self, amps: float) -> None:
        self._set("VOLT 0")
        self._set("CURR 0")
        self._set(f"SINK:CURR {amps:g}")

    def _output(self, on: bool) -> None:
        self._set(f"OUTP {'ON' if on else 'OFF'}")

    def _output_enabled(self) -> bool:
        return scpi_bool(self.ask("OUTP?"))

    def _measure(self, quantity: str) -> float:
        unit = {"VOLT": "V", "CURR": "A", "POW": "W"}[quantity]
        return self._number(f"MEAS:{quantity}?", unit)
