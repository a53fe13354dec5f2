"""Station roles: a driver wrapped with the station's limits and its safe state.

A role is what a test plan touches. It refuses anything beyond the station limits before
the driver sees it (LimitError), and knows how to put its instrument in a safe state.
Roles speak in bench terms (cell position 5, the charger) and translate to instrument
channels through the wiring map.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from instruments.accuracy import Accuracy
from instruments.digitizers.capture import Capture, CaptureSettings
from instruments.errors import LINK_ERRORS, InstrumentRebooted
from instruments.roles import (
    CellEmulator,
    ChannelListEmulator,
    Digitizer,
    ElectronicLoad,
    FunctionGenerator,
    PackEmulator,
    PowerSupply,
    RegenerativeSource,
    ResistanceSource,
    ScanningMeter,
    Switch,
)
from rig.config.station import Limits, SafeState
from rig.safety import LimitError, check_limit
from rig.station.ntc import NtcCurve

SAFE_TOLERANCE_V = 0.05  # a cell further than this from the safe voltage is not held


class RoleNotFitted(Exception):
    """The plan asked for a role this station does not have."""


def confirmed(write: Callable[[], None], took: Callable[[], bool]) -> None:
    """A state-changing command over a link that may fail, never repeated blindly.

    Sent once. If the link failed (timeout, dropped connection) or the instrument came
    back from a reboot, nobody knows whether the command took: a read-back (a query,
    which the driver retries on a fresh connection) decides. Taken: done. Not taken:
    sent once more and read back again; still not taken, the first failure is raised.
    """
    try:
        write()
        return
    except (*LINK_ERRORS, InstrumentRebooted) as exc:
        first = exc
    try:
        if took():
            return
    except InstrumentRebooted:
        pass  # it rebooted: the read-back below, after the command, is the one that counts
    write()
    if not took():
        raise first


class Charger:
    def __init__(self, name: str, driver: PowerSupply, channel: int, limits: Limits):
        self.name, self.driver, self.channel, self._limits = name, driver, channel, limits

    def set_voltage(self, volts: float) -> None:
        lim = self._limits.pack_voltage
        check_limit(self.name, "voltage", volts, lim.min, lim.max, "V")
        self.driver.set_voltage(self.channel, volts)

    def set_current_limit(self, amps: float) -> None:
        lim = self._limits.charge_current
        check_limit(self.name, "current limit", amps, lim.min, lim.max, "A")
        self.driver.set_current_limit(self.channel, amps)

    def on(self) -> None:
        self.driver.set_output(self.channel, True)

    def off(self) -> None:
        self.driver.set_output(self.channel, False)

    def measure_voltage(self) -> float:
        return self.driver.measure_voltage(self.channel)

    def measure_current(self) -> float:
        return self.driver.measure_current(self.channel)

    def make_safe(self) -> None:
        confirmed(
            lambda: self.driver.set_output(self.channel, False),
            lambda: not self.driver.output_enabled(self.channel),
        )

    def accuracy(self, quantity: str, value: float) -> Accuracy:
        """The charger's accuracy band for `quantity` at `value`, certificate applied."""
        return self.driver.accuracy(quantity, value)


class Load:
    def __init__(self, name: str, driver: ElectronicLoad, limits: Limits):
        self.name, self.driver, self._limits = name, driver, limits

    def set_current(self, amps: float) -> None:
        lim = self._limits.discharge_current
        check_limit(self.name, "current", amps, lim.min, lim.max, "A")
        self.driver.set_constant_current(amps)

    def on(self) -> None:
        self.driver.set_input(True)

    def off(self) -> None:
        self.driver.set_input(False)

    def measure_voltage(self) -> float:
        return self.driver.measure_voltage()

    def measure_current(self) -> float:
        return self.driver.measure_current()

    def make_safe(self) -> None:
        confirmed(lambda: self.driver.set_input(False), lambda: not self.driver.input_enabled())
        self.driver.set_constant_current(0.0)

    def accuracy(self, quantity: str, value: float) -> Accuracy:
        """The load's accuracy band for `quantity` at `value`, certificate applied."""
        return self.driver.accuracy(quantity, value)


@dataclass(frozen=True)
class CellChannel:
    instrument: str
    driver: CellEmulator
    channel: int


class _CellGroup:
    """The cell positions one emulator holds, and whether it takes them in one message."""

    def __init__(self, channels: dict[int, CellChannel], positions: list[int]):
        self._all, self.positions = channels, positions
        self.channels = [channels[p] for p in positions]
        self.numbers = [ch.channel for ch in self.channels]
        driver = self.channels[0].driver
        many = len(positions) > 1
        self.pack = driver if many and isinstance(driver, PackEmulator) else None
        self.lists = driver if many and isinstance(driver, ChannelListEmulator) else None

    def __str__(self) -> str:
        if len(self.positions) == 1:
            return f"cell {self.positions[0]}"
        return f"cells {', '.join(map(str, self.positions))}"

    def singles(self) -> list[_CellGroup]:
        return [_CellGroup(self._all, [p]) for p in self.positions]

    def read(self) -> list[float]:
        """Every cell's voltage, in the group's order."""
        if self.pack is not None:
            return self.pack.measure_voltages(self.numbers)
        return [ch.driver.measure_voltage(ch.channel) for ch in self.channels]

    def at(self, volts: float) -> bool:
        """Every cell holds `volts`, or is off (the read-back of a safe-state command)."""
        return all(
            abs(reading - volts) < 0.01 or not ch.driver.output_enabled(ch.channel)
            for ch, reading in zip(self.channels, self.read(), strict=True)
        )


