"""What a station role needs from an instrument model, as small Protocols.

Any driver that offers these methods can stand in a role: the station wraps it with
limits, safety registration and a transcript, so the driver itself stays a plain
description of the vendor's command set. Channels are numbered as the vendor numbers
them (1-based).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from instruments.accuracy import Accuracy
from instruments.digitizers.capture import Capture, CaptureSettings


@dataclass(frozen=True)
class Identity:
    """The fields of an IEEE 488.2 `*IDN?` reply: vendor, model, serial, firmware, and
    whatever further fields a model adds (the SPD3303X appends its hardware revision)."""

    vendor: str
    model: str
    serial: str
    firmware: str
    extra: tuple[str, ...] = ()

    @classmethod
    def parse(cls, reply: str, fields: int = 4) -> Identity:
        from instruments.errors import InstrumentReplyError

        parts = [f.strip() for f in reply.strip().split(",")]
        if len(parts) != fields:
            raise InstrumentReplyError("*IDN?", reply, f"expected {fields} comma-separated fields")
        return cls(*parts[:4], extra=tuple(parts[4:]))

    def __str__(self) -> str:
        return ",".join((self.vendor, self.model, self.serial, self.firmware, *self.extra))


@runtime_checkable
class ScpiDevice(Protocol):
    """Every instrument: who it is, what went wrong, and how to let go of it."""

    def identity(self) -> Identity: ...

    def check_identity(self) -> Identity:
        """Read `*IDN?` and raise IdentityError unless it names this driver's model."""
        ...

    def raise_errors(self) -> None:
        """Drain `SYST:ERR?` and raise InstrumentError if the queue held anything."""
        ...

    def close(self) -> None: ...

    def accuracy(self, quantity: str, value: float) -> Accuracy:
        """The datasheet band (or the station's certificate figure) for `quantity` at `value`."""
        ...


@runtime_checkable
class PowerSupply(ScpiDevice, Protocol):
    """A programmable DC source used as the pack charger."""

    channel_count: int

    def set_voltage(self, channel: int, volts: float) -> None: ...

    def set_current_limit(self, channel: int, amps: float) -> None: ...

    def set_output(self, channel: int, on: bool) -> None: ...

    def output_enabled(self, channel: int) -> bool: ...

    def measure_voltage(self, channel: int) -> float: ...

    def measure_current(self, channel: int) -> float: ...


@runtime_checkable
class ProtectedSupply(PowerSupply, Protocol):
    """A supply with over-voltage and over-current protection the rig can program."""

    def set_ovp(self, channel: int, volts: float) -> None: ...

    def set_ocp(self, channel: int, on: bool) -> None:
        """Arm OCP: the output latches off when it reaches its current limit."""
        ...

    def protection_tripped(self, channel: int) -> bool: ...

    def clear_protection(self, channel: int) -> None: ...


@runtime_checkable
class ElectronicLoad(ScpiDevice, Protocol):
    """A DC electronic load on the pack terminals (CC, CV, CR, CP)."""

    def set_constant_current(self, amps: float) -> None:
        """Select CC mode and set its level."""
        ...

    def configure(self, mode: str, value: float) -> None:
        """Select `mode` (CC, CV, CR or CP) and set its level (A, V, ohm or W)."""
        ...

    def set_slew(self, amps_per_second: float) -> None: ...

    def measure_power(self) -> float: ...

    def set_input(self, on: bool) -> None: ...

    def input_enabled(self) -> bool: ...

    def measure_voltage(self) -> float: ...

    def measure_current(self) -> float: ...


@runtime_checkable
class ShortingLoad(ElectronicLoad, Protocol):
    """A load with a short mode (it sinks the full current of its present range)."""

    def set_short(self, on: bool) -> None: ...

    def short_enabled(self) -> bool: ...


@runtime_checkable
class CellEmulator(ScpiDevice, Protocol):
    """A multi-channel source/sink that stands in for series cells, one channel a cell."""

    channel_count: int

    def set_voltage(self, channel: int, volts: float) -> None: ...

    def set_current_limit(self, channel: int, amps: float) -> None:
        """Source and sink limit, symmetric."""
        ...

    def set_output(self, channel: int, on: bool) -> None: ...

    def output_enabled(self, channel: int) -> bool: ...

    def measure_voltage(self, channel: int) -> float: ...

    def measure_current(self, channel: int) -> float: ...


@runtime_checkable
class PackEmulator(CellEmulator, Protocol):
    """A cell emulator that addresses many channels in one message, as one pack."""

    def set_voltages(self, channels: list[int], volts: float) -> None:
        """Program the same voltage on every channel in `channels` at once."""
        ...

    def measure_voltages(self, channels: list[int]) -> list[float]: ...


