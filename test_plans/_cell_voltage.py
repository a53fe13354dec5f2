"""Cell over- and under-voltage procedures, shared by the OV and UV plans.

The two protections are mirror images: OV trips going up and opens the charge FET, UV
trips going down and opens the discharge FET. A `Side` holds what differs, so each plan
module is a few lines and both are measured the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from dut_drivers.base import BmsLink, BmsStatus
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import Limit, VoltageProtection
from rig.measure import ramp_threshold, trip_time_by_polling, wait_for
from rig.plugin.fixtures import Recorder
from rig.station import Station

READY_TIMEOUT_S = 30.0
READY_POLL_S = 0.25
SEARCH_MARGIN_V = 0.05  # search this far beyond the acceptance band to see how far off a DUT is


@dataclass(frozen=True)
class Side:
    protection: str  # canonical protection name, also the measurement prefix
    direction: float  # +1: trips going up (OV); -1: trips going down (UV)
    fet: str  # the BmsStatus attribute that opens on a trip

    def spec(self, spec: DutSpec) -> VoltageProtection:
        return getattr(spec.protections, self.protection)

    def fet_open(self, status: BmsStatus) -> bool:
        return not getattr(status, self.fet)


OV = Side("cell_ov", +1.0, "charge_fet")
UV = Side("cell_uv", -1.0, "discharge_fet")


def against(limit: Limit, clause: list[str]) -> dict[str, Any]:
    """The spec's acceptance band and clauses, as `record` takes them."""
    return {"low": limit.low, "high": limit.high, "nominal": limit.nominal, "clause": clause}


def bring_to_ready(station: Station, dut: BmsLink, clock: Clock, spec: DutSpec) -> None:
    """All cells at nominal and the BMS back to both FETs on with no protection active.

    Waits one settle time first, so the verdict comes from a scan of the new voltages and
    not from a status the BMS computed before them.
    """
    station.cells.set_all(spec.test_conditions.nominal_cell_voltage)
    station.cells.on()
    clock.sleep(spec.test_conditions.settle_s)

    def ready() -> bool:
        s = dut.read_status()
        return s.charge_fet and s.discharge_fet and not s.protections

    if wait_for(clock, ready, READY_TIMEOUT_S, READY_POLL_S) is None:
        status = dut.read_status()
        pytest.fail(
            f"BMS not ready after {READY_TIMEOUT_S:g} s at nominal cell voltage: "
            f"charge FET {status.charge_fet}, discharge FET {status.discharge_fet}, "
            f"protections {sorted(status.protections) or 'none'}"
        )


def threshold_and_release(
    side: Side,
    cell: int,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
) -> None:
    p, tc = side.spec(spec), spec.test_conditions
    step = tc.threshold_step_v
    bring_to_ready(station, dut, clock, spec)

    def set_cell(volts: float) -> None:
        station.cells.set_voltage(cell, volts)

    # Ramp from just inside the band's near edge to beyond its far edge; dwell longer
    # than the slowest acceptable delay so a slow trip is not read as a high threshold.
    near, far = (p.threshold_v.low, p.threshold_v.high)[:: int(side.direction)]
    trip = ramp_threshold(
        clock,
        set_cell,
        lambda: side.fet_open(dut.read_status()),
        start=near - side.direction * 10 * step,
        stop=far + side.direction * SEARCH_MARGIN_V,
        step=step,
        dwell_s=p.delay_s.high + tc.settle_s,
    )
    record(
        f"{side.protection}_threshold",
        trip.value,
        "V",
        **against(p.threshold_v, p.clause),
        resolution=step,
        context={"cell": cell, "steps": trip.steps, "dwell_s": p.delay_s.high + tc.settle_s},
        note="" if trip.found else f"{side.fet} never opened up to {trip.last_level:.3f} V",
    )
    if not trip.found:
        return
    status = dut.read_status()
    record(
        f"{side.protection}_reported",
        1.0 if side.protection in status.protections else 0.0,
        "flag",
        low=1.0,
        high=1.0,
        comparison="EQ",
        clause=p.clause,
        note=f"protections reported: {sorted(status.protections) or 'none'}",
    )
    # Release: from just past the band's far edge (still tripped by hysteresis) back
    # towards nominal, until the FET closes again.
    rel_near, rel_far = (p.release_v.high, p.release_v.low)[:: int(side.direction)]
    release = ramp_threshold(
        clock,
        set_cell,
        lambda: not side.fet_open(dut.read_status()),
        start=rel_near + side.direction * SEARCH_MARGIN_V,
        stop=rel_far - side.direction * SEARCH_MARGIN_V,
        step=step,
        dwell_s=tc.settle_s,
    )
    record(
        f"{side.protection}_release",
        release.value,
        "V",
        **against(p.release_v, p.clause),
        resolution=step,
        context={"cell": cell, "steps": release.steps, "dwell_s": tc.settle_s},
        note="" if release.found else f"{side.fet} still open at {release.last_level:.3f} V",
    )


def trip_delay(
    side: Side,
    cell: int,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
) -> None:
    p, tc = side.spec(spec), spec.test_conditions
    bring_to_ready(station, dut, clock, spec)
    far = p.threshold_v.high if side.direction > 0 else p.threshold_v.low
    level = far + side.direction * SEARCH_MARGIN_V  # clearly beyond any in-spec threshold
    trip = trip_time_by_polling(
        clock,
        apply=lambda: station.cells.set_voltage(cell, level),
        tripped=lambda: side.fet_open(dut.read_status()),
        timeout_s=4 * p.delay_s.high,
        period_s=tc.poll_period_s,
    )
    record(
        f"{side.protection}_trip_delay",
        trip.time_s,
        "s",
        **against(p.delay_s, p.clause),
        resolution=trip.resolution_s,
        context={"cell": cell, "level_v": level, "t_step": trip.t_step, "polls": trip.polls},
        note=f"step to {level:.3f} V"
        + ("" if trip.tripped else f"; no trip within {4 * p.delay_s.high:g} s"),
    )
