"""The station file: which instruments sit on the bench, how they are wired, what is safe.

Limits here are absolute: no command beyond them is ever sent, whatever a test plan or
spec asks for. The wiring map is the connector map of the bench; roles are built from it.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SIM_RESOURCE = "sim"
_CHANNEL_REF = re.compile(r"^(?P<instrument>[A-Za-z_][\w-]*):(?P<channel>[1-9]\d*)$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelRef(Strict):
    """`instrument:channel` in the file, e.g. `cellsim_a:3`."""

    instrument: str
    channel: int

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, str):
            match = _CHANNEL_REF.match(value.strip())
            if not match:
                raise ValueError(
                    f"expected 'instrument:channel' such as 'cellsim_a:1', got {value!r}"
                )
            return {"instrument": match["instrument"], "channel": int(match["channel"])}
        return value

    def __str__(self) -> str:
        return f"{self.instrument}:{self.channel}"


class Range(Strict):
    min: float = 0.0
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self

    def contains(self, value: float) -> bool:
        return self.min <= value <= self.max


class Limits(Strict):
    cell_voltage: Range
    pack_voltage: Range
    charge_current: Range
    discharge_current: Range
    cell_current: Range
    temperature: Range
    # the current a current-sense emulator may make the BMS see (A, either path);
    # absent: what the generator can emulate
    emulated_current: Range | None = None
    # what a battery simulator on the battery terminals may source or sink (a short
    # circuit's current included); absent: the larger of the charge and discharge limits
    pack_current: Range | None = None


class SafeState(Strict):
    cell_voltage: float = Field(gt=0, description="every emulated cell, V")
    cell_current_limit: float = Field(default=1.0, gt=0)
    # a battery simulator on the battery terminals (wiring.pack): its voltage (default:
    # the cells' safe voltage times their number) and both its current limits
    pack_voltage: float | None = Field(default=None, gt=0)
    pack_current_limit: float = Field(default=5.0, gt=0)


class AccuracyEntry(Strict):
    """One line of a calibration certificate: ± (pct % of reading + offset) up to range_max."""

    pct: float = Field(ge=0)
    offset: float = Field(ge=0)
    range_max: float = Field(default=float("inf"), gt=0)
    source: str = ""


class SerialLineConfig(Strict):
    """An `ASRL...` resource's line settings where they differ from the model's factory
    settings (the driver's `SERIAL`): what the instrument's front panel was set to."""

    baud_rate: int | None = Field(default=None, gt=0)
    data_bits: Literal[5, 6, 7, 8] | None = None
    parity: Literal["none", "even", "odd"] | None = None
    stop_bits: Literal[1, 1.5, 2] | None = None
    flow_control: Literal["none", "xon_xoff", "rts_cts"] | None = None
    read_termination: str | None = None
    write_termination: str | None = None


class InstrumentConfig(Strict):
    model: str
    resource: str
    serial: str | None = None
    modules: list[str] | None = None
    calibration_due: date | None = None
    timeout_ms: int = Field(default=2000, gt=0)
    serial_line: SerialLineConfig | None = None  # ASRL resources only
    # Certificate figures replacing the model's datasheet accuracy, per quantity
    # (voltage_set, voltage_meas, current_set, current_meas, resistance_set, ...).
    accuracy: dict[str, list[AccuracyEntry]] = Field(default_factory=dict)

    @field_validator("accuracy")
    @classmethod
    def _known_quantities(
        cls, accuracy: dict[str, list[AccuracyEntry]]
    ) -> dict[str, list[AccuracyEntry]]:
        from instruments.accuracy import QUANTITIES

        unknown = sorted(set(accuracy) - set(QUANTITIES))
        if unknown:
            raise ValueError(f"unknown accuracy quantity {unknown}; known: {', '.join(QUANTITIES)}")
        return accuracy

    @field_validator("model")
    @classmethod
    def _known_model(cls, model: str) -> str:
        from instruments.registry import MODELS

        if model not in MODELS:
            raise ValueError(f"unknown instrument model; known models: {', '.join(sorted(MODELS))}")
        return model


class NtcWiring(Strict):
    """One NTC input of the BMS, driven by an emulator channel, and the curve of the
    thermistor it stands in for: B-value (r25_ohm, beta_k) or an R–T table."""

    channel: ChannelRef
    r25_ohm: float | None = Field(default=None, gt=0, description="resistance at 25 °C, Ω")
    beta_k: float | None = Field(default=None, gt=0, description="B-value (25/50 °C), K")
    table: list[tuple[float, float]] | None = Field(
        default=None, description="[[°C, Ω], ...] from the thermistor's data sheet"
    )
    # A DMM channel measuring the NTC line's resistance (4-wire), the read-back the
    # emulator's own echo of its setting is not: `daq:201` on a DAQM901A.
    readback: ChannelRef | None = None

    @model_validator(mode="after")
    def _one_curve(self) -> NtcWiring:
        b_value = self.r25_ohm is not None or self.beta_k is not None
        if b_value and self.table is not None:
            raise ValueError("give either r25_ohm and beta_k, or table, not both")
        if b_value and (self.r25_ohm is None or self.beta_k is None):
            raise ValueError("a B-value curve needs both r25_ohm and beta_k")
        if not b_value and self.table is None:
            raise ValueError("no curve: give r25_ohm and beta_k, or table")
        if self.table is not None:
            temps = [t for t, _ in self.table]
            ohms = [r for _, r in self.table]
            if len(self.table) < 2:
                raise ValueError("table needs at least two [°C, Ω] points")
            if any(b <= a for a, b in itertools.pairwise(temps)):
                raise ValueError("table temperatures must increase strictly")
            if any(r <= 0 for r in ohms) or any(b >= a for a, b in itertools.pairwise(ohms)):
                raise ValueError("table resistances must be > 0 and fall as temperature rises")
        return self


Measurable = Literal["discharge_current", "pack_current", "pack_voltage", "sense_current"]


class ProbeWiring(Strict):
    """One digitizer input: a quantity of the pack through a shunt, current probe or
    divider, `scale` volts at the input per unit (V/A for currents). `sense_current` is
    the BMS's shunt sense input itself (real plus emulated current, `scale` = the shunt's
    ohms)."""

    channel: ChannelRef
    measures: Measurable
    scale: float = Field(gt=0, description="volts at the input per A (or per V)")


class DigitizerWiring(ProbeWiring):
    """The input the digitizer triggers on, and further inputs it records in the same
    acquisition (`also`: e.g. the sense input on one channel, the load current on
    another)."""

    also: list[ProbeWiring] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> DigitizerWiring:
        quantities = [self.measures, *(p.measures for p in self.also)]
        if len(set(quantities)) != len(quantities):
            raise ValueError(f"each quantity may be recorded once, got {quantities}")
        for probe in self.also:
            if probe.channel.instrument != self.channel.instrument:
                raise ValueError(
                    f"also: {probe.channel} is not on {self.channel.instrument} (one "
                    f"acquisition is one instrument's)"
                )
        return self


class ShuntWiring(Strict):
    """Current-sense emulation: a generator output in series with the BMS's shunt sense
    leads through an attenuator. A current of I amperes is emulated as I × `shunt_ohm` ×
    `attenuation` volts of the generator's open-circuit output; `positive` says which
    current a positive voltage reads as."""

    channel: ChannelRef
    shunt_ohm: float = Field(gt=0, description="the BMS's shunt, Ω (its data sheet)")
    attenuation: float = Field(default=1.0, ge=1.0, description="generator V per sense V")
    positive: Literal["discharge", "charge"] = "discharge"


class FaultWiring(Strict):
    """A fault-insertion relay: closing `channel` opens a cell sense lead or shorts /
    opens an NTC line (`target` is the cell position or the NTC number)."""

    channel: ChannelRef
    action: Literal["open_cell_sense", "short_ntc", "open_ntc"]
    target: int = Field(ge=1)


class ThermocoupleWiring(Strict):
    """A thermocouple on a DMM channel (`daq:203`), by where it is attached: `fets` (the
    BMS's FET heatsink) or `ambient` (the bench's air)."""

    channel: ChannelRef
    type: Literal["B", "E", "J", "K", "N", "R", "S", "T"] = "K"


class Wiring(Strict):
    charger: ChannelRef | None = None
    load: ChannelRef | None = None
    cells: dict[int, ChannelRef] = Field(default_factory=dict)
    thermistors: dict[int, NtcWiring] = Field(default_factory=dict)
    digitizer: DigitizerWiring | None = None
    short: ChannelRef | None = None  # closing it shorts the pack output (P+ to P-)
    switch: dict[str, FaultWiring] = Field(default_factory=dict)
    shunt: ShuntWiring | None = None  # a generator into the shunt's sense input
    # a battery simulator on the BMS's battery terminals (the cells then feed only the
    # sense taps): it sources and sinks the pack current
    pack: ChannelRef | None = None
    thermocouples: dict[Literal["fets", "ambient"], ThermocoupleWiring] = Field(
        default_factory=dict
    )
    # a relay in the BMS board's own supply (the harness's feed from the pack), on a
    # switch channel wired through its NC contact: closing it cuts the supply, the way a
    # fault-insertion channel inserts its fault; what power-cycles a board a real module
    # powers (rig.station.roles.SupplyRelay)
    dut_supply: ChannelRef | None = None

    @field_validator("thermistors")
    @classmethod
    def _ntc_numbers(cls, ntcs: dict[int, NtcWiring]) -> dict[int, NtcWiring]:
        numbers = sorted(ntcs)
        if numbers and numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"NTC numbers must run 1..N without gaps, got {numbers}")
        return ntcs

    @field_validator("cells")
    @classmethod
    def _contiguous(cls, cells: dict[int, ChannelRef]) -> dict[int, ChannelRef]:
        positions = sorted(cells)
        if positions and positions != list(range(1, len(positions) + 1)):
            raise ValueError(f"cell positions must run 1..N without gaps, got {positions}")
        seen: dict[ChannelRef, int] = {}
        for pos, ref in cells.items():
            if ref in seen:
                raise ValueError(f"{ref} is wired to both cell {seen[ref]} and cell {pos}")
            seen[ref] = pos
        return cells


class CanBusConfig(Strict):
    """Which CAN adapter the DUT is on: any python-can interface, or `sim`.

    `interface: sim` means the bus simlab serves (socketcand on loopback). A bench names
    its adapter: `socketcan` (channel can0), `pcan` (PCAN_USBBUS1), `kvaser` (0),
    `socketcand` (options: host, port), `slcan`, `gs_usb`, ... `options` are passed to
    `can.Bus` as keyword arguments.
    """

    interface: str
    channel: str | int | None = None
    bitrate: int = Field(default=500_000, gt=0)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("interface")
    @classmethod
    def _known_interface(cls, interface: str) -> str:
        from can.interfaces import VALID_INTERFACES

        if interface != SIM_RESOURCE and interface not in VALID_INTERFACES:
            raise ValueError(
                f"unknown python-can interface; use 'sim' or one of "
                f"{', '.join(sorted(VALID_INTERFACES))}"
            )
        return interface


class BleLinkConfig(Strict):
    """How to reach a BMS over Bluetooth LE (dut_drivers.ble).

    `device`: the board's address (`C8:47:8C:12:34:56`) or the name it advertises; `sim`:
    the peripheral simlab serves. `backend: bleak` uses the operating system's Bluetooth
    stack (`adapter`: hci0, ...); `backend: bumble` runs its own host on an HCI transport
    (`hci`: usb:0, hci-socket:0, tcp-client:HOST:PORT; `sim`: simlab's virtual controller).
    """

    device: str
    backend: Literal["bleak", "bumble"] = "bleak"
    hci: str | None = None
    adapter: str | None = None
    connect_timeout_s: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _backend(self) -> BleLinkConfig:
        if self.backend == "bumble" and not self.hci:
            raise ValueError("backend bumble needs hci (usb:0, hci-socket:0, ... or sim)")
        if self.hci == SIM_RESOURCE and self.backend != "bumble":
            raise ValueError("hci: sim is simlab's virtual controller: use backend bumble")
        return self


class DutConfig(Strict):
    """The BMS under test and how to reach it; `protocol` names a row of
    `dut_drivers.registry.PROTOCOLS`, which says whether it needs `port` (UART) or `can`."""

    protocol: str
    port: str | None = None  # UART: /dev/ttyUSB0, COM3, or 'sim'
    baudrate: int | None = Field(default=None, gt=0)  # None: the protocol's default
    timeout_s: float = Field(default=0.5, gt=0)
    retries: int = Field(default=1, ge=0, le=10)
    min_interval_s: float | None = Field(default=None, ge=0)  # None: the protocol's pacing
    address: int | None = Field(default=None, ge=0, le=0xFF)  # Daly host address
    can: CanBusConfig | None = None
    ble: BleLinkConfig | None = None
    silence_s: float | None = Field(default=None, gt=0)  # CAN: lost after this long silent
    cell_count: int = Field(gt=0, le=32)

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, protocol: str) -> str:
        from dut_drivers.registry import PROTOCOLS

        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown BMS protocol; known: {', '.join(sorted(PROTOCOLS))}")
        return protocol

    @model_validator(mode="after")
    def _transport(self) -> DutConfig:
        from dut_drivers.registry import PROTOCOLS

        transport = PROTOCOLS[self.protocol].transport
        if transport == "uart" and not self.port:
            raise ValueError(f"protocol {self.protocol!r} is a UART protocol: give dut.port")
        if transport == "can" and self.can is None:
            raise ValueError(f"protocol {self.protocol!r} is a CAN protocol: give dut.can")
        if transport == "ble" and self.ble is None:
            raise ValueError(f"protocol {self.protocol!r} is a BLE protocol: give dut.ble")
        return self

    @property
    def simulated_link(self) -> bool:
        return (
            self.port == SIM_RESOURCE
            or (self.can is not None and self.can.interface == SIM_RESOURCE)
            or (self.ble is not None and SIM_RESOURCE in (self.ble.device, self.ble.hci))
        )


class ModuleConfig(Strict):
    """A real cell module as the BMS's pack (no emulators): what the plans need to know
    of it, from its data sheet."""

    cells: int = Field(gt=0, le=32)
    capacity_ah: float = Field(gt=0)
    resistance_ohm: float = Field(gt=0, description="the whole module's internal resistance")
    max_current_a: float = Field(gt=0, description="continuous charge/discharge rating")


class WatchdogConfig(Strict):
    """While a plan runs, the station's own readings against `limits` (rig.watchdog)."""

    enabled: bool = True
    period_s: float = Field(default=10.0, gt=0)  # of the run's time between two looks


class InterlockConfig(Strict):
    """The bench's interlock loop (safety cover, e-stop chain) read on a digital input.

    It must read safe before the first plan and before each plan (every output is off
    then), and is read every `poll_s` of the run's time while the run goes on (rig.interlock):
    open, the bench goes to its safe state at once and the run ends INTERRUPTED with the
    reason. Software polling is no safety function: the loop should also break the
    bench's power path in hardware.
    """

    input: ChannelRef  # a digital input port, e.g. daq:301 (a DAQM907A in slot 3)
    line: int = Field(default=0, ge=0, le=7)  # the port's line the loop is wired to
    safe_level: Literal[0, 1] = 1  # what that line reads while the loop is closed
    poll_s: float = Field(default=1.0, gt=0)  # run time between two reads
    name: str = "interlock"  # said in the reason: "safety cover", "e-stop"


class OperatorStep(Strict):
    """A manual step the rig asks the operator to do and confirm (rig.operator).

    `before: start` asks it once before the first plan (after the bench is opened and
    safe, before the DUT is opened); any other value is a plan selection: a protection
    or marker name (`short_circuit`, `slow`), asked before each plan that has it.
    """

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    text: str = Field(min_length=1, max_length=500)
    before: str = "start"
    timeout_s: float | None = Field(default=None, gt=0)  # None: the station's timeout_s

    @field_validator("before")
    @classmethod
    def _known_moment(cls, before: str) -> str:
        from rig.plugin.markers import MARKERS, STANDARDS

        names = {m.split("(")[0] for m in MARKERS} | set(STANDARDS)
        names -= {"protection", "clause", "needs", "operator_step"}
        if before != "start" and before not in names:
            raise ValueError(
                f"{before!r} is neither 'start' nor a marker plans carry "
                f"({', '.join(sorted(names))})"
            )
        return before


class OperatorConfig(Strict):
    """Manual steps and how long a prompt waits for a person (real time, even against
    simlab: the simulated bench stands still meanwhile)."""

    timeout_s: float = Field(default=600.0, gt=0)
    steps: list[OperatorStep] = Field(default_factory=list)

    @field_validator("steps")
    @classmethod
    def _unique(cls, steps: list[OperatorStep]) -> list[OperatorStep]:
        seen: set[str] = set()
        for step in steps:
            if step.id in seen:
                raise ValueError(f"operator step id {step.id!r} is used twice")
            seen.add(step.id)
        return steps


class SimlabConfig(Strict):
    seed: int = 0
    set: dict[str, Any] = Field(default_factory=dict)
    # How simlab serves the instruments to the run: raw sockets; HiSLIP where the model
    # speaks it; a serial line (pty) where the model has an RS-232 port.
    transport: Literal["socket", "hislip", "serial"] = "socket"


class StationConfig(Strict):
    model_config = ConfigDict(extra="forbid", frozen=False)

    name: str
    description: str = ""
    location: str = ""
    # the laboratory's name and address, as the test report states them (ISO/IEC 17025
    # 7.8.2): free text, or better a lab file (`lab`, rig.config.lab) with its signatories
    laboratory: str = ""
    lab: str = ""  # the lab file (rig.config.lab), relative to this file
    simulated: bool = False
    # VISA library for pyvisa: "@py" (pyvisa-py, no vendor install) or "@ivi" (vendor VISA).
    visa_library: str = "@py"
    # An instrument past its calibration due date: "warn" (flagged in the store and on the
    # console, the run goes on) or "enforce" (the station refuses to open).
    calibration: Literal["warn", "enforce"] = "warn"
    limits: Limits
    safe_state: SafeState
    instruments: dict[str, InstrumentConfig]
    wiring: Wiring
    dut: DutConfig
    simlab: SimlabConfig | None = None
    module: ModuleConfig | None = None
    watchdog: WatchdogConfig = WatchdogConfig()
    interlock: InterlockConfig | None = None
    operator: OperatorConfig = OperatorConfig()
    # the lab file (results database, labgrid coordinator), relative to this file; --lab
    # and $RIG_LAB come first (rig.config.lab)
    lab: str | None = None
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> StationConfig:
        for role in ("charger", "load"):
            ref = getattr(self.wiring, role)
            if ref is not None and ref.instrument not in self.instruments:
                raise ValueError(f"wiring.{role}: no instrument named {ref.instrument!r}")
        for pos, ref in self.wiring.cells.items():
            if ref.instrument not in self.instruments:
                raise ValueError(f"wiring.cells.{pos}: no instrument named {ref.instrument!r}")
        self._check_new_roles()
        if self.interlock is not None and self.interlock.input.instrument not in self.instruments:
            raise ValueError(
                f"interlock.input: no instrument named {self.interlock.input.instrument!r}"
            )
        if self.wiring.cells and len(self.wiring.cells) != self.dut.cell_count:
            raise ValueError(
                f"wiring.cells maps {len(self.wiring.cells)} cells but dut.cell_count is "
                f"{self.dut.cell_count}"
            )
        if not self.limits.temperature.contains(25.0) and self.wiring.thermistors:
            raise ValueError("limits.temperature must hold 25 °C, the thermistors' safe state")
        if not self.limits.cell_voltage.contains(self.safe_state.cell_voltage):
            raise ValueError("safe_state.cell_voltage lies outside limits.cell_voltage")
        if not self.simulated:
            for name, inst in self.instruments.items():
                if inst.resource == SIM_RESOURCE:
                    raise ValueError(f"instruments.{name}.resource is 'sim' on a real station")
            if self.dut.simulated_link:
                raise ValueError("the DUT link is 'sim' on a real station")
        return self

    def _check_new_roles(self) -> None:
        """Thermistors, digitizer, short relay and fault switches: instruments exist,
        no channel serves two purposes, fault targets exist."""
        w = self.wiring
        refs: list[tuple[str, ChannelRef]] = [
            (f"wiring.thermistors.{n}.channel", ntc.channel) for n, ntc in w.thermistors.items()
        ]
        refs += [
            (f"wiring.thermistors.{n}.readback", ntc.readback)
            for n, ntc in w.thermistors.items()
            if ntc.readback is not None
        ]
        refs += [
            (f"wiring.thermocouples.{k}.channel", t.channel) for k, t in w.thermocouples.items()
        ]
        if w.digitizer is not None:
            refs.append(("wiring.digitizer.channel", w.digitizer.channel))
            refs += [
                (f"wiring.digitizer.also.{i}", p.channel) for i, p in enumerate(w.digitizer.also)
            ]
        if w.shunt is not None:
            refs.append(("wiring.shunt.channel", w.shunt.channel))
        if w.pack is not None:
            refs.append(("wiring.pack", w.pack))
        if w.short is not None:
            refs.append(("wiring.short", w.short))
        if w.dut_supply is not None:
            refs.append(("wiring.dut_supply", w.dut_supply))
        refs += [(f"wiring.switch.{name}.channel", f.channel) for name, f in w.switch.items()]
        seen: dict[ChannelRef, str] = {}
        for key, ref in refs:
            if ref.instrument not in self.instruments:
                raise ValueError(f"{key}: no instrument named {ref.instrument!r}")
            if ref in seen:
                raise ValueError(f"{key}: {ref} is already wired as {seen[ref]}")
            seen[ref] = key
        self._check_switch_channels()
        for name, fault in w.switch.items():
            if fault.action == "open_cell_sense" and fault.target > self.dut.cell_count:
                raise ValueError(
                    f"wiring.switch.{name}.target: cell {fault.target} beyond "
                    f"dut.cell_count {self.dut.cell_count}"
                )
            if fault.action != "open_cell_sense" and fault.target not in w.thermistors:
                raise ValueError(
                    f"wiring.switch.{name}.target: NTC {fault.target} is not in wiring.thermistors"
                )

    def _check_switch_channels(self) -> None:
        """The supply relay is a relay: a channel of a switch instrument (a DAQ970A, an
        M300), numbered slot·100 + n on a module the instrument states it holds."""
        from instruments.registry import MODELS

        ref = self.wiring.dut_supply
        if ref is None:
            return
        inst = self.instruments[ref.instrument]
        if MODELS[inst.model].role != "switch":
            raise ValueError(
                f"wiring.dut_supply: {ref.instrument} is a {inst.model} "
                f"({MODELS[inst.model].role}), not a switch: the supply relay is a switch channel"
            )
        slot, n = divmod(ref.channel, 100)
        modules = inst.modules
        if slot < 1 or n < 1 or (modules is not None and slot > len(modules)):
            held = ", ".join(f"slot {i}: {m}" for i, m in enumerate(modules or [], 1))
            raise ValueError(
                f"wiring.dut_supply: channel {ref.channel} is not slot·100 + n on a module "
                f"{ref.instrument} holds (modules: {held or 'none stated'})"
            )