class Cells:
    """Series cell positions 1..N, each an emulator channel per the wiring map."""

    def __init__(self, channels: dict[int, CellChannel], limits: Limits, safe: SafeState):
        self._channels = dict(sorted(channels.items()))
        self._limits, self._safe = limits, safe
        self._setpoints: dict[int, float] = {}
        self._ranged: set[int] = set()  # channels whose meter is on a low range
        # positions by emulator, in wiring order: an emulator that takes a channel list
        # gets one message for its group where it would otherwise get one per cell
        by_driver: dict[int, list[int]] = {}
        for position, ch in self._channels.items():
            by_driver.setdefault(id(ch.driver), []).append(position)
        self._groups = [_CellGroup(self._channels, ps) for ps in by_driver.values()]

    @property
    def count(self) -> int:
        return len(self._channels)

    @property
    def positions(self) -> list[int]:
        return list(self._channels)

    def channel_of(self, position: int) -> CellChannel:
        try:
            return self._channels[position]
        except KeyError:
            raise RoleNotFitted(
                f"cell position {position} is not wired (station has 1..{self.count})"
            ) from None

    def set_voltage(self, position: int, volts: float) -> None:
        ch = self.channel_of(position)
        lim = self._limits.cell_voltage
        check_limit(
            f"cell {position} ({ch.instrument}:{ch.channel})",
            "voltage",
            volts,
            lim.min,
            lim.max,
            "V",
        )
        ch.driver.set_voltage(ch.channel, volts)
        self._setpoints[position] = volts

    def set_all(self, volts: float) -> None:
        """Every cell at `volts`; an emulator that addresses many channels in one message
        (PackEmulator) gets one message for all its cells instead of one per cell."""
        lim = self._limits.cell_voltage
        check_limit("cells", "voltage", volts, lim.min, lim.max, "V")
        for group in self._groups:
            self._set_group(group, volts)

    def _set_group(self, group: _CellGroup, volts: float) -> None:
        """`volts` (inside the station's limits) on one emulator's cells."""
        if group.pack is not None:
            group.pack.set_voltages(group.numbers, volts)
            self._setpoints.update(dict.fromkeys(group.positions, volts))
        else:
            for position in group.positions:
                self.set_voltage(position, volts)

    @property
    def group_count(self) -> int:
        """How many emulators hold the cells (each read in one look by `read_group`)."""
        return len(self._groups)

    def read_group(self, index: int) -> list[tuple[int, CellChannel, float]]:
        """(position, channel, volts) of every cell on the `index`-th emulator."""
        group = self._groups[index]
        return list(zip(group.positions, group.channels, group.read(), strict=True))

    def setpoint(self, position: int) -> float | None:
        return self._setpoints.get(position)

    def set_current_limit(self, amps: float) -> None:
        lim = self._limits.cell_current
        check_limit("cells", "current limit", amps, lim.min, lim.max, "A")
        self._each(
            lambda emulator, numbers: emulator.set_current_limits(numbers, amps),
            lambda ch: ch.driver.set_current_limit(ch.channel, amps),
        )

    def on(self) -> None:
        self._outputs(True)

    def _outputs(self, on: bool) -> None:
        self._each(
            lambda emulator, numbers: emulator.set_outputs(numbers, on),
            lambda ch: ch.driver.set_output(ch.channel, on),
        )

    def _each(
        self,
        listed: Callable[[ChannelListEmulator, list[int]], None],
        alone: Callable[[CellChannel], None],
    ) -> None:
        """One setting on every cell: one message per emulator that takes a channel list,
        one per channel on any other."""
        for group in self._groups:
            if group.lists is not None:
                listed(group.lists, group.numbers)
            else:
                for ch in group.channels:
                    alone(ch)

    def off(self) -> None:
        """Every output off: the pack, and a BMS that runs from it, loses its supply.

        Only the recovery procedure uses this (a power cycle); the safe state keeps the
        cells powered.
        """
        self._outputs(False)

    def pack_setpoint(self) -> float:
        """The sum of the programmed cell voltages (positions never set count as 0)."""
        return sum(self._setpoints.get(p, 0.0) for p in self._channels)

    def measure_voltage(self, position: int) -> float:
        ch = self.channel_of(position)
        return ch.driver.measure_voltage(ch.channel)

    def measure_current(self, position: int) -> float:
        """The channel's current, > 0 sourcing (the cell discharging), < 0 sinking."""
        ch = self.channel_of(position)
        return ch.driver.measure_current(ch.channel)

    def accuracy(self, position: int, quantity: str, value: float) -> Accuracy:
        """The accuracy band of the emulator channel behind `position`, certificate applied."""
        return self.channel_of(position).driver.accuracy(quantity, value)

    def measure_small_current(self, position: int, largest_a: float) -> tuple[float, Accuracy]:
        """The channel's current read on the smallest meter range holding `largest_a`
        (a BMS's standby draw: microamperes), with that range's band; inf if the current
        is beyond it. A model without low ranges reads on its one range. The range is
        put back by `restore_ranges` (and the safe state)."""
        ch = self.channel_of(position)
        setter = getattr(ch.driver, "set_current_meas_range", None)
        if setter is None:
            amps = ch.driver.measure_current(ch.channel)
            return amps, ch.driver.accuracy("current_meas", amps)
        top = setter(ch.channel, largest_a)
        self._ranged.add(position)
        amps = ch.driver.measure_current(ch.channel)
        if abs(amps) > 1e30:  # the meter's overload value
            amps = math.inf
        return amps, ch.driver.current_meas_accuracy(top, amps if math.isfinite(amps) else top)

    def restore_ranges(self) -> None:
        """Every channel a small current was read on back on its full range."""
        for position in sorted(self._ranged):
            ch = self.channel_of(position)
            ch.driver.set_current_meas_range(ch.channel, 3.06)
        self._ranged.clear()

    def make_safe(self) -> None:
        """Cells stay powered at nominal: an unpowered sense line looks like a dead cell."""
        failures: list[str] = []
        volts = self._safe.cell_voltage
        for group in self._groups:
            # a group in one message, or cell by cell: one cell's failure stops no other
            for unit in [group] if group.pack is not None else group.singles():
                try:
                    confirmed(lambda u=unit: self._set_group(u, volts), lambda u=unit: u.at(volts))
                except Exception as exc:
                    failures.append(f"{unit}: {exc}")
        if failures:
            raise RuntimeError("; ".join(failures))
        self.set_current_limit(self._safe.cell_current_limit)
        self.on()
        if self._ranged:
            self.restore_ranges()
        self._verify_safe(volts)

    def confirm_safe(self) -> None:
        """Read every cell: still at the safe voltage, or RuntimeError naming the first that
        is not (nothing is switched: the whole safe state follows and puts it right)."""
        volts = self._safe.cell_voltage
        for group in self._groups:
            for position, reading in zip(group.positions, group.read(), strict=True):
                if abs(reading - volts) > SAFE_TOLERANCE_V:
                    raise RuntimeError(f"cell {position} reads {reading:.3f} V, not {volts:g} V")

    def _verify_safe(self, volts: float, tolerance: float = SAFE_TOLERANCE_V) -> None:
        """Read every cell back: one the emulator does not hold at the safe voltage (a
        failed regulator) is switched off, which is safe (an unpowered sense line is a
        dead cell to the BMS, not a danger), and the step fails, naming it."""
        wrong: list[str] = []
        for group in self._groups:
            positions, chans, readings = group.positions, group.channels, group.read()
            for position, ch, reading in zip(positions, chans, readings, strict=True):
                if abs(reading - volts) > tolerance:
                    ch.driver.set_output(ch.channel, False)
                    wrong.append(
                        f"cell {position} ({ch.instrument}:{ch.channel}) read {reading:.3f} V "
                        f"after being set to {volts:g} V; its output is switched off"
                    )
        if wrong:
            raise RuntimeError("; ".join(wrong))


