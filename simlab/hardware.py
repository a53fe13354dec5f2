"""The physical side of each simulated instrument: what the front panel would show.

SCPI model servers (simlab.scpi) write setpoints here; the bench physics
(simlab.physics) reads them when it solves the circuit and writes back what a meter
would read. Both run under the lab's single lock, so a command and a time step never
interleave. Nothing here knows SCPI or physics.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
class InstrumentHardware:
    """The outputs/inputs of one instrument, keyed by its vendor channel number."""

    model: str
    sources: dict[int, SourceChannel] = field(default_factory=dict)
    loads: dict[int, LoadInput] = field(default_factory=dict)
