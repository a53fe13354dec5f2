"""Keysight DAQ970A mainframe with switch modules: the short relay and fault insertion.

A DAQM903A actuator channel (Form C, 1 A) drives the short-circuit contactor's coil or
opens a sense lead through its NC contact; DAQM901A/DAQM908A multiplexer channels can
short an NTC line. `ROUT:CLOS (@301)`, `ROUT:OPEN (@301)`, `ROUT:CLOS? (@301,302)` →
`1,0`, `SYST:CTYP? 300` → the module in slot 3 (DAQ970A programming guide). The relays
have no accuracy to state (their contact resistance is part of the bench wiring).

The internal DMM measures through a multiplexer module (DAQM901A: 4-wire on channel n
with n+10 as its sense pair): `MEAS:FRES? (@201)` (4-wire ohms, autorange), `MEAS:TEMP?
TC,K,(@203)` (a thermocouple, internal reference junction, °C). An open input answers
the overload value 9.9E37: `measure_*` return inf for it, never a number.

Accuracy (`ACCURACY`): the DMM's 1-year figures as recalled for the 34970A family the
DAQ970A continues (resistance ± (% of reading + % of range) per range; a type K/J/T
thermocouple 1.0 °C with the internal reference); NOT confirmed against a stored copy of
the DAQ970A data sheet, so every source says "(unconfirmed)". A station file replaces
them with the unit's certificate.
"""

from __future__ import annotations

import math
from typing import ClassVar

from instruments.accuracy import Accuracy, AccuracyTable
from instruments.errors import InstrumentReplyError
from instruments.scpi import ScpiInstrument
from instruments.switches.routing import RouteSwitch, channel_list

OVERLOAD = 9.9e37  # what the DMM answers for an open input
_SPEC = (
    "Keysight DAQ970A data sheet (revision not read), DMM 1-year accuracy "
    "(34970A-family figures, unconfirmed)"
)


def _ohm(pct_reading: float, pct_range: float, rng: float) -> Accuracy:
    return Accuracy(pct_reading, pct_range / 100.0 * rng, rng * 1.2, f"{_SPEC}, {rng:g} Ω range")


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
    RELAYLESS: ClassVar[frozenset[str]] = frozenset({"DAQM907A"})
    ACCURACY: ClassVar[AccuracyTable] = {
        "resistance_meas": (
            _ohm(0.010, 0.004, 100.0),
            _ohm(0.010, 0.001, 1e3),
            _ohm(0.010, 0.001, 10e3),
            _ohm(0.010, 0.001, 100e3),
            _ohm(0.010, 0.001, 1e6),
            _ohm(0.040, 0.001, 10e6),
            _ohm(0.800, 0.010, 100e6),
        ),
        "temperature_meas": (
            Accuracy(0.0, 1.0, 1e4, f"{_SPEC}, thermocouple K/J/T, internal reference"),
        ),
    }

    def _reading(self, query: str) -> float:
        reply = self.ask(query).strip()
        try:
            value = float(reply)
        except ValueError:
            raise InstrumentReplyError(query, reply, "not a number", self.name) from None
        self.check_set_errors()
        return math.inf if value >= OVERLOAD * 0.99 else value

    def measure_resistance_4w(self, channel: int) -> float:
        """4-wire resistance at a multiplexer channel (Ω; inf for an open input)."""
        return self._reading(f"MEAS:FRES? {channel_list(self.check_channels([channel]))}")

    def measure_thermocouple(self, channel: int, kind: str = "K") -> float:
        """A thermocouple's temperature at a multiplexer channel (°C; inf: open)."""
        if kind not in ("B", "E", "J", "K", "N", "R", "S", "T"):
            raise ValueError(f"thermocouple type {kind!r} is not one the DMM knows")
        query = f"MEAS:TEMP? TC,{kind},{channel_list(self.check_channels([channel]))}"
        return self._reading(query)