# --- thermistor emulation ------------------------------------------------------------


@dataclass(frozen=True)
class MeterChannel:
    """A DMM channel wired to something on the bench (an NTC line, a thermocouple)."""

    instrument: str
    driver: ScanningMeter
    channel: int

    def __str__(self) -> str:
        return f"{self.instrument}:{self.channel}"


@dataclass(frozen=True)
class NtcChannel:
    instrument: str
    driver: ResistanceSource
    channel: int
    curve: NtcCurve
    readback: MeterChannel | None = None  # a DMM on the NTC line


@dataclass(frozen=True)
class NtcReference:
    """What the station knows of an NTC line: its resistance and the temperature it
    stands for on the NTC's curve, ± `band_c` (°C), and whether a meter measured it
    (`measured`) or it is the emulator's echo of its own setting."""

    celsius: float
    ohms: float
    band_c: float
    source: str
    measured: bool
    instrument: str


class Thermistors:
    """The BMS's NTC inputs 1..N, each driven by a resistance channel per the wiring map.

    Plans speak °C: a temperature beyond `limits.temperature` raises LimitError before
    anything is sent, and so does a raw resistance whose temperature on that NTC's curve
    lies beyond it. The safe state is 25 °C on every NTC, terminals connected (an open
    NTC reads as a sensor fault, not as a safe temperature).
    """

    SAFE_C = 25.0

    def __init__(self, channels: dict[int, NtcChannel], limits: Limits):
        self._channels = dict(sorted(channels.items()))
        self._limits = limits
        self._setpoints: dict[int, float] = {}

    @property
    def count(self) -> int:
        return len(self._channels)

    @property
    def positions(self) -> list[int]:
        """The NTC numbers wired (1-based, as the BMS numbers its NTC inputs)."""
        return list(self._channels)

    def channel_of(self, ntc: int) -> NtcChannel:
        try:
            return self._channels[ntc]
        except KeyError:
            raise RoleNotFitted(f"NTC {ntc} is not wired (station has 1..{self.count})") from None

    def _label(self, ntc: int) -> str:
        ch = self.channel_of(ntc)
        return f"NTC {ntc} ({ch.instrument}:{ch.channel})"

    def ohms_at(self, ntc: int, celsius: float) -> float:
        """The resistance NTC `ntc` has at `celsius` (its curve from the station file)."""
        return self.channel_of(ntc).curve.ohms(celsius)

    def celsius_at(self, ntc: int, ohms: float) -> float:
        return self.channel_of(ntc).curve.celsius(ohms)

    def set_temperature(self, ntc: int, celsius: float) -> float:
        """Program the resistance NTC `ntc` has at `celsius`; returns the ohms sent."""
        lim = self._limits.temperature
        check_limit(self._label(ntc), "temperature", celsius, lim.min, lim.max, "°C")
        ch = self.channel_of(ntc)
        ohms = ch.curve.ohms(celsius)
        self._send(ntc, ch, ohms)
        self._setpoints[ntc] = celsius
        return ohms

    def set_all(self, celsius: float) -> None:
        lim = self._limits.temperature
        check_limit("thermistors", "temperature", celsius, lim.min, lim.max, "°C")
        for ntc in self._channels:
            self.set_temperature(ntc, celsius)

    def set_resistance(self, ntc: int, ohms: float) -> None:
        """A raw resistance, still held to the temperature limits through the curve."""
        ch = self.channel_of(ntc)
        celsius = ch.curve.celsius(ohms)
        lim = self._limits.temperature
        check_limit(self._label(ntc), "temperature", celsius, lim.min, lim.max, "°C")
        self._send(ntc, ch, ohms)
        self._setpoints[ntc] = celsius

    def _send(self, ntc: int, ch: NtcChannel, ohms: float) -> None:
        low, high = ch.driver.RESISTANCE_RANGE
        if not low <= ohms <= high:
            raise LimitError(self._label(ntc), "resistance", ohms, low, high, "Ω")
        ch.driver.set_resistance(ch.channel, ohms)

    def temperature(self, ntc: int) -> float | None:
        """The temperature last commanded on `ntc` (None before the first)."""
        self.channel_of(ntc)
        return self._setpoints.get(ntc)

    def resistance(self, ntc: int) -> float:
        """The resistance the instrument reports it is programmed to (Ω)."""
        ch = self.channel_of(ntc)
        return ch.driver.resistance(ch.channel)

    def on(self) -> None:
        for ch in self._channels.values():
            ch.driver.set_output(ch.channel, True)

    def accuracy(self, ntc: int, quantity: str, value: float) -> Accuracy:
        """The resistance channel's band for `quantity` at `value` (Ω), certificate applied."""
        return self.channel_of(ntc).driver.accuracy(quantity, value)

    def has_readback(self, ntc: int) -> bool:
        return self.channel_of(ntc).readback is not None

    def reference(self, ntc: int) -> NtcReference:
        """The line's resistance as the station measures it, through the NTC's curve: a
        DMM's 4-wire reading where one is wired on the line (its accuracy over the
        curve's slope), else the emulator's echo of its setting (the emulator's
        programming accuracy). A line the DMM reads open is inf Ω, no temperature."""
        ch = self.channel_of(ntc)
        if ch.readback is None:
            ohms = self.resistance(ntc)
            celsius = ch.curve.celsius(ohms)
            band = self.temperature_band(ntc, celsius)
            source = (
                f"{ch.instrument}:{ch.channel} resistance accuracy at {ohms:.5g} Ω, through "
                f"the curve's slope at {celsius:.1f} °C (its echo of the setting)"
            )
            return NtcReference(celsius, ohms, band, source, False, f"{ch.instrument}:{ch.channel}")
        meter = ch.readback
        ohms = meter.driver.measure_resistance_4w(meter.channel)
        if not math.isfinite(ohms) or ohms <= 0:
            what = "open" if ohms > 0 else "shorted"
            return NtcReference(math.nan, ohms, math.inf, f"{meter}: {what}", True, str(meter))
        celsius = ch.curve.celsius(ohms)
        acc = meter.driver.accuracy("resistance_meas", ohms)
        band = acc.limit(ohms) / abs(ch.curve.slope_ohm_per_c(celsius))
        source = (
            f"{meter} 4-wire ohms ({acc.source}) at {ohms:.5g} Ω, through the curve's slope "
            f"at {celsius:.1f} °C"
        )
        return NtcReference(celsius, ohms, band, source, True, str(meter))

    def reference_band(self, ntc: int, celsius: float) -> tuple[float, str]:
        """± °C of the station's reference at `celsius` (see `reference`), and its source."""
        ch = self.channel_of(ntc)
        if ch.readback is None:
            band = self.temperature_band(ntc, celsius)
            return band, f"{ch.instrument}:{ch.channel} resistance accuracy through the NTC curve"
        ohms = ch.curve.ohms(celsius)
        acc = ch.readback.driver.accuracy("resistance_meas", ohms)
        band = acc.limit(ohms) / abs(ch.curve.slope_ohm_per_c(celsius))
        return band, f"{ch.readback} 4-wire ohms through the NTC curve ({acc.source})"

    def temperature_band(self, ntc: int, celsius: float) -> float:
        """± °C the emulated temperature may be off at `celsius`: the programming accuracy
        (Ω) at that resistance divided by the curve's slope there."""
        ch = self.channel_of(ntc)
        ohms = ch.curve.ohms(celsius)
        band = ch.driver.accuracy("resistance_set", ohms).limit(ohms)
        return band / abs(ch.curve.slope_ohm_per_c(celsius))

    def make_safe(self) -> None:
        failures: list[str] = []
        for ntc in self._channels:
            try:
                self.set_temperature(ntc, self.SAFE_C)
                ch = self._channels[ntc]
                ch.driver.set_output(ch.channel, True)
            except Exception as exc:
                failures.append(f"NTC {ntc}: {exc}")
        if failures:
            raise RuntimeError("; ".join(failures))


