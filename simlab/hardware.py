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
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from simlab.physics.trace import Trace


def _flat_trace() -> Trace:
    from simlab.physics.trace import Trace  # the physics package imports this module

    return Trace(0.0)


@dataclass
class SourceChannel:
    """One output of a power supply, cell-emulator SMU or regenerative source.

    What it can deliver is its model's envelope, set by its twin: it sources up to
    `current_limit` and `power_max`; it sinks up to `sink_limit`, which cannot exceed what
    the output can absorb (`sink_max`: 0 for a supply that cannot sink, the full rating
    for an SMU or a regenerative source).
    """

    voltage_set: float = 0.0
    current_limit: float = 1.0  # source limit, A
    output_on: bool = False
    sink_limit: float | None = None  # A; None: the same as current_limit
    sink_max: float = 0.0  # A the output can absorb at all (its rating; 0: a plain supply)
    power_max: float = math.inf  # W, sourced or sunk
    # a regenerative source: current priority holds `current_set` (+ sourcing, − sinking)
    # instead of a voltage; in voltage priority `r_out` is its programmed output
    # resistance (a battery's, for a battery simulator)
    priority: str = "voltage"
    current_set: float = 0.0
    r_out: float = 0.0
    # written by the physics:
    voltage_meas: float = 0.0
    current_meas: float = 0.0  # > 0 sourcing, < 0 sinking
    in_current_limit: bool = False
    mode: str = "OFF"  # CV | CC (sourcing at its limit) | CC- (sinking at it) | CP | OFF

    def source_cap(self, volts: float) -> float:
        """The most current the output sources now, at `volts` on its terminals."""
        return self.caps(volts)[0]

    def sink_cap(self, volts: float) -> float:
        """The most current the output sinks now, at `volts` on its terminals."""
        return self.caps(volts)[1]

    def caps(self, volts: float) -> tuple[float, float]:
        """(source, sink): the most current the output sources and sinks now, at `volts`
        on its terminals; one call, as every circuit solve asks both of every channel."""
        source = self.current_limit
        sink = min(source if self.sink_limit is None else self.sink_limit, self.sink_max)
        if volts > 0 and self.power_max < math.inf:
            power = self.power_max / volts
            source, sink = min(source, power), min(sink, power)
        return max(source, 0.0), max(sink, 0.0)


@dataclass
class LoadInput:
    """The input of a DC electronic load."""

    mode: str = "CC"  # CC | CV | CR | CP
    current_set: float = 0.0
    voltage_set: float = 0.0
    resistance_set: float = 1000.0
    power_set: float = 0.0
    input_on: bool = False
    # its envelope (set by its twin): the present current range and the rated power
    i_max: float = math.inf
    p_max: float = math.inf
    # written by the physics:
    voltage_meas: float = 0.0
    current_meas: float = 0.0
    limited: bool = False  # it could not sink its level (power, or the source gave out)


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
class MeterInput:
    """One measurement channel of a scanning DMM (a multiplexer channel of a data
    acquisition mainframe): what the station wires to it answers `read(kind)` with the
    value a meter would see there ("resistance" in Ω, "temperature" in °C; None: open,
    nothing that kind of measurement can read). Unwired, it is an open input."""

    read: Callable[[str], float | None] | None = None


@dataclass
class GeneratorOutput:
    """One output of a function generator: its open-circuit voltage (EMF) in virtual time.

    The generator's twin writes the trace (a DC level, a pulse, a pulse train, each edge
    with the model's transition time); whatever the station wires the output to reads it
    (a BMS's shunt sense input, through an attenuator). `output_on` and `level_v` are
    what its front panel shows, for simlab's outputs report.
    """

    trace: Trace = field(default_factory=_flat_trace)
    output_on: bool = False
    level_v: float = 0.0  # the EMF it rests at (a DC level, or a pulse's idle level)


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
    generators: dict[int, GeneratorOutput] = field(default_factory=dict)
    digital: dict[int, DigitalPort] = field(default_factory=dict)
    meters: dict[int, MeterInput] = field(default_factory=dict)
    modules: list[str] = field(default_factory=list)  # slot contents, for *OPT?/CTYPE?
    # The lab's virtual time (the lab sets it): what a twin that schedules its output in
    # time (a generator's pulse) reads as "now".
    clock: Callable[[], float] = field(default=lambda: 0.0, repr=False, compare=False)
