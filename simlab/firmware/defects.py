"""Injectable firmware defects: the faults a test plan must be able to catch.

Each defect is a name, a one-line description and parameters with defaults. A spec
string selects one: `NAME` or `NAME:key=value,key=value` (e.g. `slow_ov_delay:factor=3`,
`adc_offset:offset_v=-0.02,cell=5`). The firmware model asks a `DefectSet` how to bend
its behaviour; nothing else knows defects exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simlab.params import program


@dataclass(frozen=True)
class DefectKind:
    name: str
    description: str
    defaults: dict[str, float | int | str] = field(default_factory=dict)
    # What the defect bends, so the firmware asks by protection and never by defect name:
    # effect "delay" (× factor), "threshold" (+ offset), "release" (never), "latch",
    # "hysteresis" (none); `protection` fixes the target, else the `protection` parameter
    # names it; `sign` and `value` say how the parameter enters.
    effect: str = ""
    protection: str = ""
    sign: float = 1.0
    value: str = ""


def _per_protection(
    name: str, effect: str, description: str, example: str, **extra: float | int
) -> DefectKind:
    defaults: dict[str, float | int | str] = {"protection": example, **extra}
    value = next(iter(extra), "")
    return DefectKind(name, description, defaults, effect=effect, value=value)


CATALOGUE: dict[str, DefectKind] = {
    k.name: k
    for k in (
        # --- any protection in the firmware's table, named by `protection=` ---------------
        _per_protection(
            "delay_too_long",
            "delay",
            "the protection's trip delay multiplied by factor",
            "discharge_oc1",
            factor=3.0,
        ),
        _per_protection(
            "threshold_off",
            "threshold",
            "the protection's threshold moved by offset (V, A or °C, as the protection)",
            "charge_oc",
            offset=2.0,
        ),
        _per_protection(
            "release_blocked", "release", "the protection never releases once tripped", "charge_ot"
        ),
        _per_protection(
            "latches",
            "latch",
            "the protection latches (only a power cycle clears it) where it should recover",
            "discharge_oc1",
        ),
        _per_protection(
            "no_hysteresis",
            "hysteresis",
            "the protection releases at its trip threshold, not at its release threshold",
            "charge_ot",
        ),
        # --- the same effects with the target fixed: the catalogue's familiar names --------
        DefectKind(
            "slow_ov_delay",
            "cell OV trip delay multiplied by factor",
            {"factor": 2.0},
            effect="delay",
            protection="cell_ov",
            value="factor",
        ),
        DefectKind(
            "slow_uv_delay",
            "cell UV trip delay multiplied by factor",
            {"factor": 2.0},
            effect="delay",
            protection="cell_uv",
            value="factor",
        ),
        DefectKind(
            "slow_short_circuit",
            "short-circuit response (front-end delay) multiplied by factor",
            {"factor": 3.0},
            effect="delay",
            protection="short_circuit",
            value="factor",
        ),
        DefectKind(
            "ov_threshold_high",
            "cell OV threshold raised by offset_v",
            {"offset_v": 0.05},
            effect="threshold",
            protection="cell_ov",
            value="offset_v",
        ),
        DefectKind(
            "uv_threshold_low",
            "cell UV threshold lowered by offset_v",
            {"offset_v": 0.05},
            effect="threshold",
            protection="cell_uv",
            sign=-1.0,
            value="offset_v",
        ),
        DefectKind(
            "no_ov_release",
            "cell OV never releases once tripped",
            effect="release",
            protection="cell_ov",
        ),
        DefectKind(
            "no_uv_release",
            "cell UV never releases once tripped",
            effect="release",
            protection="cell_uv",
        ),
        # --- defects with their own behaviour ------------------------------------------
        DefectKind("ignored_cell", "cell N is never evaluated for protection", {"cell": 16}),
        DefectKind(
            "ignored_ntc",
            "NTC input N is never evaluated by the temperature protections",
            {"ntc": 2},
        ),
        DefectKind(
            "wrong_ocd_level",
            "currents above the OCD2 threshold get OCD1's delay: level 2 is no faster",
        ),
        DefectKind(
            "utc_cuts_discharge",
            "the low-temperature charge cut-off also opens the discharge FET",
        ),
        DefectKind(
            "adc_offset",
            "ADC readings offset by offset_v (every cell, or only cell=N)",
            {"offset_v": 0.03, "cell": 0},
        ),
        DefectKind("stuck_charge_fet", "charge FET stays on even when a protection trips"),
        DefectKind("stuck_discharge_fet", "discharge FET stays on even when a protection trips"),
        DefectKind(
            "welded_charge_fet",
            "charge FET conducts although the firmware turns it off and reports it off",
        ),
        DefectKind(
            "welded_discharge_fet",
            "discharge FET conducts although the firmware turns it off and reports it off",
        ),
        DefectKind(
            "unreported_flag",
            "the FETs act on the protection, but its status bit is never reported",
            {"protection": "cell_ov"},
        ),
        # --- balancing: the firmware's mask, and what the bleed hardware does -----------
        DefectKind(
            "no_balance",
            "cell N is never balanced: the firmware neither bleeds it nor reports it",
            {"cell": 5},
        ),
        DefectKind(
            "open_bleed",
            "cell N's bleed resistor is open: the firmware balances and reports it, "
            "no current flows",
            {"cell": 5},
        ),
        DefectKind(
            "wrong_balance_cell",
            "the bleed switch of cell N drives cell `other`'s resistor: the mask says N, "
            "the other cell bleeds",
            {"cell": 5, "other": 6},
        ),
        DefectKind(
            "balance_stuck_on",
            "cell N's bleed switch is shorted: it bleeds always, and the mask never says so",
            {"cell": 5},
        ),
        DefectKind(
            "unreported_balance",
            "the cells bleed as they should, but the balance mask always reads 0",
        ),
        # --- coulomb counting ------------------------------------------------------------
        DefectKind(
            "coulomb_gain",
            "the coulomb counter's calibration gain is off: charge is counted x factor",
            {"factor": 1.1},
        ),
        DefectKind(
            "coulomb_offset",
            "the coulomb counter integrates an offset current (A, + charging): it counts "
            "while the pack is idle",
            {"offset_a": 0.2},
        ),
        DefectKind(
            "wrong_capacity",
            "the board's full capacity is factor x its programmed value (a bad learned "
            "capacity): the reported full capacity and the SoC follow it",
            {"factor": 0.8},
        ),
        # --- current sense and temperature sense ---------------------------------------
        DefectKind(
            "current_gain",
            "the current sense reads factor x the true current (a shunt off its value): "
            "reported current and every current protection's trip point follow it",
            {"factor": 1.1},
        ),
        DefectKind(
            "current_offset",
            "the current reading carries an offset (A, + charging): the reported current "
            "and the firmware's current protections follow it",
            {"offset_a": 0.8},
        ),
        DefectKind(
            "ntc_mismatch",
            "the board reads NTC N (0: all) with the wrong curve (beta_k, r25_ohm; 0 keeps "
            "the board's own): every temperature it reports and protects on is off",
            {"ntc": 0, "beta_k": 3950.0, "r25_ohm": 0.0},
        ),
        DefectKind(
            "adc_gain",
            "every cell reading is factor x the true voltage (the ADC's reference off): the "
            "error grows across the cell range, small at one level, large at its ends",
            {"factor": 1.006},
        ),
        # --- the board's own wiring and sensors ----------------------------------------
        DefectKind(
            "open_wire_undetected",
            "the front end never runs its open-wire check: an open sense lead reads as the "
            "mean of its neighbours, a plausible wrong voltage, and nothing trips",
        ),
        DefectKind(
            "open_ntc_reads_cold",
            "no sensor check: an open NTC line reads as the cold rail (-40 °C), a shorted "
            "one as the hot rail, reported as temperatures; only the temperature limits act",
        ),
        DefectKind(
            "open_ntc_reads_plausible",
            "no sensor check, and an input beyond its range holds its last valid reading: "
            "an open or shorted NTC reads as a plausible temperature and nothing trips",
        ),
        DefectKind(
            "imbalance_ignored",
            "the firmware never compares its cells with each other: no imbalance protection",
        ),
        # --- the board's consumption, sleep and heat --------------------------------------
        DefectKind(
            "standby_current_high",
            "the board draws factor x its datasheet current in every state (a leaking regulator)",
            {"factor": 10.0},
        ),
        DefectKind("never_sleeps", "the board never falls asleep, whatever its idle timer"),
        DefectKind(
            "hot_fets",
            "the FETs' on-resistance is factor x the board's design (wrong or degraded "
            "parts): they run hotter at the same current",
            {"factor": 3.0},
        ),
        # --- towards the inverter (CAN) ---------------------------------------------------
        DefectKind(
            "derating_ignored",
            "the charge and discharge current limits the BMS broadcasts ignore its derating "
            "table: full limits whatever the temperature and state of charge",
        ),
        DefectKind(
            "lost_link_unsignalled",
            "the BMS goes on as before when the inverter's keep-alive stops: no warning, "
            "charging still allowed",
        ),
        DefectKind(
            "swapped_wiring",
            "bench miswired: the sense leads of cell positions a and b are swapped at the BMS",
            {"a": 1, "b": 5},
        ),
    )
}


@dataclass(frozen=True)
class Defect:
    """One active defect: its kind's name and its resolved parameters."""

    name: str
    params: dict[str, float | int | str]

    def spec(self) -> str:
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v}" for k, v in self.params.items())