@runtime_checkable
class ChannelListEmulator(PackEmulator, Protocol):
    """A pack emulator whose limits and outputs, too, take many channels in one message."""

    def set_current_limits(self, channels: list[int], amps: float) -> None:
        """Source and sink limit, symmetric, on every channel in `channels` at once."""
        ...

    def set_outputs(self, channels: list[int], on: bool) -> None: ...


@runtime_checkable
class ResistanceSource(ScpiDevice, Protocol):
    """Programmable resistance per channel: stands in for a BMS's NTC thermistors."""

    channel_count: int
    RESISTANCE_RANGE: tuple[float, float]  # Ω the model can program

    def set_resistance(self, channel: int, ohms: float) -> None: ...

    def resistance(self, channel: int) -> float:
        """The programmed resistance, read back from the instrument (Ω)."""
        ...

    def set_output(self, channel: int, on: bool) -> None:
        """Connect (True) or disconnect the channel's terminals."""
        ...

    def output_enabled(self, channel: int) -> bool: ...


@runtime_checkable
class Digitizer(ScpiDevice, Protocol):
    """A level/edge-triggered single-shot capture with pre-trigger, in volts at an input.

    `configure_capture` returns the settings actually in force (`CaptureSettings`): a
    model may sample finer or record longer than asked, never coarser or shorter.
    """

    channel_count: int

    def configure_capture(
        self,
        channel: int,
        full_scale_v: float,
        sample_interval_s: float,
        points: int,
        pretrigger_points: int,
        also: Mapping[int, float] | None = None,
    ) -> CaptureSettings:
        """`also`: further channels recorded in the same acquisition, each with its full
        scale (ValueError where the model has one input)."""
        ...

    def set_trigger(self, channel: int, level_v: float, rising: bool = True) -> None: ...

    def arm(self) -> None:
        """Start one acquisition; it completes after the trigger and the post-trigger."""
        ...

    def acquisition_state(self) -> str:
        """ "idle", "armed" (waiting for the trigger), "triggered" or "complete"."""
        ...

    def fetch(self, channel: int = 1, binary: bool = True) -> Capture:
        """The completed record; binary=True reads definite-length blocks, False ASCII."""
        ...

    def abort(self) -> None: ...


@runtime_checkable
class Switch(ScpiDevice, Protocol):
    """Relay channels numbered slot·100 + n: closed connects COM to NO."""

    def close(self, channels: Sequence[int]) -> None: ...

    def open(self, channels: Sequence[int]) -> None: ...

    def closed(self, channels: Sequence[int]) -> list[bool]: ...


@runtime_checkable
class RegenerativeSource(PowerSupply, Protocol):
    """A two-quadrant source that sinks as much as it sources (a battery simulator, or a
    charger and a load in one). As a supply (`set_current_limit`) it sinks nothing."""

    def set_current_limits(self, channel: int, source_a: float, sink_a: float) -> None:
        """Voltage priority with both limits (the sink limit as a magnitude)."""
        ...

    def set_sink_current(self, channel: int, amps: float) -> None:
        """Sink a constant `amps` (a load)."""
        ...

    def measure_power(self, channel: int = 1) -> float: ...


@runtime_checkable
class ScanningMeter(ScpiDevice, Protocol):
    """A DMM behind a multiplexer (a data acquisition mainframe): each quantity at a
    channel, inf for an open input."""

    def measure_resistance_4w(self, channel: int) -> float: ...

    def measure_thermocouple(self, channel: int, kind: str = "K") -> float: ...


@runtime_checkable
class FunctionGenerator(ScpiDevice, Protocol):
    """A generator output in open-circuit volts: a steady level or one fast pulse per
    trigger (current-sense emulation: its voltage, attenuated, in series with a BMS's
    shunt sense input)."""

    channel_count: int
    EMF_PEAK_V: float  # ± open-circuit volts the output reaches
    EDGE_MIN_S: float  # the fastest edge it makes

    def set_high_impedance(self, channel: int) -> None:
        """Levels are programmed as open-circuit volts from here on."""
        ...

    def set_dc(self, channel: int, volts: float) -> None: ...

    def dc_level(self, channel: int) -> float: ...

    def configure_pulse(
        self, channel: int, low_v: float, high_v: float, width_s: float, edge_s: float
    ) -> None:
        """One pulse per `fire`, idling at `low_v`."""
        ...

    def fire(self, channel: int) -> None: ...

    def set_output(self, channel: int, on: bool) -> None: ...

    def output_enabled(self, channel: int) -> bool: ...


class DigitalInput(ScpiDevice, Protocol):
    """An 8-bit digital input port (a multifunction module's s01/s02): where a station's
    interlock loop is read."""

    def read_digital(self, channel: int) -> int: ...
