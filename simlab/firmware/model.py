"""A BMS firmware model: what a JBD-class board's microcontroller does every scan.

Every `scan_period_s` it reads the cells through its ADC (quantised, noisy, possibly
defective), runs the protection table, drives the FETs and logs ground-truth events.
Between scans it counts coulombs. It knows nothing about instruments or wires: the
simulation core hands it true cell voltages and pack current and applies its FET states
to the bench.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from simlab.firmware.balance import BalanceParams, balance_mask, bleeding
from simlab.firmware.board import Board, BoardParams
from simlab.firmware.defects import Defect, DefectSet
from simlab.firmware.diagnostics import (
    NTC_INVALID_C,
    DiagnosticParams,
    masked_cells,
    open_wire_check,
)
from simlab.firmware.protections import (
    EPS,
    PROTECTION_BITS,
    ROWS,
    TABLE,
    ChargeCurrentParams,
    Params,
    Protection,
    ProtectionState,
)
from simlab.params import flatten, get_path, set_path, unknown_path


def _default_protections() -> dict[str, Params]:
    return {row.name: copy.copy(row.defaults) for row in TABLE}


KELVIN = 273.15
NTC_READ_MIN_C, NTC_READ_MAX_C = -40.0, 120.0  # what the board reports at its ADC's rails


@dataclass
class NtcParams:
    """The board's NTC inputs: a pull-up divider into a 12-bit ADC, read with the curve
    the firmware believes its thermistors follow (`firmware.ntc.*`)."""

    count: int = 2
    r25_ohm: float = 10_000.0
    beta_k: float = 3435.0
    pullup_ohm: float = 10_000.0
    adc_bits: int = 12

    def validate(self) -> None:
        if not 1 <= self.count <= 8:
            raise ValueError("firmware.ntc.count must be within 1..8")
        if min(self.r25_ohm, self.beta_k, self.pullup_ohm) <= 0:
            raise ValueError("firmware.ntc r25_ohm, beta_k and pullup_ohm must be > 0")
        if not 8 <= self.adc_bits <= 24:
            raise ValueError("firmware.ntc.adc_bits must be within 8..24")

    def ohms_at(self, celsius: float) -> float:
        """The resistance of the NTC the firmware expects, at `celsius`."""
        return self.r25_ohm * math.exp(self.beta_k * (1 / (celsius + KELVIN) - 1 / 298.15))

    def in_range(self, ohms: float) -> bool:
        """The divider's reading of `ohms` lies within the curve's range (-40..120 °C):
        beyond it the line is open (cold side) or shorted (hot side), no temperature."""
        return self.reading(ohms)[1]

    def read(self, ohms: float) -> float:
        """Temperature the board reports for an NTC of `ohms`: divider, ADC code, curve,
        0.1 °C; an open line (or a short) reads as the rail's temperature."""
        return self.reading(ohms)[0]

    def reading(self, ohms: float) -> tuple[float, bool]:
        """(`read`, `in_range`) of `ohms` from one conversion: every scan asks both."""
        full = (1 << self.adc_bits) - 1
        fraction = 1.0 if math.isinf(ohms) else ohms / (ohms + self.pullup_ohm)
        code = min(max(round(fraction * full), 0), full)
        if code >= full:
            return NTC_READ_MIN_C, False
        if code <= 0:
            return NTC_READ_MAX_C, False
        measured = self.pullup_ohm * code / (full - code)
        inv_t = 1 / 298.15 + math.log(measured / self.r25_ohm) / self.beta_k
        celsius = 1 / inv_t - KELVIN
        reported = round(min(max(celsius, NTC_READ_MIN_C), NTC_READ_MAX_C), 1)
        return reported, NTC_READ_MIN_C <= celsius <= NTC_READ_MAX_C


