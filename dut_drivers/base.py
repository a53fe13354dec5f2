"""What a test plan needs from a BMS link, whatever protocol carries it.

Each protocol driver (JBD, Daly, Pylontech-style CAN, ...) decodes its frames into these
types, so a plan written against `BmsLink` runs on any supported BMS. Protections and
alarms are one vocabulary, `Protection`, owned by this interface: a driver maps its own
bit layout onto it. What a protocol cannot tell is declared in `capabilities`; asking
for it raises `BmsCapabilityError`, and a status field it does not carry is None, never a
made-up zero.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

from dut_drivers.errors import BmsCapabilityError


class Protection(StrEnum):
    """Every protection or alarm condition a supported BMS can report.

    Member names equal their values, so a plain string compares and hashes the same:
    `"cell_ov" in status.protections` works. The first thirteen are the core
    protections of a BMS; the coarse ones (`ov`, `uv`, `ot`, `ut`) exist for protocols
    that do not say which cell/pack or charge/discharge side tripped (Pylontech CAN);
    `BmsStatus.indicates` treats them as covering their precise names.
    """

    cell_ov = "cell_ov"
    cell_uv = "cell_uv"
    pack_ov = "pack_ov"
    pack_uv = "pack_uv"
    charge_ot = "charge_ot"
    charge_ut = "charge_ut"
    discharge_ot = "discharge_ot"
    discharge_ut = "discharge_ut"
    charge_oc = "charge_oc"
    discharge_oc = "discharge_oc"
    short_circuit = "short_circuit"
    afe_error = "afe_error"
    fet_lock = "fet_lock"
    # coarse: the protocol does not say which side
    ov = "ov"
    uv = "uv"
    ot = "ot"
    ut = "ut"
    # further conditions other protocols report
    soc_high = "soc_high"
    soc_low = "soc_low"
    cell_imbalance = "cell_imbalance"
    temp_imbalance = "temp_imbalance"
    fet_ot = "fet_ot"
    fet_fault = "fet_fault"
    temp_sensor_fault = "temp_sensor_fault"
    sense_wire_open = "sense_wire_open"
    eeprom_fault = "eeprom_fault"
    rtc_fault = "rtc_fault"
    precharge_fault = "precharge_fault"
    comm_fault = "comm_fault"
    current_sensor_fault = "current_sensor_fault"
    voltage_sensor_fault = "voltage_sensor_fault"
    charge_inhibited = "charge_inhibited"
    system_error = "system_error"

    __hash__ = str.__hash__


PROTECTIONS: tuple[str, ...] = tuple(p.value for p in Protection)

# A coarse condition covers the precise ones it may stand for.
COVERS: dict[Protection, frozenset[Protection]] = {
    Protection.ov: frozenset({Protection.cell_ov, Protection.pack_ov}),
    Protection.uv: frozenset({Protection.cell_uv, Protection.pack_uv}),
    Protection.ot: frozenset({Protection.charge_ot, Protection.discharge_ot}),
    Protection.ut: frozenset({Protection.charge_ut, Protection.discharge_ut}),
}


class ProtectionSet(frozenset[str]):
    """The protections a BMS reports; `name in s` also holds when a coarse flag that
    covers `name` is reported (Pylontech's "over-voltage" covers cell_ov and pack_ov).
    Iterating gives exactly what the BMS said."""

    def __contains__(self, name: object) -> bool:
        if frozenset.__contains__(self, name):
            return True
        if not isinstance(name, str) or name not in Protection.__members__:
            return False
        target = Protection(name)
        return any(
            target in COVERS.get(Protection(p), frozenset())
            for p in frozenset.__iter__(self)
            if p in Protection.__members__
        )


class Capability(StrEnum):
    """What a link can do beyond the basic status (pack V/I, SoC, FETs)."""

    cell_voltages = "cell_voltages"  # every cell, not just min/max
    temperatures = "temperatures"
    # each NTC input's own reading, in the station's order (a CAN link to an inverter
    # carries one pack temperature: its NTCs cannot be judged one by one)
    ntc_temperatures = "ntc_temperatures"
    balancing = "balancing"
    cycles = "cycles"
    capacity = "capacity"  # remaining and full capacity in Ah
    protections = "protections"  # which protection is active
    alarms = "alarms"  # warnings below the protection level
    charge_limits = "charge_limits"  # CVL/CCL/DCL requested towards a charger/inverter
    config_read = "config_read"  # protection thresholds/delays read from the BMS
    config_write = "config_write"
    fet_control = "fet_control"  # host can switch the FETs
    error_counters = "error_counters"
    serial_number = "serial_number"

    __hash__ = str.__hash__


@dataclass(frozen=True)
class DutIdentity:
    """What the BMS says about itself; goes into the report as the item tested.

    A field the protocol or this unit's firmware does not carry is "" and named in
    `not_reported`, so a report can say so rather than show a blank as a value.
    """

    protocol: str
    hardware: str
    firmware: str
    serial: str = ""
    production_date: str = ""
    cell_count: int = 0
    model: str = ""
    manufacturer: str = ""
    not_reported: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChargeLimits:
    """What the BMS asks of a charger/inverter (Pylontech 0x351); V and A, both positive."""

    charge_voltage: float
    charge_current: float
    discharge_current: float
    discharge_voltage: float


@dataclass(frozen=True)
class BmsStatus:
    """One snapshot of the BMS state, in SI units (V, A, Ah, °C); current > 0 charges.

    None means the protocol (or this unit's firmware) does not carry that field.
    """

    pack_voltage: float
    current: float
    remaining_capacity_ah: float | None
    full_capacity_ah: float | None
    cycles: int | None
    soc_percent: float
    charge_fet: bool
    discharge_fet: bool
    protections: frozenset[str] | None
    balancing: frozenset[int] | None  # 1-based cell positions being balanced
    cell_count: int | None
    temperatures_c: tuple[float, ...] = field(default_factory=tuple)
    alarms: frozenset[str] = frozenset()
    limits: ChargeLimits | None = None
    soh_percent: float | None = None
    cell_min_v: float | None = None
    cell_max_v: float | None = None
    # The step the link codes a field in, per field name, where it is coarser than a
    # spec would assume of the BMS (the JK GPS port: a whole-% SoC, the capacity setting
    # in whole Ah): a reading lies within half of it of what the BMS holds. A plan
    # budgets the coarser of this and the spec's step; absent: the spec's.
    steps: Mapping[str, float] = field(default_factory=dict)

    def indicates(self, name: str) -> bool:
        """Whether the BMS reports protection `name`, directly or by a coarse flag
        covering it (Pylontech's "over-voltage" covers cell_ov and pack_ov)."""
        if self.protections is None:
            raise BmsCapabilityError("this BMS link does not report which protection is active")
        return name in ProtectionSet(self.protections)


@dataclass(frozen=True)
class ProtectionSetting:
    """One protection's configuration as the BMS holds it, in SI units.

    Thresholds are V for voltage protections, A for current (positive, both
    directions) and °C for temperature ones. None: not held, or not changed on write.
    """

    threshold: float | None = None
    release: float | None = None
    delay_s: float | None = None
    release_delay_s: float | None = None
    # The coding step of each held value, per field: a register's count (1 mV, 1 s, 0.1 K)
    # or, for a coded setting (an AFE's table of thresholds), the gap to the neighbouring
    # codes. A right setting lies within half a step of the spec's band; absent: exact.
    steps: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ProtectionConfig:
    """A BMS's protection configuration: per protection, plus protocol-specific extras
    (by the protocol's own register/field name)."""

    settings: Mapping[str, ProtectionSetting] = field(default_factory=dict)
    extra: Mapping[str, object] = field(default_factory=dict)

    def __getitem__(self, name: str) -> ProtectionSetting:
        return self.settings[name]


@dataclass(frozen=True)
class LinkTiming:
    """How the link's traffic was timed, where it happens (the transport), not on the
    run's clock: a UART exchange takes real time even while simulated time stands still.

    `request_reply` (a UART BMS): `exchange_s` holds each request/reply exchange's
    duration, from the request written to the reply's last byte read, resends included.
    `broadcast` (a CAN BMS): `broadcasts` holds the timestamp of each status broadcast as
    the bus stamped it (the adapter's receive time on a bench, the lab's time against
    simlab). Both keep the latest entries; `total` counts every one since the link
    opened, so a plan takes those after a count it noted.
    """

    kind: Literal["request_reply", "broadcast"]
    total: int
    exchange_s: tuple[float, ...] = ()
    broadcasts: tuple[float, ...] = ()
    # request_reply: how late this host woke a reader on the line, over a few idle waits
    # (each exchange's end is stamped that late): the measured part of its budget.
    host_latency_s: tuple[float, ...] = ()
    clock_resolution_s: float = field(
        default_factory=lambda: time.get_clock_info("monotonic").resolution
    )

    def since(self, total: int) -> tuple[float, ...]:
        """The entries that came after `total` (as far as they are still kept)."""
        entries = self.exchange_s if self.kind == "request_reply" else self.broadcasts
        new = self.total - total
        return entries[len(entries) - min(new, len(entries)) :] if new > 0 else ()


@runtime_checkable
class BmsLink(Protocol):
    """A live connection to the BMS under test."""

    protocol: str

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    def identity(self) -> DutIdentity: ...

    def read_status(self) -> BmsStatus: ...

    def read_cell_voltages(self) -> list[float]:
        """Cell voltages in volts, position 1 first."""
        ...

    def read_temperatures(self) -> list[float]: ...

    def read_protection_config(self) -> ProtectionConfig: ...

    def write_protection_config(self, config: ProtectionConfig) -> None: ...

    def set_fets(self, charge: bool, discharge: bool) -> None:
        """Allow (True) or force off (False) each FET from the host."""
        ...

    def link_timing(self) -> LinkTiming: ...

    def close(self) -> None: ...


class BmsBase:
    """Shared behaviour of the drivers: capability checks and 'not supported' answers."""

    protocol: str = ""
    CAPABILITIES: frozenset[Capability] = frozenset()

    def __init__(self) -> None:
        self._gaps: dict[Capability, str] = {}  # found at run time: firmware never answered

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.CAPABILITIES - set(self._gaps)

    def require(self, capability: Capability) -> None:
        if capability in self._gaps:
            raise BmsCapabilityError(f"{self.protocol}: {self._gaps[capability]}")
        if capability not in self.CAPABILITIES:
            raise BmsCapabilityError(
                f"the {self.protocol} protocol does not provide {capability.value}"
            )

    def declare_gap(self, capability: Capability, why: str) -> None:
        self._gaps[capability] = why

    def read_cell_voltages(self) -> list[float]:
        self.require(Capability.cell_voltages)
        raise NotImplementedError  # pragma: no cover

    def read_temperatures(self) -> list[float]:
        self.require(Capability.temperatures)
        raise NotImplementedError  # pragma: no cover

    def read_protection_config(self) -> ProtectionConfig:
        self.require(Capability.config_read)
        raise NotImplementedError  # pragma: no cover

    def write_protection_config(self, config: ProtectionConfig) -> None:
        self.require(Capability.config_write)
        raise NotImplementedError  # pragma: no cover

    def set_fets(self, charge: bool, discharge: bool) -> None:
        self.require(Capability.fet_control)
        raise NotImplementedError  # pragma: no cover
