"""Spec sections for the rest of a validation campaign: wiring and sensor faults,
standby and sleep, FET heating, and the limits a CAN BMS asks of its inverter.

Each section is optional: a spec that leaves one out makes its plans not applicable.
Every band is a `Limit` (datasheet value and acceptance limits), judged by the spec's
decision rule like every protection.
"""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import Field, model_validator

from rig.config.spec import Limit, Strict


class FaultResponse(Strict):
    """How the BMS must answer one kind of fault on its own inputs."""

    # From the fault's insertion to both paths cut (or the path(s) `opens` names).
    detect_s: Limit
    opens: Literal["charge", "discharge", "both"] = "both"


class WiringFaults(Strict):
    """`wiring_faults:` an open cell sense lead, an NTC line open or shorted.

    A fault-insertion switch inserts each (the station's `wiring.switch`); the BMS must
    cut the paths `opens` names within `detect_s`, flag the fault where its protocol can
    say so, and never report a plausible wrong value as valid: a cell either side of an
    open lead reads within `plausible_cell_v` and off its true voltage by more than the
    reporting tolerance, or an NTC reads within `plausible_c`, with no fault flagged.
    """

    clause: list[str] = Field(default_factory=list)
    sense_wire: FaultResponse | None = None
    ntc: FaultResponse | None = None
    # Cell voltages on either side of the open lead while it is open (the plan sets
    # them apart, so a reading of their mean is wrong for both).
    cell_low_v: float = Field(default=3.20, gt=0)
    cell_high_v: float = Field(default=3.40, gt=0)
    # What would pass for a real reading: a cell in this band, a temperature in this one.
    plausible_cell_v: tuple[float, float] = (2.0, 4.5)
    plausible_c: tuple[float, float] = (-40.0, 120.0)

    @model_validator(mode="after")
    def _cells(self) -> WiringFaults:
        if self.cell_low_v >= self.cell_high_v:
            raise ValueError("wiring_faults.cell_low_v must lie below cell_high_v")
        return self


class Standby(Strict):
    """`standby:` what the BMS costs the pack when idle, asleep, and what wakes it."""

    clause: list[str] = Field(default_factory=list)
    awake_current_a: Limit  # drawn from the pack, idle, awake
    asleep_current_a: Limit
    # From the last current and host traffic to asleep (None: it has no idle timer).
    sleep_after_s: Limit | None = None
    wakes_on: list[Literal["charger", "communication"]] = Field(default_factory=list)
    # The capacity whose months of standby are stated, and the least they may be.
    capacity_ah: float | None = Field(default=None, gt=0)  # default: dut.capacity_ah
    min_months_awake: float = Field(default=0.0, ge=0)
    min_months_asleep: float = Field(default=0.0, ge=0)
    poll_s: float = Field(default=60.0, gt=0)  # the station's look at the cells' current
    # The emulators' measurement range the standby currents are read on (A).
    current_range_a: float = Field(default=0.1, gt=0)


class Heating(Strict):
    """`heating:` the BMS at its rated continuous current for `duration_s`."""

    clause: list[str] = Field(default_factory=list)
    current_a: float = Field(gt=0)  # the rated continuous (discharge) current
    duration_s: float = Field(gt=0)
    poll_s: float = Field(default=60.0, gt=0)
    # The FETs' heatsink above ambient at the end, from a thermocouple on it.
    rise_c: Limit
    # Which of the BMS's reported temperatures is its FET sensor (1-based), if any, and
    # how far it may read from the thermocouple.
    fet_sensor: int | None = Field(default=None, ge=1)
    reported_error_c: Limit = Limit(nominal=0.0, low=-5.0, high=5.0)
    # The FET over-temperature protection, judged if the run reaches it.
    fet_ot_c: Limit | None = None


class LimitRow(Strict):
    """One band of a derating table: from `low` (inclusive) to `high` (exclusive), the
    charge and discharge currents the BMS may ask for there (A)."""

    low: float
    high: float
    charge_a: float = Field(ge=0)
    discharge_a: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> LimitRow:
        if self.low >= self.high:
            raise ValueError(f"a derating band needs low < high, got {self.low}..{self.high}")
        return self


def _contiguous(rows: list[LimitRow], what: str) -> None:
    for a, b in itertools.pairwise(rows):
        if a.high != b.low:
            raise ValueError(f"{what}: bands must follow each other ({a.high} then {b.low})")


class LostLink(Strict):
    """What the BMS does once the inverter's keep-alive has been missing `after_s`."""

    after_s: Limit
    charge_a: float = Field(default=0.0, ge=0)  # the charge limit it then asks for
    flag: str = "comm_fault"  # the warning it raises (0x359)


class InverterLimits(Strict):
    """`inverter_limits:` what a CAN BMS asks of its inverter (Pylontech 0x351)."""

    clause: list[str] = Field(default_factory=list)
    charge_voltage_v: Limit
    # Derating by temperature (the hottest NTC for charge and discharge alike) and by
    # state of charge; the BMS asks for the lower of the two.
    by_temperature: list[LimitRow] = Field(min_length=1)
    by_soc: list[LimitRow] = Field(default_factory=list)
    step_a: float = Field(default=0.1, gt=0)  # the protocol's coding step
    soc_points_pct: list[float] = Field(default_factory=list)  # where the SoC rows are tried
    soc_current_a: float = Field(default=2.5, gt=0)  # what drives the pack there
    lost_link: LostLink | None = None

    @model_validator(mode="after")
    def _tables(self) -> InverterLimits:
        _contiguous(self.by_temperature, "inverter_limits.by_temperature")
        _contiguous(self.by_soc, "inverter_limits.by_soc")
        return self

    def expected(self, temperature_c: float, soc_pct: float | None) -> tuple[float, float] | None:
        """(charge A, discharge A) the table gives there; None outside every band."""
        t = next((r for r in self.by_temperature if r.low <= temperature_c < r.high), None)
        if t is None:
            return None
        charge, discharge = t.charge_a, t.discharge_a
        if soc_pct is not None and self.by_soc:
            s = next((r for r in self.by_soc if r.low <= soc_pct < r.high), None)
            if s is None:
                return None
            charge, discharge = min(charge, s.charge_a), min(discharge, s.discharge_a)
        return charge, discharge