class Thermocouples:
    """Thermocouples on a DMM's channels, by where they are attached (`fets`: the BMS's
    FET heatsink; `ambient`: the bench's air). Read-only: nothing to make safe."""

    def __init__(self, probes: dict[str, tuple[MeterChannel, str]]):
        self._probes = dict(probes)

    @property
    def places(self) -> list[str]:
        return list(self._probes)

    def channel_of(self, place: str) -> MeterChannel:
        try:
            return self._probes[place][0]
        except KeyError:
            raise RoleNotFitted(
                f"no thermocouple wired at {place!r} (station has: {', '.join(self._probes)})"
            ) from None

    def read(self, place: str) -> float:
        """°C at `place` (inf: the thermocouple is open)."""
        meter = self.channel_of(place)
        return meter.driver.measure_thermocouple(meter.channel, self._probes[place][1])

    def accuracy(self, place: str, celsius: float) -> Accuracy:
        return self.channel_of(place).driver.accuracy("temperature_meas", celsius)


# --- digitizer -------------------------------------------------------------------------

UNITS = {"discharge_current": "A", "pack_current": "A", "pack_voltage": "V", "sense_current": "A"}


@dataclass(frozen=True)
class Probe:
    """A further digitizer input recorded in the same acquisition."""

    channel: int
    quantity: str
    scale: float  # volts at the input per unit