def _extremes(
    readings: np.ndarray, cells: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The highest and the lowest of `cells` (indices; None: all) at each scan of a span
    (one row of `readings` a scan). numpy reduces a row of 16 at a time slowly; it
    reduces whole columns fast, so the span is turned to one row a cell first."""
    columns = np.ascontiguousarray(readings.T)
    if cells is not None and len(cells) < len(columns):
        columns = columns[cells]
    return columns.max(axis=0), columns.min(axis=0)


def _round(values: np.ndarray, decimals: int = 0) -> np.ndarray:
    """`np.round(values, decimals)` in place, computed as numpy computes it (its documented
    algorithm for decimals > 0: rint(values x 10^decimals) / 10^decimals, round half to
    even): the same floats, without numpy's dispatch, which costs more than the rounding
    on a scan's 16 readings."""
    if decimals == 0:
        return np.rint(values, out=values)
    scale = 10.0**decimals
    values *= scale
    np.rint(values, out=values)
    values /= scale
    return values


def _any(condition: np.ndarray | bool) -> bool:
    """Whether a condition holds at any scan of a span (`_span`)."""
    return bool(condition.any()) if isinstance(condition, np.ndarray) else bool(condition)


def _span(condition: np.ndarray | bool, n: int) -> np.ndarray:
    """A condition over a span of `n` scans: as it is, or one judged once for them all."""
    return condition if isinstance(condition, np.ndarray) else np.full(n, condition)


def _timer(
    condition: np.ndarray, times: np.ndarray, since: float | None, delay_s: float
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """A protection's delay timer over a run of scans, as `Protection.evaluate` keeps it.

    The timer starts at the first scan that sees `condition` (or carries on from `since`,
    the scan before the run having seen it), resets at a scan that does not, and fires at
    a scan that sees it `delay_s` after the start. Returns which scans fire, and the
    timer's start as each scan leaves it (NaN: not running); (None, None) when it never
    runs, the usual case, which costs one look.
    """
    if since is None and not condition.any():
        return None, None
    n = len(condition)
    before = np.empty(n, dtype=bool)
    before[0] = since is not None
    before[1:] = condition[:-1]
    starts = condition & ~before
    last = np.maximum.accumulate(np.where(starts, np.arange(n), -1))
    carried = np.nan if since is None else since
    start = np.where(last >= 0, times[np.maximum(last, 0)], carried)
    start = np.where(condition, start, np.nan)
    with np.errstate(invalid="ignore"):
        fires = condition & (times - start >= delay_s - EPS)
    return fires, start


@dataclass
class FirmwareParams:
    """Tunable firmware parameters, addressable as `firmware.<name>` and
    `firmware.<protection>.<field>`."""

    scan_period_s: float = 0.1
    # When the first scan falls, in [0, scan_period_s). A real BMS's scans run on its own
    # timer, unrelated to when the rig applies a step; -1 draws the phase from the seed.
    scan_phase_s: float = -1.0
    adc_resolution_v: float = 0.001
    adc_noise_v: float = 0.0005
    current_resolution_a: float = 0.01
    # The current sense's calibration: the board measures gain x the true current +
    # offset. The gain (the shunt's value) also scales what the front end's comparators
    # see; the offset is the ADC's and reaches the firmware's reading only.
    current_gain: float = 1.0
    current_offset_a: float = 0.0
    full_capacity_ah: float = 100.0
    initial_soc: float = 0.5  # setting it resets the coulomb counter
    device_name: str = "JBD-SP16S020-L16S-100A"
    # The board runs from the pack: below this pack voltage it browns out (FETs open, no
    # UART), and when the pack comes back it boots afresh, protections cleared. Power is
    # sampled at scan instants, as the board's hold-up capacitor rides through shorter dips.
    supply_min_v: float = 8.0
    boot_s: float = 0.5
    ntc: NtcParams = field(default_factory=NtcParams)
    balance: BalanceParams = field(default_factory=BalanceParams)
    board: BoardParams = field(default_factory=BoardParams)
    diagnostics: DiagnosticParams = field(default_factory=DiagnosticParams)
    protections: dict[str, Params] = field(default_factory=_default_protections)

    def param_children(self) -> dict[str, object]:
        """Protections sit beside the scalar fields: `firmware.cell_ov.delay_s`."""
        out: dict[str, object] = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "protections"
        }
        out.update(self.protections)
        return out

    def validate(self) -> None:
        if self.scan_period_s <= 0:
            raise ValueError("firmware.scan_period_s must be > 0")
        if self.scan_phase_s != -1.0 and not 0 <= self.scan_phase_s < self.scan_period_s:
            raise ValueError("firmware.scan_phase_s must be -1 (from the seed) or in [0, period)")
        if self.adc_resolution_v <= 0 or self.current_resolution_a <= 0:
            raise ValueError("firmware resolutions must be > 0")
        if not 0.5 <= self.current_gain <= 2.0:
            raise ValueError("firmware.current_gain must be within 0.5..2")
        if self.adc_noise_v < 0:
            raise ValueError("firmware.adc_noise_v must be >= 0")
        if self.supply_min_v < 0 or self.boot_s < 0:
            raise ValueError("firmware.supply_min_v and firmware.boot_s must be >= 0")
        if self.full_capacity_ah <= 0:
            raise ValueError("firmware.full_capacity_ah must be > 0")
        if not 0.0 <= self.initial_soc <= 1.0:
            raise ValueError("firmware.initial_soc must be within 0..1")
        self.ntc.validate()
        self.balance.validate()
        self.board.validate()
        for name, p in self.protections.items():
            if p.delay_s < 0 or p.release_delay_s < 0:
                raise ValueError(f"firmware.{name} delays must be >= 0")
            if ROWS[name].source.endswith("current") and p.threshold <= 0:
                raise ValueError(f"firmware.{name}.threshold_a must be > 0")
            if isinstance(p, ChargeCurrentParams) and p.recovery not in RECOVERIES:
                raise ValueError(f"firmware.{name}.recovery must be one of {', '.join(RECOVERIES)}")


RECOVERIES = ("delay", "charger_removed")


@dataclass
class BmsStatus:
    """What the board would report over its UART at this moment (its last scan)."""

    pack_v: float
    current_a: float
    remaining_ah: float
    full_ah: float
    cycles: int
    production_date: date
    balance_bits: int
    protection_bits: int
    software_version: int
    soc_pct: int
    charge_fet: bool
    discharge_fet: bool
    cells_v: list[float]
    temps_c: list[float]  # the NTC inputs, then the board's FET sensor if it has one
    device_name: str


def quantize(value: float, step: float) -> float:
    """Round to the nearest `step`, then to 9 decimals so 3650 × 1 mV compares as 3.65."""
    return round(round(value / step) * step, 9)


class Firmware:
    """The firmware's state and its scan; see the module docstring."""

    SOFTWARE_VERSION = 0x10  # 1.0
    PRODUCTION_DATE = date(2024, 3, 15)

    def __init__(
        self,
        cell_count: int,
        params: FirmwareParams | None = None,
        rng: np.random.Generator | None = None,
    ):
        self.cell_count = cell_count
        self.params = params or FirmwareParams()
        self.params.validate()
        self._rng = rng or np.random.default_rng(0)
        self.protections = [Protection(row, self.params.protections[row.name]) for row in TABLE]
        self._by_name = {prot.row.name: prot for prot in self.protections}
        self._afe = [prot for prot in self.protections if prot.row.engine == "afe"]
        self.defects = DefectSet()
        self.readings = [0.0] * cell_count
        self.pack_reading = 0.0
        self.current_a = 0.0
        self.temps_c = [25.0] * self.params.ntc.count
        self.balance_bits = 0
        self.remaining_ah = self.params.full_capacity_ah * self.params.initial_soc
        self.discharged_ah = 0.0
        self.sw_disable_charge = False
        self.sw_disable_discharge = False
        self.board = Board(self.params.board)
        self.fet_c = 25.0  # the FETs' temperature (the bench's physics; the world keeps it)
        self.open_found: set[int] = set()  # sense leads the open-wire check found open
        self.ntc_faulted: set[int] = set()  # NTC inputs read beyond their curve's range
        self._held_temps: list[float] | None = None  # last valid readings (a defect holds them)
        self.events: list[dict[str, object]] = []
        self.powered = True
        self.booted_at: float | None = None  # end of the boot after a power-up, if pending
        # It has measured since it last came up: until then it has nothing true to say
        # (its readings are zeros and its FET state a default), so it answers nothing.
        self.measured = False
        self.last_scan_t: float | None = None
        self.next_scan_t = self._first_scan()
        # ADC noise drawn ahead by `quiet_scans` (standard normal, one row a scan), used
        # by the scans that follow before any fresh draw: skipping scans never changes
        # the noise a later scan sees.
        self._noise_ahead = np.empty((0, cell_count))

    # -- parameters and defects --------------------------------------------------------

    def parameters(self) -> dict[str, object]:
        return flatten(self.params)

    def get_param(self, path: str) -> object:
        try:
            return get_path(self.params, path)
        except KeyError:
            raise unknown_path(f"firmware.{path}", self._paths()) from None

    def set_param(self, path: str, value: object, now: float) -> object:
        try:
            old = set_path(self.params, path, value)
        except KeyError:
            raise unknown_path(f"firmware.{path}", self._paths()) from None
        if path == "initial_soc":
            self.remaining_ah = self.params.full_capacity_ah * self.params.initial_soc
        elif path == "full_capacity_ah":
            self.remaining_ah = min(self.remaining_ah, self.params.full_capacity_ah)
        elif path in ("scan_period_s", "scan_phase_s"):
            self._reschedule(now)
        return old

    def _paths(self) -> list[str]:
        return [f"firmware.{p}" for p in flatten(self.params)]

    def add_defect(self, defect: Defect) -> None:
        lowest = 0 if defect.name == "adc_offset" else 1
        for key in ("cell", "a", "b", "other"):
            cell = defect.params.get(key)
            if cell is not None and not lowest <= int(cell) <= self.cell_count:
                raise ValueError(
                    f"defect {defect.name}: {key} must be within {lowest}..{self.cell_count}, "
                    f"got {cell}"
                )
        for key in ("factor",):
            factor = defect.params.get(key)
            if factor is not None and float(factor) <= 0:
                raise ValueError(f"defect {defect.name}: {key} must be > 0, got {factor}")
        protection = defect.params.get("protection")
        allowed = PROTECTION_BITS if defect.name == "unreported_flag" else list(ROWS)
        if protection is not None and protection not in allowed:
            raise ValueError(
                f"defect {defect.name}: protection must be one of {', '.join(allowed)}, "
                f"got {protection!r}"
            )
        ntc = defect.params.get("ntc")
        first = 0 if defect.name == "ntc_mismatch" else 1  # 0: every NTC input
        if ntc is not None and not first <= int(ntc) <= self.params.ntc.count:
            raise ValueError(
                f"defect {defect.name}: ntc must be within {first}..{self.params.ntc.count}, "
                f"got {ntc}"
            )
        for key in ("beta_k", "r25_ohm"):
            value = defect.params.get(key)
            if value is not None and float(value) < 0:
                raise ValueError(f"defect {defect.name}: {key} must be >= 0, got {value}")
        self.defects.add(defect)

    # -- time --------------------------------------------------------------------------

    def _first_scan(self) -> float:
        p = self.params
        if p.scan_phase_s >= 0:
            return p.scan_phase_s
        return round(float(self._rng.uniform(0.0, p.scan_period_s)), 6)

    def _reschedule(self, now: float) -> None:
        if self.last_scan_t is None:
            if self.params.scan_phase_s >= 0:
                self.next_scan_t = max(self.params.scan_phase_s, now)
            return  # the first scan is still pending
        self.next_scan_t = max(round(self.last_scan_t + self.params.scan_period_s, 9), now)

    def sensed_current(self, current_a: float) -> float:
        """The current the board's ADC reads for a true `current_a` (+ charging): its
        calibration (`current_gain`, `current_offset_a`) and any current-sense defect,
        quantised to its resolution."""
        p, d = self.params, self.defects
        gain, offset = p.current_gain, p.current_offset_a
        if d.active:
            gain *= d.current_gain()
            offset += d.current_offset()
        return quantize(current_a * gain + offset, p.current_resolution_a)

    def _curves(self) -> list[NtcParams]:
        """The curve the board reads each NTC input with (an `ntc_mismatch` defect bends
        one or all)."""
        p = self.params.ntc
        curves = [p] * p.count
        if self.defects.active:
            for ntc, beta, r25 in self.defects.ntc_mismatches():
                bent = dataclasses.replace(p, beta_k=beta or p.beta_k, r25_ohm=r25 or p.r25_ohm)
                for i in range(p.count):
                    if ntc in (0, i + 1):
                        curves[i] = bent
        return curves

    def read_ntcs(self, ntc_ohms: list[float]) -> list[float]:
        """The temperatures the board reads for these NTC resistances, through the curve
        it believes each NTC follows. An input it checks and finds beyond the curve's
        range (open or shorted) reads at the rail here and is marked faulty
        (`ntc_faulted`); a board that holds its last valid reading instead
        (`open_ntc_reads_plausible`) reads that."""
        curves = self._curves()
        ohms = ntc_ohms[: len(curves)]
        pairs = [curve.reading(r) for curve, r in zip(curves, ohms, strict=False)]
        temps = [reported for reported, _ in pairs]
        beyond = {i + 1 for i, (_, valid) in enumerate(pairs) if not valid}
        d = self.defects
        checks = self.params.diagnostics.ntc_fault_check and not (
            d.active and (d.has("open_ntc_reads_cold") or d.has("open_ntc_reads_plausible"))
        )
        self.ntc_faulted = beyond if checks else set()
        if d.active and d.has("open_ntc_reads_plausible"):
            held = self._held_temps or [25.0] * len(temps)
            temps = [held[i] if i + 1 in beyond else t for i, t in enumerate(temps)]
        self._held_temps = [
            t if i + 1 not in beyond else (self._held_temps or [25.0] * len(temps))[i]
            for i, t in enumerate(temps)
        ]
        return temps

    def integrate(self, current_a: float, dt: float) -> None:
        """Coulomb counting between scans, at the current the shunt measures (through
        the counter's calibration: a `coulomb_gain` or `coulomb_offset` defect bends it)."""
        d = self.defects
        if d.active:
            current_a = current_a * d.coulomb_gain() + d.coulomb_offset()
        amps = quantize(current_a, self.params.current_resolution_a)
        ah = amps * dt / 3600.0
        self.remaining_ah = min(max(self.remaining_ah + ah, 0.0), self.full_ah)
        if ah < 0:
            self.discharged_ah -= ah

    @property
    def full_ah(self) -> float:
        """The full capacity the board works with (a `wrong_capacity` defect scales it)."""
        if not self.defects.active:
            return self.params.full_capacity_ah
        return self.params.full_capacity_ah * self.defects.capacity_factor()

    def _power(self, t: float, supply_v: float | None) -> bool:
        """Brown-out and boot at scan instants; True when the firmware runs this scan."""
        p = self.params
        if supply_v is None:
            return self.powered and self.booted_at is None
        if supply_v < p.supply_min_v:
            if self.powered:
                self.powered, self.booted_at = False, None
                for prot in self.protections:  # RAM state is lost; EEPROM (capacity) is kept
                    prot.state = ProtectionState()
                self.sw_disable_charge = self.sw_disable_discharge = False
                self.balance_bits = 0
                self.readings = [0.0] * self.cell_count
                self.pack_reading = 0.0
                self.current_a = 0.0
                self.measured = False
                self.board.asleep, self.board.idle_since = False, None
                self.open_found, self.ntc_faulted = set(), set()
                self.events.append({"t": t, "kind": "power_off", "supply_v": round(supply_v, 6)})
            return False
        if not self.powered:
            self.powered, self.booted_at = True, round(t + p.boot_s, 9)
            self.events.append({"t": t, "kind": "power_on", "supply_v": round(supply_v, 6)})
        if self.booted_at is not None:
            if t < self.booted_at - EPS:
                return False
            self.booted_at = None
            self.board.activity(t)  # the idle timer starts at boot
            self.events.append({"t": t, "kind": "boot"})
        return True

    @property
    def running(self) -> bool:
        """Powered, booted and awake: the FETs are driven and the UART answers."""
        return self.powered and self.booted_at is None and not self.board.asleep

    @property
    def asleep(self) -> bool:
        return self.powered and self.board.asleep

    def wake(self, t: float, why: str) -> bool:
        """A wake-up source (a host's request, a charger on P+) at `t`; True if the board
        was asleep (a request that wakes it goes unanswered)."""
        if not self.asleep:
            if self.powered:
                self.board.activity(t)
            return False
        self.board.asleep = False
        self.board.activity(t)
        self.events.append({"t": t, "kind": "wake", "by": why})
        return True

    def _fall_asleep(self, t: float) -> None:
        self.board.asleep = True
        self.balance_bits = 0
        self.events.append({"t": t, "kind": "sleep"})

    def draw_a(self) -> float:
        """The current the board draws from the pack now (its own consumption)."""
        d = self.defects
        factor = d.standby_factor() if d.active else 1.0
        return self.board.draw_a(self.powered and self.booted_at is None, factor)

    def fet_temperature(self) -> float:
        """The FETs' temperature now, as the bench's physics has them."""
        return self.fet_c

    @property
    def answering(self) -> bool:
        """Running, and it has measured since it came up: what its link may report."""
        return self.running and self.measured

    def scan(
        self,
        t: float,
        cells_v: list[float],
        current_a: float,
        temps_c: list[float] | None = None,
        supply_v: float | None = None,
        ntc_ohms: list[float] | None = None,
        charger_present: bool = False,
        open_leads: set[int] | None = None,
    ) -> None:
        """One scan at virtual time `t`: read, protect, log. Schedules the next scan.

        `supply_v` is the pack voltage the board runs from (None: always powered).
        Temperatures come as the NTC resistances at the board's inputs (`ntc_ohms`, read
        through the divider and ADC) or, for tests of the engine alone, as `temps_c`.
        `charger_present`: the board sees a charger voltage on P+ (charge OC recovery;
        it also wakes a sleeping board). `open_leads`: sense leads open at the connector
        (`cells_v` is what the front end's conversions see with them floating).
        """
        p = self.params
        self.last_scan_t = t
        self.next_scan_t = round(t + p.scan_period_s, 9)
        if not self._power(t, supply_v):
            return
        if self.board.asleep:  # only the wake comparator watches P+
            if charger_present:
                self.wake(t, "charger")
            else:
                return
        d = self.defects
        noise = self._next_noise() * p.adc_noise_v
        offsets = d.adc_offsets(self.cell_count)
        gain = d.adc_gain() if d.active else 1.0
        raw = np.asarray(cells_v) * gain  # + offsets + noise, in place, in that order
        raw += offsets
        raw += noise
        np.maximum(raw, 0.0, out=raw)
        step = p.adc_resolution_v
        raw /= step
        _round(raw)
        raw *= step
        self.readings = _round(raw, 9).tolist()
        self.pack_reading = round(sum(self.readings), 6)
        self.measured = True
        self.current_a = self.sensed_current(current_a)
        if ntc_ohms is not None:
            self.temps_c = self.read_ntcs(ntc_ohms)
        elif temps_c is not None:
            self.temps_c = list(temps_c)
        self.open_found = self._open_found(open_leads or set())

        judged: dict[str, list[tuple[int | None, float]]] = {}  # one look per source
        events = self.events
        for prot in self.protections:
            source = prot.row.source
            values = judged.get(source)
            if values is None:
                values = judged[source] = self._values(source, judged)
            event = prot.evaluate(t, values, d, charger_present)
            if event is not None:
                events.append(event)
        self.balance_bits = balance_mask(p.balance, self.readings, self.current_a, d)
        if not self.board.idle(self.current_a):
            self.board.activity(t)
        elif self.board.due_to_sleep(t, never=d.active and d.has("never_sleeps")):
            self._fall_asleep(t)

    def _open_found(self, open_leads: set[int]) -> set[int]:
        d = self.defects
        if not self.params.diagnostics.open_wire_check or (
            d.active and d.has("open_wire_undetected")
        ):
            return set()
        return open_wire_check(self.cell_count, open_leads)

    def _invalid_cells(self) -> set[int]:
        """Cells either side of a lead found open: their readings protect nothing."""
        return {c for lead in self.open_found for c in (lead, lead + 1)}

    def _values(
        self, source: str, judged: dict[str, list[tuple[int | None, float]]] | None = None
    ) -> list[tuple[int | None, float]]:
        """(channel, reading) pairs a protection of `source` judges at this scan
        (`judged`: the pairs of the sources already looked at in this scan)."""
        d = self.defects
        if source == "pack":
            return [(None, self.pack_reading)]
        if source in ("cell", "cell_spread"):
            kept = judged.get("cell") if judged is not None else None
            if kept is None:  # the cells' pairs, once a scan for both sources
                skip = (d.ignored_cells() if d.active else set()) | self._invalid_cells()
                kept = [(i + 1, r) for i, r in enumerate(self.readings) if i + 1 not in skip]
            if source == "cell":
                return kept
            if not kept or (d.active and d.has("imbalance_ignored")):
                return []
            readings = [r for _, r in kept]
            return [(None, round(max(readings) - min(readings), 9))]
        if source == "charge_current":
            return [(None, max(self.current_a, 0.0))]
        if source == "discharge_current":
            return [(None, max(-self.current_a, 0.0))]
        if source == "temperature":
            skip = (d.ignored_ntcs() if d.active else set()) | self.ntc_faulted
            return [(i + 1, c) for i, c in enumerate(self.temps_c) if i + 1 not in skip]
        if source == "fet_temperature":
            return [(None, round(self.fet_temperature(), 1))]
        if source == "open_wire":
            return [(lead, 1.0) for lead in sorted(self.open_found)] or [(None, 0.0)]
        if source == "ntc_fault":
            return [(n, 1.0) for n in sorted(self.ntc_faulted)] or [(None, 0.0)]
        raise ValueError(f"unknown protection source {source!r}")

    # -- quiet spans ---------------------------------------------------------------------

    def _next_noise(self) -> np.ndarray:
        if len(self._noise_ahead):
            row, self._noise_ahead = self._noise_ahead[0], self._noise_ahead[1:]
            return row
        return self._rng.standard_normal(self.cell_count)

    def _draw_ahead(self, n: int) -> np.ndarray:
        missing = n - len(self._noise_ahead)
        if missing > 0:
            fresh = self._rng.standard_normal((missing, self.cell_count))
            ahead = self._noise_ahead
            self._noise_ahead = np.concatenate([ahead, fresh]) if len(ahead) else fresh
        return self._noise_ahead[:n]

    def quiet_scans(
        self,
        times: list[float],
        cells_v: list[float],
        current_a: float,
        supply_v: float,
        ntc_ohms: list[float] | None,
        charger_present: bool,
        open_leads: set[int] | None = None,
        fet_c: np.ndarray | None = None,
    ) -> int:
        """How many of the scans at `times` (all but the last) would change nothing, with
        these inputs held; those scans are then taken as done.

        A scan changes nothing when no protection's condition starts or ends (or its
        recovery timer runs out), the balance mask stays as it is and the board does not
        fall asleep. Each candidate is judged with the very noise it would have drawn,
        so skipping is exact: the scans that do run see the same readings, and a run
        gives the same result, as if every scan had run. What the skipped scans would
        have reset (a trip timer whose condition went away) is reset. A sleeping board
        scans nothing until a charger wakes it. `fet_c`: the FETs' temperature at each
        of the scans (the bench's exact law through the span).
        """
        p = self.params
        n = len(times) - 1
        if n < 1 or supply_v < p.supply_min_v or not self.powered or self.booted_at is not None:
            return 0
        if self.board.asleep:
            if charger_present:
                return 0
            self.last_scan_t, self.next_scan_t = times[n - 1], times[n]
            return n
        d = self.defects
        found = self._open_found(open_leads or set())
        faulted_before = set(self.ntc_faulted)
        temps = self.read_ntcs(ntc_ohms) if ntc_ohms is not None else list(self.temps_c)
        if found != self.open_found or self.ntc_faulted != faulted_before:
            return 0
        offsets = np.asarray(d.adc_offsets(self.cell_count))
        gain = d.adc_gain() if d.active else 1.0
        # the scan's arithmetic on one array, in place: a span can hold 20 000 scans
        readings = self._draw_ahead(n) * p.adc_noise_v
        readings += np.asarray(cells_v) * gain + offsets
        np.maximum(readings, 0.0, out=readings)
        step = p.adc_resolution_v
        readings /= step
        _round(readings)
        readings *= step
        _round(readings, 9)
        pack = _round(readings.sum(axis=1), 6)
        current = self.sensed_current(current_a)
        ok = np.ones(n, dtype=bool)
        skip = (d.ignored_cells() if d.active else set()) | self._invalid_cells()
        keep = [i for i in range(self.cell_count) if i + 1 not in skip]
        skip_ntcs = (d.ignored_ntcs() if d.active else set()) | self.ntc_faulted
        kept_temps = [c for i, c in enumerate(temps) if i + 1 not in skip_ntcs]
        times_a = np.asarray(times[:n])
        timers: list[tuple[ProtectionState, str, np.ndarray]] = []
        # A span holds most inputs still: a protection of the current, the temperatures,
        # a fault flag judges one value for every scan, in plain Python, and only a
        # condition that holds (or a timer already running) becomes an array. The cells'
        # extremes per scan are taken once for all the cell rows.
        high = low = fets = None
        for prot in self.protections:
            row, st, par = prot.row, prot.state, prot.params
            src = row.source
            if not st.active and row.engine != "scan" and src != "pack":
                continue  # the front end's, between scans (`World._next_hardware_event`)
            value: np.ndarray | float
            if src == "cell" or src == "cell_spread":
                if not keep or (src == "cell_spread" and d.active and d.has("imbalance_ignored")):
                    continue
                if high is None or low is None:
                    high, low = _extremes(readings, keep)
                spread = src == "cell_spread"
                value = _round(high - low, 9) if spread else high if row.over else low
            elif src == "pack":
                value = pack
            elif src == "temperature":
                if not kept_temps:
                    continue
                value = max(kept_temps) if row.over else min(kept_temps)
            elif src == "fet_temperature":
                if fets is None:
                    held = np.full(n, self.fet_c) if fet_c is None else np.asarray(fet_c)[:n]
                    fets = np.round(held, 1)  # `held` may be the caller's: not in place
                value = fets
            elif src == "open_wire":
                value = 1.0 if found else 0.0
            elif src == "ntc_fault":
                value = 1.0 if self.ntc_faulted else 0.0
            else:
                value = max(current, 0.0) if src == "charge_current" else max(-current, 0.0)
            threshold = prot.threshold(d)
            if src == "pack":  # summed here by numpy, in the scan by Python: keep clear of ties
                ok &= np.abs(value - threshold) > 1e-5
                ok &= np.abs(value - par.release) > 1e-5
            if not st.active:
                if row.engine == "scan":
                    tripping = value >= threshold - EPS if row.over else value <= threshold + EPS
                    if st.first_seen is None and not _any(tripping):
                        continue  # never seen, not seen now: its timer stays off
                    fires, since = _timer(_span(tripping, n), times_a, st.first_seen, prot.delay(d))
                    if fires is not None and since is not None:
                        ok &= ~fires
                        timers.append((st, "first_seen", since))
                continue
            if par.latching or d.latches(row.name) or d.blocks_release(row.name):
                continue
            mode = prot.recovery()
            if mode == "timer":
                assert st.tripped_at is not None
                ok &= times_a - st.tripped_at < par.release_delay_s - EPS
                continue
            if mode == "level":
                release = threshold if d.no_hysteresis(row.name) else par.release
                past = value < release - EPS if row.over else value > release + EPS
            else:  # released once the charger is gone
                past = not charger_present
            if st.release_seen is None and not _any(past):
                continue
            fires, since = _timer(_span(past, n), times_a, st.release_seen, par.release_delay_s)
            if fires is not None and since is not None:
                ok &= ~fires
                timers.append((st, "release_seen", since))
        ok &= self._masks(readings, current) == self.balance_bits
        idle = self.board.idle(current)
        never = d.active and d.has("never_sleeps")
        if idle and not never and self.params.board.sleep_after_s > 0:
            assert self.board.idle_since is not None
            ok &= times_a - self.board.idle_since < self.params.board.sleep_after_s - 1e-9
        k = n if ok.all() else int(np.argmin(ok))
        if k == 0:
            return 0
        self._noise_ahead = self._noise_ahead[k:]
        for prot in self.protections:
            prot.state.first_seen = None
            prot.state.release_seen = None
        for st, name, since in timers:  # a delay still counting at the last skipped scan
            held = since[k - 1]
            setattr(st, name, None if np.isnan(held) else float(held))
        self.last_scan_t, self.next_scan_t = times[k - 1], times[k]
        if not idle:
            self.board.activity(times[k - 1])
        return k

    def _masks(self, readings: np.ndarray, current: float) -> np.ndarray:
        """The balance mask each row of readings gives (see simlab.firmware.balance)."""
        b = self.params.balance
        if not b.enabled or (b.only_charging and current < b.charge_detect_a - EPS):
            return np.zeros(len(readings), dtype=np.int64)
        if readings.max() < b.start_v - EPS:  # no cell high enough to balance, any scan
            return np.zeros(len(readings), dtype=np.int64)
        low = _extremes(readings)[1][:, np.newaxis]
        on = (readings >= b.start_v - EPS) & (readings - low > b.window_v + EPS)
        for cell in self.defects.never_balanced():
            on[:, cell - 1] = False
        return on.astype(np.int64) @ (np.int64(1) << np.arange(self.cell_count, dtype=np.int64))

    # -- outputs -----------------------------------------------------------------------

    def protection(self, name: str) -> Protection:
        return self._by_name[name]

    def afe_setting(self, name: str) -> tuple[float, float]:
        """(threshold A of true current, delay s) the front end applies for `name`,
        defects included: with `wrong_ocd_level` the second level is programmed with the
        first level's delay; a current-sense gain error moves the true-current threshold."""
        prot = self._by_name[name]
        if not self.defects.active:  # every look between scans asks: the plain settings
            par = prot.params  # (a current threshold is > 0: no offset's + 0.0 to keep)
            return par.threshold / self.params.current_gain, par.delay_s
        delay = prot.delay(self.defects)
        if name == "discharge_oc2" and self.defects.has("wrong_ocd_level"):
            delay = self.protection("discharge_oc1").delay(self.defects)
        # the comparator sees the shunt's voltage: a shunt off by a gain moves the trip
        gain = self.params.current_gain * (
            self.defects.current_gain() if self.defects.active else 1
        )
        return prot.threshold(self.defects) / gain, delay

    def afe_protections(self) -> list[Protection]:
        """Front-end protections that can trip now (the board runs, not already tripped)."""
        if not self.running:
            return []
        return [p for p in self._afe if not p.state.active]

    def afe_trip(self, name: str, t: float, value_a: float) -> None:
        """The front end opened the FET at `t` (exact, between scans)."""
        self.events.append(self.protection(name).afe_trip(t, value_a))

    def active_protections(self) -> list[str]:
        return [prot.row.name for prot in self.protections if prot.state.active]

    @property
    def protection_bits(self) -> int:
        hidden = self.defects.unreported()
        bits = 0
        for prot in self.protections:
            if prot.state.active and prot.row.reported not in hidden:
                bits |= 1 << prot.row.bit
        return bits

    def _fet_opened(self, fet: str) -> bool:
        for prot in self.protections:
            if not prot.state.active:
                continue
            if prot.row.fet in (fet, "both"):
                return True
            if (
                fet == "discharge"
                and prot.row.name == "charge_ut"
                and self.defects.has("utc_cuts_discharge")
            ):
                return True
        return False

    @property
    def charge_fet(self) -> bool:
        """What the firmware drives (and reports); no gate drive while off or booting."""
        if not self.running:
            return False
        if self.defects.has("stuck_charge_fet"):
            return True
        return not (self._fet_opened("charge") or self.sw_disable_charge)

    @property
    def discharge_fet(self) -> bool:
        if not self.running:
            return False
        if self.defects.has("stuck_discharge_fet"):
            return True
        return not (self._fet_opened("discharge") or self.sw_disable_discharge)

    def bleeding(self) -> set[int]:
        """Cell positions (1-based) whose bleed resistor conducts now: the mask of the
        last scan while the board runs, through the bleed hardware (defects)."""
        return bleeding(self.balance_bits if self.running else 0, self.cell_count, self.defects)

    @property
    def reported_balance_bits(self) -> int:
        return 0 if self.defects.has("unreported_balance") else self.balance_bits

    @property
    def cycles(self) -> int:
        return int(self.discharged_ah / self.full_ah + EPS)

    @property
    def soc(self) -> float:
        return min(self.remaining_ah / self.full_ah, 1.0)

    def status(self) -> BmsStatus:
        return BmsStatus(
            pack_v=self.pack_reading,
            current_a=self.current_a,
            remaining_ah=self.remaining_ah,
            full_ah=self.full_ah,
            cycles=self.cycles,
            production_date=self.PRODUCTION_DATE,
            balance_bits=self.reported_balance_bits,
            protection_bits=self.protection_bits,
            software_version=self.SOFTWARE_VERSION,
            soc_pct=round(self.soc * 100),
            charge_fet=self.charge_fet,
            discharge_fet=self.discharge_fet,
            cells_v=masked_cells(self.readings, self.open_found),
            temps_c=self.reported_temps(),
            device_name=self.params.device_name,
        )

    def reported_temps(self) -> list[float]:
        """The NTC readings as reported (an input found faulty as `NTC_INVALID_C`), then
        the FET sensor's if the board has one."""
        temps = [
            NTC_INVALID_C if i + 1 in self.ntc_faulted else c for i, c in enumerate(self.temps_c)
        ]
        if self.params.board.fet_sensor:
            temps.append(round(self.fet_temperature(), 1))
        return temps
