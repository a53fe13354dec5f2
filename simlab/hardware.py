"""The physical side of each simulated instrument: what the front panel would show.

SCPI model servers (simlab.scpi) write setpoints here; the bench physics
(simlab.physics) reads them when it solves the circuit and writes back what a meter
would read. Both run under the lab's single lock, so a command and a time step never
interleave. Nothing here knows SCPI or physics. A measurement reuses the last solution
unless a change was marked (`simlab.changes`): whoever writes here outside a SCPI
command calls `World.solve()` after it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass
class SourceChannel:
    """One output of a power supply or cell-emulator SMU (two-quadrant: sources and sinks)."""

    voltage_set: float = 0.0
    current_limit: float = 1.0  # symmetric source/sink limit, A
    output_on: bool = False
    # written by the physics:
    voltage_meas: float = 0.0
    current_meas: float = 0.0  # > 0 sourcing, < 0 sinking
    in_current_limit: bool = False


@dataclass
class LoadInput:
    """The input of a DC electronic load."""

    mode: str = "CC"  # CC | CV | CR | CP
    current_set: float = 0.0
    voltage_set: float = 0.0
    resistance_set: float = 1000.0
    power_set: float = 0.0
    input_on: bool = False
    # written by the physics:
    voltage_meas: float = 0.0
    current_meas: float = 0.0


@dataclass
class ResistorChannel:
    """One programmable resistance (a thermistor emulator channel)."""

    resistance_ohm: float = 10_000.0
    output_on: bool = False  # off: the terminals are open (standby, relay open)

    @property
    def effective_ohm(self) -> float:
        """What a meter across the terminals would see: the setting, or open circuit."""
        return self.resistance_ohm if self.output_on else math.inf


@dataclass
class RelayChannel:
    """One switch or actuator channel: closed connects COM to NO."""

    closed: bool = False
    # Set by the lab when the channel is wired to something physical (short relay,
    # fault insertion), so the circuit is re-solved at the instant the contact moves.
    on_change: Callable[[], None] | None = field(default=None, repr=False, compare=False)


class Signal(Protocol):
    """A quantity of the bench as a function of virtual time, in volts at an input."""

    def now(self) -> float:
        """The present virtual time, s."""
        ...

    def values(self, times: np.ndarray) -> np.ndarray:
        """The signal at each of `times` (all <= now)."""
        ...

    def crossing(self, level: float, rising: bool, t_from: float, t_to: float) -> float | None:
        """The first time in [t_from, t_to] the signal crosses `level` in that direction."""
        ...


@dataclass
class DigitizerInput:
    """One input of a digitizer or oscilloscope. `signal` is what the station wires to it
    (None: an unconnected input, which reads 0 V)."""

    signal: Signal | None = None


@dataclass
class DigitalPort:
    """One 8-bit digital input port (a DAQM907A's channel s01 or s02). `level` is what
    the station wires to it (the lab sets it: an interlock loop); unwired lines read 0."""

    level: Callable[[], int] | None = field(default=None, repr=False, compare=False)

    def read(self) -> int:
        return 0 if self.level is None else int(self.level()) & 0xFF


@dataclass
class InstrumentHardware:
    """The outputs/inputs of one instrument, keyed by its vendor channel number."""

    model: str
    sources: dict[int, SourceChannel] = field(default_factory=dict)
    loads: dict[int, LoadInput] = field(default_factory=dict)
    resistors: dict[int, ResistorChannel] = field(default_factory=dict)
    relays: dict[int, RelayChannel] = field(default_factory=dict)
    inputs: dict[int, DigitizerInput] = field(default_factory=dict)
    digital: dict[int, DigitalPort] = field(default_factory=dict)
    modules: list[str] = field(default_factory=list)  # slot contents, for *OPT?/CTYPE?