@dataclass(frozen=True)
class DigitizerTrace:
    """A capture in the quantity's unit, trigger at t = 0."""

    times_s: np.ndarray
    values: np.ndarray
    sample_interval_s: float
    trigger_index: int
    quantity: str
    unit: str
    instrument: str


class DigitizerRole:
    """The station's digitizer, in the units of what it is wired to measure.

    The wiring says what the input sees (`discharge_current` through a shunt or current
    probe, `pack_voltage` through a divider) and its scale in volts per unit; levels and
    full scale are given in that unit (A or V) and converted here. `arm` returns the
    settings in force: the sample interval there is the resolution of any time read off
    the capture.
    """

    def __init__(
        self,
        name: str,
        driver: Digitizer,
        channel: int,
        measures: str,
        scale: float,
        also: tuple[Probe, ...] = (),
    ):
        self.name, self.driver, self.channel = name, driver, channel
        self.quantity, self.unit, self.scale = measures, UNITS[measures], scale
        self.also = {p.quantity: p for p in also}
        self.settings: CaptureSettings | None = None
        self._recorded: tuple[str, ...] = ()

    @property
    def quantities(self) -> list[str]:
        """Everything this digitizer is wired to record: its trigger input first."""
        return [self.quantity, *self.also]

    def arm(
        self,
        level: float,
        rising: bool = True,
        sample_interval_s: float = 1e-6,
        points: int = 2000,
        pretrigger_points: int = 200,
        full_scale: float | None = None,
        also: Mapping[str, float] | None = None,
    ) -> CaptureSettings:
        """Configure, set the edge trigger at `level` (A or V) and start one capture.

        `full_scale` (same unit) defaults to twice the level. `also` records further
        wired quantities in the same acquisition, each at its full scale in its unit
        (`{"discharge_current": 2.0}`); RoleNotFitted for one this digitizer is not wired
        to. Returns the instrument's actual settings, in volts at its input.
        """
        fs = abs(full_scale if full_scale is not None else 2.0 * level)
        if not fs > 0:
            raise ValueError("full_scale must be > 0 (or a non-zero level)")
        if abs(level) > fs:
            raise ValueError(f"trigger level {level:g} {self.unit} beyond full scale {fs:g}")
        extra: dict[int, float] = {}
        for quantity, scale in (also or {}).items():
            probe = self.also.get(quantity)
            if probe is None:
                raise RoleNotFitted(
                    f"{self.name} is not wired to record {quantity} (it records "
                    f"{', '.join(self.quantities)})"
                )
            extra[probe.channel] = abs(scale) * probe.scale
        kwargs = {"also": extra} if extra else {}
        self.settings = self.driver.configure_capture(
            self.channel, fs * self.scale, sample_interval_s, points, pretrigger_points, **kwargs
        )
        self._recorded = (self.quantity, *(also or {}))
        self.driver.set_trigger(self.channel, level * self.scale, rising)
        self.driver.arm()
        return self.settings

    def state(self) -> str:
        """idle, armed, triggered or complete."""
        return self.driver.acquisition_state()

    def complete(self) -> bool:
        return self.state() == "complete"

    def fetch(self, binary: bool = True, quantity: str | None = None) -> DigitizerTrace:
        """The completed capture of the trigger input, or of another quantity recorded
        in the same acquisition (`arm(also=...)`); before completion a RuntimeError says
        the state."""
        state = self.state()
        if state != "complete":
            raise RuntimeError(f"{self.name}: capture not complete ({state})")
        quantity = quantity or self.quantity
        if quantity not in self._recorded:
            raise RoleNotFitted(f"{self.name} did not record {quantity} in this capture")
        probe = self.also.get(quantity)
        channel, scale = (probe.channel, probe.scale) if probe else (self.channel, self.scale)
        capture: Capture = self.driver.fetch(channel, binary=binary)
        values = capture.values / scale
        return DigitizerTrace(
            capture.times,
            values,
            capture.sample_interval_s,
            capture.pretrigger_points,
            quantity,
            UNITS[quantity],
            self.name,
        )

    def abort(self) -> None:
        self.driver.abort()

    def accuracy(self, quantity: str) -> Accuracy:
        """The band in force for the last capture: `voltage_meas` at its full scale (in
        volts at the input, so divide by `scale` for the unit), or `timebase`."""
        if self.settings is None:
            raise RuntimeError(f"{self.name}: no capture configured")
        value = self.settings.full_scale_v if quantity == "voltage_meas" else 1.0
        return self.driver.accuracy(quantity, value)

    def make_safe(self) -> None:
        self.driver.abort()


