"""What a test plan needs from a BMS link, whatever protocol carries it.

Each protocol driver (JBD, Daly, Pylontech CAN, ...) decodes its frames into these
types, so a plan written against `BmsLink` runs on any supported BMS. Protection names
are canonical (see PROTECTIONS); a driver maps its own bit layout onto them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

PROTECTIONS: tuple[str, ...] = (
    "cell_ov",
    "cell_uv",
    "pack_ov",
    "pack_uv",
    "charge_ot",
    "charge_ut",
    "discharge_ot",
    "discharge_ut",
    "charge_oc",
    "discharge_oc",
    "short_circuit",
    "afe_error",
    "fet_lock",
)


@dataclass(frozen=True)
class DutIdentity:
    """What the BMS says about itself; goes into the report as the item tested."""

    protocol: str
    hardware: str
    firmware: str
    serial: str = ""
    production_date: str = ""
    cell_count: int = 0


@dataclass(frozen=True)
class BmsStatus:
    """One snapshot of the BMS state, in SI units (V, A, Ah, °C); current > 0 charges."""

    pack_voltage: float
    current: float
    remaining_capacity_ah: float
    full_capacity_ah: float
    cycles: int
    soc_percent: float
    charge_fet: bool
    discharge_fet: bool
    protections: frozenset[str]
    balancing: frozenset[int]  # 1-based cell positions being balanced
    cell_count: int
    temperatures_c: tuple[float, ...] = field(default_factory=tuple)


@runtime_checkable
class BmsLink(Protocol):
    """A live connection to the BMS under test."""

    def identity(self) -> DutIdentity: ...

    def read_status(self) -> BmsStatus: ...

    def read_cell_voltages(self) -> list[float]:
        """Cell voltages in volts, position 1 first."""
        ...

    def close(self) -> None: ...
