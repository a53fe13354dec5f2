"""The DUT specification: what the BMS promises, and how the plans judge it.

A spec file states each protection's threshold, delay and release (or recovery rule) as
a datasheet value with acceptance limits, the standard clauses they serve, the decision
rule the verdicts use (ILAC-G8 simple or guarded acceptance), the tolerance of what the
BMS reports about itself, the recovery procedure that brings the DUT back to ready
between plans, and the test conditions (which cells and NTCs, search steps, poll period,
test currents, the short-circuit capture).

Three kinds of protection, one shape: a threshold, a delay, and a way back. A voltage or
temperature protection releases past its release level (the hysteresis); a current
protection has no release level (the current it watches stops when it trips) and comes
back by its recovery rule instead: after a delay, or once the charger is removed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(Strict):
    """A datasheet value and its acceptance band."""

    nominal: float
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Limit:
        if not self.low <= self.nominal <= self.high:
            raise ValueError(
                f"expected low <= nominal <= high, got {self.low} / {self.nominal} / {self.high}"
            )
        return self


class VoltageProtection(Strict):
    clause: list[str] = Field(min_length=1)
    threshold_v: Limit
    delay_s: Limit
    release_v: Limit
    # How long the condition must be gone before the BMS releases (dwell of the release
    # search); absent: the BMS releases at its next scan.
    release_delay_s: Limit | None = None
    # The spec's recovery rule: false = releases by itself below (above) release_v;
    # true = stays tripped until reset (power cycle or a protocol command).
    latching: bool = False

    @property
    def threshold(self) -> Limit:
        return self.threshold_v

    @property
    def release(self) -> Limit:
        return self.release_v


class TemperatureProtection(Strict):
    """Charge or discharge over- or under-temperature, on the hottest (coldest) NTC."""

    clause: list[str] = Field(min_length=1)
    threshold_c: Limit
    delay_s: Limit
    release_c: Limit  # the hysteresis: released past this temperature
    release_delay_s: Limit | None = None
    latching: bool = False
    # The FETs the protection opens; absent: the FET of its own path only (a charge
    # protection the charge FET). LFP below 0 °C: charging refused, discharging continues.
    opens: Literal["charge", "discharge", "both"] | None = None

    @property
    def threshold(self) -> Limit:
        return self.threshold_c

    @property
    def release(self) -> Limit:
        return self.release_c


class CurrentProtection(Strict):
    """Charge or discharge over-current, or short circuit: a threshold, a delay, and the
    recovery rule (the current it watches stops when it trips, so there is no release
    level)."""

    clause: list[str] = Field(min_length=1)
    threshold_a: Limit
    delay_s: Limit
    # "delay": releases by itself `release_delay_s` after the trip, a charger still
    # connected; "charger_removed": once no charger has been connected for
    # `release_delay_s` (charge over-current only). `latching`: neither; only a reset.
    recovery: Literal["delay", "charger_removed"] = "delay"
    release_delay_s: Limit | None = None
    latching: bool = False

    @property
    def threshold(self) -> Limit:
        return self.threshold_a

    @property
    def release(self) -> None:
        return None

    @model_validator(mode="after")
    def _recovery(self) -> CurrentProtection:
        if not self.latching and self.release_delay_s is None:
            raise ValueError("release_delay_s is required unless the protection is latching")
        return self


class ShortCircuitProtection(CurrentProtection):
    # The highest peak current the DUT may let through on this bench's short (its FETs'
    # pulse rating); the peak also depends on the bench's loop, so it is a bench figure.
    max_peak_a: float | None = Field(default=None, gt=0)


AnyProtection = VoltageProtection | TemperatureProtection | CurrentProtection


def _check_sides(name: str, p: VoltageProtection | TemperatureProtection, over: bool) -> None:
    field = "release_v" if isinstance(p, VoltageProtection) else "release_c"
    limit = "threshold_v" if isinstance(p, VoltageProtection) else "threshold_c"
    if over and p.release.high >= p.threshold.low:
        raise ValueError(f"{name}.{field} must lie below {name}.{limit}")
    if not over and p.release.low <= p.threshold.high:
        raise ValueError(f"{name}.{field} must lie above {name}.{limit}")


# name -> trips going up (over) or down (under)
SIDES = {
    "cell_ov": True,
    "cell_uv": False,
    "pack_ov": True,
    "pack_uv": False,
    "charge_ot": True,
    "charge_ut": False,
    "discharge_ot": True,
    "discharge_ut": False,
    "cell_imbalance": True,  # the spread between the highest and lowest cell
}
TEMPERATURES = ("charge_ot", "charge_ut", "discharge_ot", "discharge_ut")


class Protections(Strict):
    cell_ov: VoltageProtection
    cell_uv: VoltageProtection
    pack_ov: VoltageProtection | None = None
    pack_uv: VoltageProtection | None = None
    charge_oc: CurrentProtection | None = None
    discharge_oc1: CurrentProtection | None = None
    discharge_oc2: CurrentProtection | None = None
    short_circuit: ShortCircuitProtection | None = None
    charge_ot: TemperatureProtection | None = None
    charge_ut: TemperatureProtection | None = None
    discharge_ot: TemperatureProtection | None = None
    discharge_ut: TemperatureProtection | None = None
    # The spread between the highest and the lowest cell (V): charging stops above it.
    cell_imbalance: VoltageProtection | None = None

    @model_validator(mode="after")
    def _sides(self) -> Protections:
        for name, over in SIDES.items():
            p = getattr(self, name)
            if p is not None:
                _check_sides(name, p, over)
        for name in TEMPERATURES:
            p = getattr(self, name)
            own = name.split("_")[0]
            if p is not None and p.opens not in (None, own, "both"):
                raise ValueError(f"{name}.opens must include the {own} FET")
        return self

    @model_validator(mode="after")
    def _current_levels(self) -> Protections:
        """Level 2 above level 1 and faster; the short circuit above both."""
        oc1, oc2, sc = self.discharge_oc1, self.discharge_oc2, self.short_circuit
        if oc2 is not None and oc1 is None:
            raise ValueError("discharge_oc2 needs discharge_oc1 (level 2 is judged against it)")
        if oc1 is not None and oc2 is not None:
            if oc2.threshold_a.low <= oc1.threshold_a.high:
                raise ValueError("discharge_oc2.threshold_a must lie above discharge_oc1's")
            if oc2.delay_s.high >= oc1.delay_s.low:
                raise ValueError("discharge_oc2.delay_s must lie below discharge_oc1's")
        top = oc2 or oc1
        if sc is not None and top is not None and sc.threshold_a.low <= top.threshold_a.high:
            raise ValueError("short_circuit.threshold_a must lie above the over-current levels")
        for name in ("discharge_oc1", "discharge_oc2", "short_circuit"):
            p = getattr(self, name)
            if p is not None and p.recovery != "delay":
                raise ValueError(f"{name}.recovery: only charge_oc may recover on charger removal")
        return self

    def opens(self, name: str) -> set[str]:
        """The FETs protection `name` opens: "charge", "discharge" or both."""
        p = getattr(self, name)
        own = (
            "discharge"
            if name.startswith(("discharge", "cell_uv", "pack_uv", "short"))
            else "charge"
        )
        chosen = getattr(p, "opens", None) or own
        return {"charge", "discharge"} if chosen == "both" else {chosen}


class Reporting(Strict):
    """What the BMS says about itself, judged on its own against these tolerances."""

    # The BMS's reading of a cell minus the station's read-back of the same cell.
    cell_voltage_error_v: Limit = Limit(nominal=0.0, low=-0.015, high=0.015)
    # How long after the power path shows a trip the BMS may take to report it (a CAN BMS
    # broadcasts its state about once a second).
    report_timeout_s: float = Field(default=2.0, gt=0)
    # Cell voltages at which that error is checked (all cells together); empty: nominal.
    levels_v: list[float] = Field(default_factory=list)
    # The BMS's pack current minus the station's (charger or load read-back), at each of
    # `current_levels_a` (+ charging through the charger, - discharging through the load).
    current_error_a: Limit = Limit(nominal=0.0, low=-0.1, high=0.1)
    # ... widened by this % of the reading (a BMS's current accuracy is % of reading +
    # offset, `current_error_a` being the offset).
    current_error_pct: float = Field(default=0.0, ge=0)
    current_levels_a: list[float] = Field(default_factory=list)
    # The temperature the BMS reports for an NTC input minus the one emulated there, at
    # each of `temperature_levels_c` (one NTC at a time, the others at 25 °C).
    temperature_error_c: Limit = Limit(nominal=0.0, low=-2.0, high=2.0)
    temperature_levels_c: list[float] = Field(default_factory=list)
    clause: list[str] = Field(default_factory=list)


class Recovery(Strict):
    """How the DUT is brought back to ready before and after each plan."""

    release_timeout_s: float = Field(default=30.0, gt=0)
    poll_s: float = Field(default=0.25, gt=0)
    # When waiting does not bring the BMS back: switch the cell emulators off and on
    # (the board runs from the pack, so this reboots it).
    power_cycle: bool = True
    power_off_s: float = Field(default=2.0, gt=0)
    boot_timeout_s: float = Field(default=10.0, gt=0)


class CurrentConditions(Strict):
    """How current thresholds are searched (the charger's or the load's setpoint)."""

    threshold_step_a: float = Field(default=0.05, gt=0, le=1.0)  # final bracket
    coarse_step_a: float = Field(default=0.2, gt=0, le=5.0)  # the ramp before bisection
    search_margin_a: float = Field(default=0.5, gt=0, le=10.0)  # search beyond the band
    # Charger CV above the pack while the charge current is the stimulus: enough for the
    # highest test current through the path's resistance, and for the BMS to see a charger.
    charge_headroom_v: float = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _steps(self) -> CurrentConditions:
        if self.coarse_step_a < self.threshold_step_a:
            raise ValueError("coarse_step_a must be >= threshold_step_a")
        return self


class TemperatureConditions(Strict):
    """How temperature thresholds are searched (an NTC's emulated temperature)."""

    threshold_step_c: float = Field(default=0.2, gt=0, le=2.0)
    coarse_step_c: float = Field(default=1.0, gt=0, le=10.0)
    search_margin_c: float = Field(default=2.0, gt=0, le=20.0)

    @model_validator(mode="after")
    def _steps(self) -> TemperatureConditions:
        if self.coarse_step_c < self.threshold_step_c:
            raise ValueError("coarse_step_c must be >= threshold_step_c")
        return self


class CaptureConditions(Strict):
    """The digitizer record of a short circuit (the instrument may sample finer)."""

    sample_interval_s: float = Field(default=1e-6, gt=0, le=1e-3)
    points: int = Field(default=2000, ge=100, le=1_000_000)
    pretrigger_points: int = Field(default=200, ge=1)
    # ± range of the current input: above the highest peak the short can reach.
    full_scale_a: float = Field(default=6000.0, gt=0)

    @model_validator(mode="after")
    def _pretrigger(self) -> CaptureConditions:
        if self.pretrigger_points >= self.points:
            raise ValueError("pretrigger_points must be below points")
        return self


class ShortSearch(Strict):
    """The short-circuit threshold's search: pulses of rising prospective current
    (`test_conditions.short_circuit:`), each `pulse_s` long (default: dwell_factor x the
    slowest acceptable delay), shorter than every lower discharge level's delay."""

    threshold_step_a: float = Field(default=2.0, gt=0)
    coarse_step_a: float = Field(default=10.0, gt=0)
    search_margin_a: float = Field(default=10.0, gt=0)
    pulse_s: float | None = Field(default=None, gt=0, le=0.1)

    @model_validator(mode="after")
    def _steps(self) -> ShortSearch:
        if self.coarse_step_a < self.threshold_step_a:
            raise ValueError("coarse_step_a must be >= threshold_step_a")
        return self


class TestConditions(Strict):
    cells_under_test: list[int] | Literal["all"] = "all"
    # NTC inputs whose temperature protections are measured (1..dut.ntc_count).
    ntcs_under_test: list[int] | Literal["all"] = "all"
    nominal_cell_voltage: float = Field(gt=0)
    threshold_step_v: float = Field(gt=0, le=0.05)  # the bracket a threshold is narrowed to
    coarse_step_v: float = Field(default=0.01, gt=0, le=0.2)  # the ramp before bisection
    search_margin_v: float = Field(default=0.05, gt=0, le=0.5)  # search beyond the band
    poll_period_s: float = Field(gt=0, le=1.0)
    settle_s: float = Field(ge=0)
    # Dwell at each threshold level = dwell_factor × the slowest acceptable delay + settle,
    # so a DUT somewhat slower than its spec still trips at its true threshold.
    dwell_factor: float = Field(default=2.0, ge=1.0)
    charge_test_current_a: float = Field(default=0.5, gt=0)
    discharge_test_current_a: float = Field(default=0.5, gt=0)
    # The path counts as interrupted when its current falls below this share of the test
    # current: a trip is current that stops flowing, seen by the charger or the load.
    trip_current_fraction: float = Field(default=0.2, gt=0, lt=1)
    charge_headroom_v: float = Field(default=0.5, gt=0)  # charger CV above the pack
    pin_check_step_v: float = Field(default=0.01, gt=0, le=0.05)
    current: CurrentConditions = CurrentConditions()
    temperature: TemperatureConditions = TemperatureConditions()
    capture: CaptureConditions = CaptureConditions()
    short_circuit: ShortSearch = ShortSearch()

    @model_validator(mode="after")
    def _steps(self) -> TestConditions:
        if self.coarse_step_v < self.threshold_step_v:
            raise ValueError("coarse_step_v must be >= threshold_step_v")
        return self


class Balancing(Strict):
    """Passive balancing: when the BMS bleeds a cell, and how much (`balancing:`)."""

    clause: list[str] = Field(default_factory=list)
    # A cell is balanced when it reads at least start_v and more than window_v above the
    # lowest cell (JBD EEPROM 0x2A, 0x2B).
    start_v: Limit
    window_v: Limit
    # The bleed current of a balanced cell at bleed_at_v (a resistor: it scales with V).
    bleed_current_a: Limit
    bleed_at_v: float = Field(gt=0)
    # The BMS balances only while charging (JBD 0x2D bit 3): the plan drives the spec's
    # charge test current while it looks for the bleed.
    only_while_charging: bool = False
    # A cell that is not balanced: its channel's current moves by at most this.
    idle_current_a: float = Field(default=0.01, gt=0)

    @model_validator(mode="after")
    def _bleed_where_balanced(self) -> Balancing:
        if self.bleed_at_v < self.start_v.high:
            raise ValueError("balancing.bleed_at_v must be at or above start_v.high")
        return self


class StateOfCharge(Strict):
    """Coulomb counting: the BMS's count of a charge the station drives (`state_of_charge:`)."""

    clause: list[str] = Field(default_factory=list)
    current_a: float = Field(gt=0)  # charger / load current while the charge is driven
    charge_ah: float = Field(gt=0)  # the charge driven through the pack, each way
    poll_period_s: float = Field(default=60.0, gt=0)  # read-back poll while it flows
    # The BMS is read this often meanwhile (its count over time; a CAN link kept alive).
    bms_poll_period_s: float = Field(default=600.0, gt=0)
    # BMS's counted charge minus the station's, in % of the spec's capacity.
    counting_error_pct: Limit = Limit(nominal=0.0, low=-2.0, high=2.0)
    # BMS's SoC change minus the station's charge / capacity, in SoC points (%).
    soc_error_pct: Limit = Limit(nominal=0.0, low=-2.0, high=2.0)
    # BMS's full capacity against dut.capacity_ah, in %.
    full_capacity_error_pct: Limit = Limit(nominal=0.0, low=-2.0, high=2.0)
    # Idle: no current for idle_s; what the BMS counts meanwhile, in % of capacity.
    idle_s: float = Field(default=7200.0, gt=0)
    idle_drift_error_pct: Limit = Limit(nominal=0.0, low=-0.2, high=0.2)
    # The BMS's reporting steps: SoC in %, remaining capacity in Ah.
    soc_step_pct: float = Field(default=1.0, gt=0)
    capacity_step_ah: float = Field(default=0.01, gt=0)
    # The SoC the plans work within; the pack is brought into it first (not measured).
    soc_window_pct: tuple[float, float] = (10.0, 90.0)

    @model_validator(mode="after")
    def _window(self) -> StateOfCharge:
        low, high = self.soc_window_pct
        if not 0 <= low < high <= 100:
            raise ValueError("state_of_charge.soc_window_pct must be 0 <= low < high <= 100")
        return self


class Communications(Strict):
    """The BMS's link: identity, configuration read back, timing (`communications:`)."""

    clause: list[str] = Field(default_factory=list)
    # What the BMS must report about itself (model, hardware, firmware, manufacturer,
    # serial); fields left out are recorded, not judged.
    identity: dict[Literal["model", "hardware", "firmware", "manufacturer", "serial"], str] = Field(
        default_factory=dict
    )
    # Request/reply links: the longest status exchange of `polls`, as the host sees it.
    response_time_s: Limit = Limit(nominal=0.05, low=0.0, high=0.3)
    polls: int = Field(default=20, ge=2)
    # Broadcasting links: the period between status broadcasts, from frame timestamps,
    # and the longest gap between two.
    broadcast_period_s: Limit = Limit(nominal=1.0, low=0.9, high=1.1)
    broadcast_gap_s: Limit = Limit(nominal=1.0, low=0.0, high=1.5)
    broadcasts: int = Field(default=10, ge=2)

    @model_validator(mode="before")
    @classmethod
    def _no_tolerance(cls, data: object) -> object:
        if isinstance(data, dict) and "config_tolerance" in data:
            raise ValueError(
                "config_tolerance is no longer read: a configured value is judged against "
                "the protection's own limits, widened by half the BMS's coding step; "
                "remove it"
            )
        return data


# Plan markers of the functions a spec may leave out, and the section that states each.
FUNCTIONS = {
    "balancing": "balancing",
    "soc": "state_of_charge",
    "communications": "communications",
    "wiring_faults": "wiring_faults",
    "standby": "standby",
    "heating": "heating",
    "inverter_limits": "inverter_limits",
}

# The campaign's further sections (their models use Limit and Strict above).
from rig.config.campaign_spec import (  # noqa: E402
    Heating,
    InverterLimits,
    Standby,
    WiringFaults,
)


class DutInfo(Strict):
    name: str
    manufacturer: str = ""
    chemistry: str
    cell_count: int = Field(gt=0, le=32)
    ntc_count: int = Field(default=0, ge=0, le=8)  # the BMS's NTC inputs
    nominal_cell_voltage: float = Field(gt=0)
    capacity_ah: float = Field(gt=0)
    # The sign this DUT's firmware gives charging current, against its protocol's
    # documentation: -1 for firmware that reports charging as negative.
    current_sign: Literal[1, -1] = 1


class DutSpec(Strict):
    model_config = ConfigDict(extra="forbid", frozen=False)

    dut: DutInfo
    # ILAC-G8: "simple" (inside the limits passes) or "guarded" (the acceptance zone
    # shrinks by the expanded uncertainty; a value in the guard band is conditional).
    decision_rule: Literal["simple", "guarded"] = "guarded"
    protections: Protections
    reporting: Reporting = Reporting()
    recovery: Recovery = Recovery()
    test_conditions: TestConditions
    balancing: Balancing | None = None
    state_of_charge: StateOfCharge | None = None
    communications: Communications | None = None
    wiring_faults: WiringFaults | None = None
    standby: Standby | None = None
    heating: Heating | None = None
    inverter_limits: InverterLimits | None = None
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _cells_exist(self) -> DutSpec:
        chosen = self.test_conditions.cells_under_test
        if chosen != "all":
            bad = [c for c in chosen if not 1 <= c <= self.dut.cell_count]
            if bad:
                raise ValueError(
                    f"test_conditions.cells_under_test: no such cell position(s) {bad}"
                )
        ntcs = self.test_conditions.ntcs_under_test
        if ntcs != "all":
            bad = [n for n in ntcs if not 1 <= n <= self.dut.ntc_count]
            if bad:
                raise ValueError(
                    f"test_conditions.ntcs_under_test: no such NTC input(s) {bad} "
                    f"(dut.ntc_count is {self.dut.ntc_count})"
                )
        stated = [n for n in TEMPERATURES if getattr(self.protections, n) is not None]
        if stated and self.dut.ntc_count == 0:
            raise ValueError(
                f"dut.ntc_count: the spec states {', '.join(stated)} but no NTC inputs"
            )
        return self

    def unstated_functions(self) -> set[str]:
        """Plan markers (balancing, soc, communications) whose section this spec omits."""
        return {mark for mark, section in FUNCTIONS.items() if getattr(self, section) is None}

    @property
    def cells_under_test(self) -> list[int]:
        chosen = self.test_conditions.cells_under_test
        return list(range(1, self.dut.cell_count + 1)) if chosen == "all" else list(chosen)

    @property
    def ntcs_under_test(self) -> list[int]:
        chosen = self.test_conditions.ntcs_under_test
        return list(range(1, self.dut.ntc_count + 1)) if chosen == "all" else list(chosen)