# --- short relay and fault insertion ------------------------------------------------


class ChannelRelay:
    """One relay on a switch instrument's channel, safe open."""

    def __init__(self, name: str, driver: Switch, channel: int):
        self.name, self.driver, self.channel = name, driver, channel

    def close(self) -> None:
        self.driver.close([self.channel])

    def open(self) -> None:
        self.driver.open([self.channel])

    def is_closed(self) -> bool:
        return self.driver.closed([self.channel])[0]

    def make_safe(self) -> None:
        self.open()


class ShortRelay(ChannelRelay):
    """The relay that shorts the pack output. Closed only on request; the first thing
    the safe state opens."""


class SupplyRelay(ChannelRelay):
    """A relay in the BMS board's own supply (the harness's B- / sense-connector feed from
    the pack): what power-cycles a board that a real module powers, where nothing else on
    the bench carries its supply.

    The channel is wired through the actuator's normally-closed contact, so closing it
    cuts the supply (`cut`) and opening it restores it (`restore`), as a fault-insertion
    channel inserts its fault when closed. The safe state is the board powered (channel
    open), for three reasons:

    - the BMS is the module's only protection; unpowered, its FETs are off but nothing
      watches the cells, and the next plan, the operator and the lab's panel all expect
      a board that answers;
    - a powered board keeps what it latched: a stop in the middle of a plan (an error,
      Ctrl-C, the interlock) leaves the evidence of what tripped for the operator to
      read, instead of erasing it with the board's RAM;
    - the powered state is also the relay's rest state: a switch that loses its own
      power, is reset (`*RST` opens every channel) or loses its host leaves the board
      powered, so no failure of the rig cuts the BMS's supply. A supply wired through
      the normally-open contact would do the opposite: the board dead whenever the
      switch is.
    """

    def cut(self) -> None:
        self.close()

    def restore(self) -> None:
        self.open()

    def is_cut(self) -> bool:
        return self.is_closed()


@dataclass(frozen=True)
class Fault:
    name: str
    instrument: str
    driver: Switch
    channel: int
    action: str  # open_cell_sense | short_ntc | open_ntc
    target: int  # cell position or NTC number