def parse_defect(spec: str) -> Defect:
    """`NAME[:key=value,...]` → Defect; ValueError naming the catalogue or the keys."""
    name, _, rest = spec.strip().partition(":")
    kind = CATALOGUE.get(name.strip())
    if kind is None:
        raise ValueError(
            f"unknown defect {name.strip()!r}; available: {', '.join(CATALOGUE)} "
            f"(`{program()} defects` describes each)"
        )
    params = dict(kind.defaults)
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in kind.defaults:
            valid = ", ".join(kind.defaults) or "none"
            raise ValueError(f"defect {kind.name}: bad parameter {item!r}; parameters: {valid}")
        default = kind.defaults[key]
        if isinstance(default, str):
            params[key] = raw.strip()
            continue
        try:
            params[key] = int(raw) if isinstance(default, int) else float(raw)
        except ValueError:
            raise ValueError(f"defect {kind.name}: {key} must be a number, got {raw!r}") from None
    return Defect(kind.name, params)


class DefectSet:
    """The active defects, answering the questions the firmware model asks."""

    def __init__(self) -> None:
        self.active: list[Defect] = []

    def add(self, defect: Defect) -> None:
        self.active.append(defect)

    def clear(self) -> None:
        self.active.clear()

    def _all(self, name: str) -> list[Defect]:
        return [d for d in self.active if d.name == name]

    def has(self, name: str) -> bool:
        return bool(self._all(name))

    def _targeting(self, effect: str, protection: str) -> list[tuple[Defect, DefectKind]]:
        """Active defects with `effect` on `protection` (fixed by the kind or a parameter)."""
        out: list[tuple[Defect, DefectKind]] = []
        for d in self.active:
            kind = CATALOGUE[d.name]
            if kind.effect != effect:
                continue
            target = kind.protection or str(d.params.get("protection", ""))
            if target == protection:
                out.append((d, kind))
        return out

    def delay_factor(self, protection: str) -> float:
        if not self.active:
            return 1.0
        factor = 1.0
        for d, kind in self._targeting("delay", protection):
            factor *= float(d.params[kind.value])
        return factor

    def threshold_offset(self, protection: str) -> float:
        if not self.active:
            return 0.0
        return sum(
            kind.sign * float(d.params[kind.value])
            for d, kind in self._targeting("threshold", protection)
        )

    def blocks_release(self, protection: str) -> bool:
        return bool(self._targeting("release", protection))

    def latches(self, protection: str) -> bool:
        return bool(self._targeting("latch", protection))

    def no_hysteresis(self, protection: str) -> bool:
        return bool(self._targeting("hysteresis", protection))

    def ignored_ntcs(self) -> set[int]:
        """1-based NTC inputs the temperature protections skip."""
        return {int(d.params["ntc"]) for d in self._all("ignored_ntc")}

    def targets(self) -> list[tuple[str, str]]:
        """(defect name, protection) of every per-protection defect, for validation."""
        return [
            (d.name, str(d.params["protection"]))
            for d in self.active
            if CATALOGUE[d.name].effect and not CATALOGUE[d.name].protection
        ]

    def welded(self, fet: str) -> bool:
        """The bench FET conducts whatever the firmware commands ("charge" | "discharge")."""
        return self.has(f"welded_{fet}_fet")

    def unreported(self) -> set[str]:
        """Protections whose status bit the firmware never sets."""
        return {str(d.params["protection"]) for d in self._all("unreported_flag")}

    def wiring_swaps(self) -> list[tuple[int, int]]:
        """1-based position pairs whose sense leads are swapped at the BMS connector."""
        return [(int(d.params["a"]), int(d.params["b"])) for d in self._all("swapped_wiring")]

    def ignored_cells(self) -> set[int]:
        """1-based positions the protection engine skips."""
        return {int(d.params["cell"]) for d in self._all("ignored_cell")}

    def never_balanced(self) -> set[int]:
        """Positions the firmware's balancing never selects."""
        return {int(d.params["cell"]) for d in self._all("no_balance")}

    def open_bleeds(self) -> set[int]:
        return {int(d.params["cell"]) for d in self._all("open_bleed")}

    def stuck_bleeds(self) -> set[int]:
        return {int(d.params["cell"]) for d in self._all("balance_stuck_on")}

    def balance_redirects(self) -> list[tuple[int, int]]:
        """(cell, other): cell's bleed switch drives other's resistor."""
        return [
            (int(d.params["cell"]), int(d.params["other"])) for d in self._all("wrong_balance_cell")
        ]

    def coulomb_gain(self) -> float:
        factor = 1.0
        for d in self._all("coulomb_gain"):
            factor *= float(d.params["factor"])
        return factor

    def coulomb_offset(self) -> float:
        return sum(float(d.params["offset_a"]) for d in self._all("coulomb_offset"))

    def current_gain(self) -> float:
        factor = 1.0
        for d in self._all("current_gain"):
            factor *= float(d.params["factor"])
        return factor

    def current_offset(self) -> float:
        return sum(float(d.params["offset_a"]) for d in self._all("current_offset"))

    def ntc_mismatches(self) -> list[tuple[int, float, float]]:
        """(NTC input, 0 = all; beta K or 0; R25 Ω or 0) the board reads with a wrong curve."""
        return [
            (int(d.params["ntc"]), float(d.params["beta_k"]), float(d.params["r25_ohm"]))
            for d in self._all("ntc_mismatch")
        ]

    def _factor(self, name: str) -> float:
        factor = 1.0
        for d in self._all(name):
            factor *= float(d.params["factor"])
        return factor

    def adc_gain(self) -> float:
        return self._factor("adc_gain")

    def standby_factor(self) -> float:
        return self._factor("standby_current_high")

    def fet_r_factor(self) -> float:
        return self._factor("hot_fets")

    def capacity_factor(self) -> float:
        factor = 1.0
        for d in self._all("wrong_capacity"):
            factor *= float(d.params["factor"])
        return factor

    def adc_offsets(self, cell_count: int) -> list[float]:
        offsets = [0.0] * cell_count
        for d in self._all("adc_offset"):
            cell = int(d.params["cell"])
            for i in range(cell_count):
                if cell == 0 or cell == i + 1:
                    offsets[i] += float(d.params["offset_v"])
        return offsets
