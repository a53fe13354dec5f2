"""Checks that the bench is the one the station file describes, before anything is measured.

A verdict is only as good as the bench it was measured on: the wrong unit at an address,
a mainframe with the wrong modules, an instrument past its calibration date, a DUT with
a different cell count, or two swapped sense leads would each make every later result
wrong while looking right. Each check returns a `StationCheck` for the results store; a
failed one stops the run before the first plan, naming what is wrong.

The pin check steps each wired cell position by its own amount at once (a signature)
and reads the BMS's cell voltages before and after: the difference says which station
position each BMS input is wired to, independent of the BMS's static reading errors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from dut_drivers.base import BmsLink, Capability
from instruments.roles import Identity
from rig.clock import Clock
from rig.config.spec import DutSpec
from rig.config.station import InstrumentConfig, StationConfig
from rig.station.roles import Cells

READS = 3  # readings averaged on each side of the pin check's step


class StationCheckError(Exception):
    """The bench is not what the station file says; nothing was measured."""


@dataclass
class StationCheck:
    check: str  # "identity" | "modules" | "calibration" | "cell_count" | "pin"
    subject: str  # instrument name, "dut", "wiring"
    ok: bool
    message: str
    severity: str = "error"  # "error": stops the run; "warning": flagged, run goes on
    details: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {"type": "station_check", **asdict(self)}


def check_serial(name: str, inst: InstrumentConfig, identity: Identity) -> StationCheck:
    if inst.serial is None:
        return StationCheck("identity", name, True, "no serial stated in the station file")
    ok = identity.serial.strip().casefold() == inst.serial.strip().casefold()
    msg = (
        f"serial {identity.serial} as stated"
        if ok
        else f"{name}: station file says serial {inst.serial!r} but *IDN? answered "
        f"{identity.serial!r}: a different unit is at this address"
    )
    return StationCheck("identity", name, ok, msg, details={"idn": str(identity)})


def check_modules(name: str, inst: InstrumentConfig, driver: Any) -> StationCheck | None:
    """Compare a mainframe's modules, slot by slot from slot 1, with the station file's."""
    if not inst.modules:
        return None
    read = getattr(driver, "installed_modules", None)
    if read is None:
        return StationCheck(
            "modules", name, False, f"{name}: the {inst.model} driver cannot read its modules"
        )
    expected = [m.strip() for m in inst.modules]
    found = [str(m).strip() for m in read(len(expected))]
    ok = [m.casefold() for m in found] == [m.casefold() for m in expected]
    msg = (
        f"modules {', '.join(found)} as stated"
        if ok
        else f"{name}: station file says modules {expected} but the unit has {found}"
    )
    return StationCheck("modules", name, ok, msg, details={"found": found, "expected": expected})


def check_calibration(
    name: str, inst: InstrumentConfig, today: date, enforce: bool
) -> StationCheck:
    due = inst.calibration_due
    if due is None:
        return StationCheck(
            "calibration",
            name,
            not enforce,
            f"{name}: no calibration due date stated",
            severity="error" if enforce else "warning",
        )
    if due < today:
        return StationCheck(
            "calibration",
            name,
            False,
            f"{name}: calibration expired on {due.isoformat()}",
            severity="error" if enforce else "warning",
            details={"due": due.isoformat(), "expired": True},
        )
    return StationCheck(
        "calibration",
        name,
        True,
        f"calibration due {due.isoformat()}",
        details={"due": due.isoformat(), "expired": False},
    )


def check_cell_count(station: StationConfig, spec: DutSpec, reported: int | None) -> StationCheck:
    counts = {"station file": station.dut.cell_count, "spec": spec.dut.cell_count}
    if reported:
        counts["BMS"] = reported
    ok = len(set(counts.values())) == 1
    listed = ", ".join(f"{k} {v}" for k, v in counts.items())
    msg = f"{station.dut.cell_count} cells ({listed})" if ok else f"cell counts differ: {listed}"
    return StationCheck("cell_count", "dut", ok, msg, details=counts)


def pin_check(
    cells: Cells, dut: BmsLink, clock: Clock, nominal: float, step: float, settle_s: float
) -> StationCheck:
    """Step every position by its own amount; the BMS must see each move where it is wired."""
    if Capability.cell_voltages not in dut.capabilities:
        return StationCheck(
            "pin",
            "wiring",
            True,
            "not possible: the BMS protocol does not report individual cell voltages",
            severity="warning",
        )
    positions = cells.positions
    n = len(positions)

    def averaged() -> list[float]:
        """Mean of READS readings half a settle time apart: ADC noise averages down."""
        reads = []
        for i in range(READS):
            if i:
                clock.sleep(settle_s / 2)
            reads.append(dut.read_cell_voltages())
        return [sum(col) / len(col) for col in zip(*reads, strict=False)]

    cells.set_all(nominal)
    clock.sleep(settle_s)
    before = averaged()
    deltas = {p: round((p - (n + 1) / 2) * step, 9) for p in positions}
    for p in positions:
        cells.set_voltage(p, nominal + deltas[p])
    clock.sleep(settle_s)
    after = averaged()
    cells.set_all(nominal)

    problems: list[str] = []
    if len(after) != n or len(before) != n:
        problems.append(f"the BMS reports {len(after)} cells, the station wires {n}")
    seen: dict[int, float] = {}
    for q in range(1, min(len(before), len(after)) + 1):
        moved = after[q - 1] - before[q - 1]
        seen[q] = round(moved, 6)
        match = [p for p, dv in deltas.items() if abs(moved - dv) < step / 2]
        if not match:
            problems.append(f"BMS cell {q} moved {moved * 1000:+.1f} mV, like no wired position")
        elif match[0] != q:
            ch = cells.channel_of(match[0])
            problems.append(
                f"station cell position {match[0]} ({ch.instrument}:{ch.channel}) is read by "
                f"the BMS as cell {q}"
            )
    ok = not problems
    msg = (
        f"all {n} cell positions read by the BMS where they are wired"
        if ok
        else "wiring check failed: " + "; ".join(problems)
    )
    return StationCheck(
        "pin",
        "wiring",
        ok,
        msg,
        details={"applied_v": {str(p): d for p, d in deltas.items()}, "seen_v": seen},
    )