class FaultSwitch:
    """Named fault-insertion relays from the wiring map: `insert("cell_5_sense_open")`."""

    def __init__(self, faults: dict[str, Fault]):
        self._faults = dict(faults)

    @property
    def names(self) -> list[str]:
        return list(self._faults)

    def fault(self, name: str) -> Fault:
        try:
            return self._faults[name]
        except KeyError:
            known = ", ".join(self._faults) or "none"
            raise RoleNotFitted(f"no fault {name!r} wired (station has: {known})") from None

    def find(self, action: str, target: int) -> Fault:
        """The fault wired to do `action` on `target` (e.g. "open_ntc", 2)."""
        for fault in self._faults.values():
            if fault.action == action and fault.target == target:
                return fault
        raise RoleNotFitted(f"no fault wired to {action} {target}")

    def insert(self, name: str) -> None:
        f = self.fault(name)
        f.driver.close([f.channel])

    def remove(self, name: str) -> None:
        f = self.fault(name)
        f.driver.open([f.channel])

    def operate_time(self, name: str) -> tuple[float, str]:
        """How long after its command the fault's relay has moved (s), and the source."""
        f = self.fault(name)
        return (
            float(getattr(f.driver, "OPERATE_S", 0.0)),
            str(getattr(f.driver, "OPERATE_SOURCE", f"{f.instrument}: not stated")),
        )

    def wired(self, action: str) -> list[Fault]:
        """The faults wired to do `action`, by target."""
        return sorted(
            (f for f in self._faults.values() if f.action == action), key=lambda f: f.target
        )

    def inserted(self, name: str) -> bool:
        f = self.fault(name)
        return f.driver.closed([f.channel])[0]

    def remove_all(self) -> None:
        """Every fault relay open: one message per switch (its channel list); a switch that
        refuses the list is opened relay by relay, so one bad relay keeps no other closed."""
        by_switch: dict[int, list[Fault]] = {}
        for f in self._faults.values():
            by_switch.setdefault(id(f.driver), []).append(f)
        failures: list[str] = []
        for faults in by_switch.values():
            try:
                faults[0].driver.open([f.channel for f in faults])
            except Exception:
                for f in faults:  # each alone: the ones that still fail are named
                    try:
                        f.driver.open([f.channel])
                    except Exception as exc:
                        failures.append(f"{f.name}: {exc}")
        if failures:
            raise RuntimeError("; ".join(failures))

    def make_safe(self) -> None:
        self.remove_all()


# --- current-sense emulation ------------------------------------------------------------


class ShuntEmulation:
    """A generator output in series with the BMS's shunt sense leads: the BMS measures
    the current through its FETs plus the current emulated here.

    Plans speak amperes on a path (`"discharge"` or `"charge"`): a current I is I ×
    `shunt_ohm` × `attenuation` volts of the generator's open-circuit output, of the sign
    that reads as that path's current. A level beyond what the generator can make is
    refused with LimitError before a byte is sent; so is one beyond
    `limits.emulated_current`. The real current (the charger's or the load's small
    test current) is the trip's evidence: it stops when the FET opens.

    `set_current_equivalent` holds a level (DC); `pulse` makes one pulse from the present
    level to a higher one and back, with the generator's fastest edge unless told
    (a short circuit emulated without kiloamperes); `off` returns to 0 A and switches the
    output off, which is also its safe state.
    """

    def __init__(
        self,
        name: str,
        driver: FunctionGenerator,
        channel: int,
        shunt_ohm: float,
        attenuation: float,
        positive: str,
        limits: Limits,
    ):
        self.name, self.driver, self.channel = name, driver, channel
        self.shunt_ohm, self.attenuation, self.positive = shunt_ohm, attenuation, positive
        self._limits = limits
        self._level: tuple[float, str] = (0.0, positive)
        self._configured = False

    @property
    def volts_per_amp(self) -> float:
        """Generator open-circuit volts per emulated ampere."""
        return self.shunt_ohm * self.attenuation

    @property
    def max_current_a(self) -> float:
        """The largest current the generator can emulate (its ±EMF_PEAK_V)."""
        return self.driver.EMF_PEAK_V / self.volts_per_amp

    @property
    def edge_s(self) -> float:
        """The generator's fastest edge: the emulated current's rise time."""
        return self.driver.EDGE_MIN_S

    def volts(self, amps: float, path: str = "discharge") -> float:
        """The generator voltage that reads as `amps` on `path`."""
        if path not in ("discharge", "charge"):
            raise ValueError(f"path must be 'discharge' or 'charge', got {path!r}")
        sign = 1.0 if path == self.positive else -1.0
        return sign * amps * self.volts_per_amp

    def check(self, amps: float, path: str = "discharge") -> None:
        """LimitError unless `amps` on `path` lies within what the station may emulate
        (`limits.emulated_current`, and what the generator can make)."""
        lim = self._limits.emulated_current
        top = self.max_current_a if lim is None else min(lim.max, self.max_current_a)
        low = 0.0 if lim is None else lim.min
        check_limit(self.name, f"emulated {path} current", amps, low, top, "A")

    def _ready(self) -> None:
        if not self._configured:
            self.driver.set_high_impedance(self.channel)
            self._configured = True

    def set_current_equivalent(self, amps: float, path: str = "discharge") -> None:
        """Hold an emulated `amps` on `path` until told otherwise (output on)."""
        self.check(amps, path)
        self._ready()
        self.driver.set_dc(self.channel, self.volts(amps, path))
        if not self.driver.output_enabled(self.channel):
            self.driver.set_output(self.channel, True)
        self._level = (amps, path)

    def level(self) -> tuple[float, str]:
        """The emulated current last commanded, and its path."""
        return self._level

    def pulse(
        self, amps: float, width_s: float, path: str = "discharge", edge_s: float | None = None
    ) -> None:
        """One pulse of `amps` on `path`, `width_s` long (50 % to 50 %), from and back to
        the level held now; edges `edge_s` (default the generator's fastest). The pulse
        rises in the generator's positive sense, so only on the path that reads positive
        (`wiring.shunt.positive`)."""
        if path != self.positive:
            raise ValueError(
                f"{self.name}: pulses are wired as {self.positive} current; not {path}"
            )
        base, _ = self._level
        self.check(amps, path)
        if not amps > base:
            raise ValueError(f"pulse {amps:g} A not above the held {base:g} A")
        self._ready()
        low, high = self.volts(base, path), self.volts(amps, path)
        self.driver.configure_pulse(self.channel, low, high, width_s, edge_s or self.edge_s)
        if not self.driver.output_enabled(self.channel):
            self.driver.set_output(self.channel, True)
        self.driver.fire(self.channel)

    def accuracy(self, amps: float, path: str = "discharge") -> Accuracy:
        """The emulated current's band at `amps`: the generator's level accuracy, in
        amperes through the attenuator and the shunt (a station states the whole chain's
        calibration under the generator's `voltage_set`)."""
        band = self.driver.accuracy("voltage_set", abs(self.volts(amps, path)))
        k = self.volts_per_amp
        return Accuracy(band.pct, band.offset / k, band.range_max / k, band.source)

    def off(self) -> None:
        self.driver.set_dc(self.channel, 0.0)
        self.driver.set_output(self.channel, False)
        self._level = (0.0, self.positive)

    def make_safe(self) -> None:
        confirmed(
            lambda: self.driver.set_output(self.channel, False),
            lambda: not self.driver.output_enabled(self.channel),
        )
        self.driver.set_dc(self.channel, 0.0)
        self._level = (0.0, self.positive)


# --- a battery simulator on the battery terminals ----------------------------------------


class BatterySimulator:
    """A regenerative source on the BMS's battery terminals (B+/B-), standing in for the
    pack's energy: it sources and sinks the current the charger and the load drive
    through the FETs, while the cell emulators feed only the sense taps.

    It holds the pack at `safe_state.pack_voltage` (default: the cells' safe voltage
    times their number) with both limits at `safe_state.pack_current_limit`; the BMS runs
    from it, so its safe state is on, at that voltage, like the cells'. A voltage beyond
    `limits.pack_voltage` or a limit beyond `limits.pack_current` (default: the larger of
    the charge and discharge limits) is refused (LimitError) before a byte is sent. A plan
    that drives more than the safe limits through the pack opens them first
    (`carry(amps)`).
    """

    def __init__(
        self,
        name: str,
        driver: RegenerativeSource,
        channel: int,
        limits: Limits,
        volts: float,
        amps: float,
    ):
        self.name, self.driver, self.channel = name, driver, channel
        self._limits, self.safe_v, self.safe_a = limits, volts, amps

    def set_voltage(self, volts: float) -> None:
        lim = self._limits.pack_voltage
        check_limit(self.name, "pack voltage", volts, lim.min, lim.max, "V")
        self.driver.set_voltage(self.channel, volts)

    @property
    def max_current_a(self) -> float:
        lim = self._limits.pack_current
        if lim is not None:
            return lim.max
        return max(self._limits.charge_current.max, self._limits.discharge_current.max)

    def set_current_limits(self, source_a: float, sink_a: float) -> None:
        top = self.max_current_a
        check_limit(self.name, "source limit", source_a, 0.0, top, "A")
        check_limit(self.name, "sink limit", sink_a, 0.0, top, "A")
        self.driver.set_current_limits(self.channel, source_a, sink_a)

    def carry(self, amps: float) -> None:
        """Open both limits to `amps` (no lower than the safe limit): the pack carries a
        stimulus current; the safe state closes them again."""
        level = max(amps, self.safe_a)
        self.set_current_limits(level, level)

    def on(self) -> None:
        self.driver.set_output(self.channel, True)

    def off(self) -> None:
        """The pack's energy gone: the BMS, which runs from it, loses its supply (the
        recovery procedure's power cycle)."""
        self.driver.set_output(self.channel, False)

    def measure_voltage(self) -> float:
        return self.driver.measure_voltage(self.channel)

    def measure_current(self) -> float:
        """+ sourcing (the pack discharging), − sinking (charging)."""
        return self.driver.measure_current(self.channel)

    def accuracy(self, quantity: str, value: float) -> Accuracy:
        return self.driver.accuracy(quantity, value)

    def make_safe(self) -> None:
        self.set_voltage(self.safe_v)
        self.set_current_limits(self.safe_a, self.safe_a)
        confirmed(
            lambda: self.driver.set_output(self.channel, True),
            lambda: self.driver.output_enabled(self.channel),
        )
