"""The defect matrix: every defect in simlab's catalogue against every plan.

For each defect `python -m simlab defects` lists (with its default parameters), runs
`rig run` on the default station with that defect injected, on a reduced spec (cell 16,
NTC 2, no pack-level protections: every other kind of plan once, at the positions the
defaults target; 35 plans), and checks two things from the run's own results store:

- caught: every plan the defect targets failed (a FAIL verdict, not an error);
- contained: every other plan passed, so the recovery procedure between plans kept one
  broken protection from spilling into the rest.

A miswired bench (`swapped_wiring`) is caught before any plan, by the station's pin
check: nothing is measured (a station without one, with no cell emulators or a link
without cell voltages, has nothing that observes it). A defect no plan targets yet (none
today) must leave every plan passing, and is counted apart. A run without a defect comes
first, all plans passing. Defects whose default position lies outside the reduced spec
run at cell 16 (`ARGS`). On a station that cannot power-cycle the BMS (a real module
powers it, and no relay in its supply feed, `wiring.dut_supply`, can cut it), a defect
that leaves it tripped for good (a blocked release, a latch) keeps the plans after its
own from starting: the bench cannot contain it, and the matrix says so instead of
calling it a spill.

`--witnesses` runs, per defect, only the plans it targets and one cheap plan of every
other kind (`WITNESSES`): every other protection is still shown measured after the
defect, at about half the cost; the test runs it that way to stay within the suite's
time, the benchmark runs every plan by default.

`--station` runs the matrix on another station, `--all-stations` on every shipped 16S
one. There a defect counts in the mutation score (caught and contained / defects) only
where a plan can observe it: not where every plan it targets is not applicable (the
run's own reasons are printed), nor where its only evidence is the BMS's word through a
capability the station's link lacks (`HEARD_THROUGH`: the plans judge that word only
where the link carries it). A plan a station's accuracy cannot decide for a defect
(`UNDECIDED`, with the reason) must end conditional there and is not counted as
catching it. Each defect left out is printed with its reason, and its run must still
leave every plan passing.

Prints one line per defect and the count (defects caught / defects), then the mutation
score; exit code 0 only when every defect in the score is caught and contained and the
others disturb no plan. tests/e2e/test_defect_matrix.py runs the same matrix on one
defect of each mechanism (`SUITE`), the witnesses' way. Runs go two at a time (virtual
time: concurrency changes no result).
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from dut_drivers.base import Capability  # noqa: E402
from dut_drivers.registry import PROTOCOLS  # noqa: E402
from rig.config import StationConfig, load_station  # noqa: E402
from rig.paths import DEFAULT_STATION  # noqa: E402
from rig.results import read_records  # noqa: E402
from simlab.firmware.defects import CATALOGUE  # noqa: E402

SPEC = REPO / "specs" / "jbd-16s-lfp.yaml"
REDUCED = {"cells_under_test": [16], "ntcs_under_test": [2]}
DROPPED = ("pack_ov", "pack_uv")

_CELL_OV = ("test_cell_ov_*",)
_CELL_UV = ("test_cell_uv_*",)
# the plans that must see the charge (discharge) path cut: a stuck or welded FET fails them
_FAULTS = ("test_sense_wire_open", "test_ntc_open_and_short")
_CHARGE = (*_CELL_OV, "test_charge_oc_*", "test_charge_ot_*", "test_charge_ut_*",
           "test_cell_imbalance_*", *_FAULTS)  # fmt: skip
_DISCHARGE = (*_CELL_UV, "test_discharge_oc*", "test_short_circuit*", "test_discharge_ot_*",
              "test_discharge_ut_*", *_FAULTS)  # fmt: skip

_BLEED = ("test_balance_current", "test_balance_start_and_window")

# defect -> the plans it must fail (fnmatch patterns on the plan's name and parameters);
# every other plan must pass. None: the run must stop at the station checks.
EXPECTED: dict[str, tuple[str, ...] | None] = {
    "delay_too_long": ("test_discharge_oc_delays_and_recovery",),  # OCD1 x3
    "threshold_off": ("test_charge_oc_*",),  # OCC +2 A: never trips within the search
    "release_blocked": ("test_charge_ot_threshold_and_release*",),
    "latches": ("test_discharge_oc_delays_and_recovery",),  # OCD1 latches
    "no_hysteresis": ("test_charge_ot_threshold_and_release*",),
    "slow_ov_delay": ("test_cell_ov_trip_delay*",),
    "slow_uv_delay": ("test_cell_uv_trip_delay*",),
    "slow_short_circuit": ("test_short_circuit",),
    "ov_threshold_high": ("test_cell_ov_threshold_and_release*",),
    "uv_threshold_low": ("test_cell_uv_threshold_and_release*",),
    "no_ov_release": ("test_cell_ov_threshold_and_release*",),
    "no_uv_release": ("test_cell_uv_threshold_and_release*",),
    # the ignored cell is left out of the spread too: lowered, it shows no imbalance
    "ignored_cell": (
        "test_cell_ov_*[[]cell16]",
        "test_cell_uv_*[[]cell16]",
        "test_cell_imbalance_*",
    ),
    "ignored_ntc": ("test_*[[]ntc2]",),
    # level 2 gets level 1's delay: its pulses no longer trip it, its delay is level 1's
    "wrong_ocd_level": ("test_discharge_oc2_threshold", "test_discharge_oc_delays_and_recovery"),
    # discharging stops at 0 °C: charge UT's "discharge continues", and discharge UT's
    # search, which starts below 0 °C with the discharge path already cut
    "utc_cuts_discharge": (
        "test_charge_ut_threshold_and_release*",
        "test_discharge_ut_threshold_and_release*",
    ),
    # every reading 30 mV high: each cell threshold, the reading check, and balancing (the
    # BMS bleeds on its own reading: its start voltage, and a bleed one step below it)
    "adc_offset": (
        "test_cell_ov_threshold_and_release*",
        "test_cell_uv_threshold_and_release*",
        "test_cell_voltage_reporting",
        "test_balance_current",
        "test_balance_start_and_window",
    ),
    "stuck_charge_fet": _CHARGE,
    "stuck_discharge_fet": _DISCHARGE,
    # welded across, the charge FET ties the pack to P+: the board cannot tell a charger
    # arriving (no wake-up on it), and the standby plan's sleep and wake-up fail too
    "welded_charge_fet": (*_CHARGE, "test_standby_and_sleep"),
    "welded_discharge_fet": _DISCHARGE,
    "unreported_flag": ("test_cell_ov_*",),  # cell_ov's flag, at its threshold and its delay
    # balancing, at cell 16 (ARGS): the bleed current, where it flows, the mask; the start
    # and window are searched on cell 16 too, so a bleed that never shows there fails them
    "no_balance": _BLEED,
    "open_bleed": _BLEED,
    "wrong_balance_cell": _BLEED,
    "balance_stuck_on": ("test_balance_current",),  # cell 5 bleeds while 16 is tested
    "unreported_balance": ("test_balance_current",),
    # the coulomb counter: a gain error miscounts both ways; an offset counts while idle
    # (the counted errors land at their limit: conditional, not failed); a wrong full
    # capacity fails the capacity check and moves the SoC points both ways
    "coulomb_gain": ("test_soc_charge", "test_soc_discharge"),
    "coulomb_offset": ("test_soc_idle",),
    "wrong_capacity": ("test_soc_charge", "test_soc_discharge"),
    # the current sense: a gain moves every current protection's trip point (the front
    # end's too) and the reported current; an offset moves the firmware's levels (the
    # charge one out of its band, the discharge one inside it) and the reported current
    "current_gain": (
        "test_charge_oc_threshold",
        "test_discharge_oc1_threshold",
        "test_discharge_oc2_threshold",
        "test_current_reporting",
    ),
    # 0.8 A read where none flows: the board never sees itself idle, so it never sleeps
    "current_offset": (
        "test_charge_oc_threshold",
        "test_current_reporting",
        "test_standby_and_sleep",
    ),
    # every NTC read through a 3950 K curve: each temperature threshold moves out of its
    # band (beyond the search's margin, so some never trip), the readings are off
    "ntc_mismatch": (
        "test_charge_ot_*",
        "test_charge_ut_threshold_and_release*",
        "test_discharge_ot_*",
        "test_discharge_ut_*",
        "test_temperature_reporting",
    ),
    "swapped_wiring": None,
    # a reading gain: every cell reads 0.6 % high, 16 to 22 mV across the sweep (the
    # balancing start voltage it moves lands on its band's edge: conditional, not failed)
    "adc_gain": ("test_cell_voltage_reporting",),
    # the board's own wiring and sensors
    "open_wire_undetected": ("test_sense_wire_open",),
    "open_ntc_reads_cold": ("test_ntc_open_and_short",),
    "open_ntc_reads_plausible": ("test_ntc_open_and_short",),
    "imbalance_ignored": ("test_cell_imbalance_*",),
    # standby and sleep
    "standby_current_high": ("test_standby_and_sleep",),
    "never_sleeps": ("test_standby_and_sleep",),
    # heating (not applicable on the default bench: see CONFIGS)
    "hot_fets": ("test_fet_heating",),
    # towards the inverter (a CAN station: see CONFIGS)
    "derating_ignored": ("test_inverter_temperature_derating",),
    "lost_link_unsignalled": ("test_inverter_lost_link",),
}
# Defects whose only evidence is what the BMS reports through one capability of its link
# (its balance mask, its protection flags): the plans judge that word only where the
# station's protocol carries it (the balancing plan asks for the mask only then), so on a
# station whose link lacks it no plan can observe the defect. It counts as having no
# plan there, not as missed, and its run must still leave every plan passing.
HEARD_THROUGH: dict[str, Capability] = {
    "unreported_balance": Capability.balancing,
    "unreported_flag": Capability.protections,
}
# What a station's accuracy cannot decide: (station file, defect) -> {targeted plan: why}.
# There the plan must end CONDITIONAL (the defect moves its value to where the station's
# uncertainty still reaches the band: seen, not decided) and it does not count as
# catching the defect: the defect is caught only if its other targeted plans failed, and
# is counted apart, as one the station cannot decide, if no other plan is left. Anywhere
# else a targeted plan that does not fail is a miss, conditional or not. The defect ""
# is the run without one: a plan named there may end conditional on the defect-free BMS.
_PSB_DRAW = (
    "the BMS's draw flows out of the EA PSB 10060-120, read to ±0.24 A (0.2 % of its "
    "rating): ±0.28 A against the draw's 20 mA (awake) and 0.2 mA (asleep) limits, and "
    "the 7.6 mA between them that tells asleep from awake"
)
_RP7952A_DRAW = (
    "the BMS's draw flows out of the RP7952A battery simulator, read to ±(0.04 % + 30 mA): "
    "±35 mA against the draw's 20 mA (awake) and 0.2 mA (asleep) limits, and the 7.6 mA "
    "between them that tells asleep from awake"
)
# Where the draw's band reaches across the level between asleep and awake, no reading
# shows the BMS asleep or awake: a board that never sleeps, or does not wake, leaves the
# standby plan conditional there (its other plans, where it has any, still fail it).
_SLEEP = ("never_sleeps", "current_offset", "welded_charge_fet")
UNDECIDED: dict[tuple[str, str], dict[str, str]] = {
    ("sim-16s-n83624.yaml", ""): {
        "test_standby_and_sleep": (
            "the N83624 reads a channel's current to ±(0.1 % + 5 mA) on its one range: "
            "±5.8 mA against the draw's 20 mA (awake) and 0.2 mA (asleep) limits; a "
            "draw ten times too high, or no sleep, it still fails (awake and asleep "
            "readings lie wholly either side of the 7.6 mA between them)"
        ),
    },
    ("sim-16s-rp7952a.yaml", ""): {
        "test_standby_and_sleep": f"{_RP7952A_DRAW}; a draw ten times too high it still fails"
    },
    **{("sim-16s-rp7952a.yaml", d): {"test_standby_and_sleep": _RP7952A_DRAW} for d in _SLEEP},
    ("sim-16s-psb.yaml", ""): {"test_standby_and_sleep": _PSB_DRAW},
    ("sim-16s-psb.yaml", "standby_current_high"): {"test_standby_and_sleep": _PSB_DRAW},
    **{("sim-16s-psb.yaml", d): {"test_standby_and_sleep": _PSB_DRAW} for d in _SLEEP},
    ("sim-16s-dg822.yaml", "current_gain"): {
        "test_charge_oc_threshold": (
            "the DG822's 5 mV offset is 0.2 A through its 25:1 divider and the 1 mOhm "
            "shunt: the chain's U at the trip the gain moves (8 A / 1.1 = 7.27 A) still "
            "reaches the band's low edge, 7.6 A"
        ),
    },
}
# Defects whose targeted plans the default bench cannot serve, run on a configuration
# that can: a station, spec changes (dotted paths) and simlab settings. Each such run
# holds the targeted plans only, and the same configuration runs once without a defect
# (every one of its plans passing).
CONFIGS: dict[str, dict[str, object]] = {
    # a heat run of 2.5 A (what the emulated cells carry) on a board whose FETs dissipate
    # 1.8 W there (as 15 A through 8 mOhm would) on 15 K/W: a 27 K rise
    "hot_fets": {
        "spec": {
            "heating.current_a": 2.5,
            "heating.rise_c": {"nominal": 27.0, "low": 0.0, "high": 40.0},
        },
        "sets": [
            "physics.fet.r_on_ohm=0.288",
            "physics.fet.rth_k_w=15",
            "physics.fet.tau_s=300",
        ],
        "select": ["test_fet_heating"],
    },
    "derating_ignored": {
        "station": "stations/sim-16s-pylon-can.yaml",
        "select": [
            "test_inverter_temperature_derating",
            "test_inverter_lost_link",
            "test_inverter_protection_event",
        ],
    },
    "lost_link_unsignalled": {
        "station": "stations/sim-16s-pylon-can.yaml",
        "select": [
            "test_inverter_temperature_derating",
            "test_inverter_lost_link",
            "test_inverter_protection_event",
        ],
    },
}
# The framework's test suite runs one defect of each mechanism (the suite must stay within
# its time on a 2-core machine), less those another e2e test already fails through their
# plans (named below); this benchmark runs them all, caught and contained. A defect that bends the
# firmware the same way as one here (another protection's delay, threshold or release,
# the other FET, another bleed fault) is proven by the benchmark.
SUITE = (
    "delay_too_long",  # a protection's delay: the generic engine (slow_ov/uv_delay alike)
    "uv_threshold_low",  # a threshold (threshold_off, ov_threshold_high alike)
    "release_blocked",  # a release (no_ov/uv_release alike)
    # no_hysteresis, latches: a release (the benchmark)
    "slow_short_circuit",  # the front end's delay, timed from a capture
    # ignored_cell: tests/e2e/test_rig_run.py
    "ignored_ntc",
    "wrong_ocd_level",
    # utc_cuts_discharge: a temperature protection on the wrong path (the benchmark)
    "adc_offset",
    # the FETs against the BMS's word (stuck_charge_fet: tests/e2e/test_rig_run.py;
    # welded_discharge_fet, unreported_flag: tests/e2e/test_verdicts.py) and the bleed
    # hardware (open_bleed, balance_stuck_on: tests/e2e/test_function_plans.py)
    # the coulomb counter (coulomb_offset, coulomb_gain, wrong_capacity):
    # tests/e2e/test_function_plans.py
    # the current sense (current_gain, current_offset): tests/e2e/test_proven_to_act.py
    "ntc_mismatch",
    # swapped_wiring: tests/e2e/test_verdicts.py (the pin check, before any plan)
    "adc_gain",  # the accuracy sweep
    "open_wire_undetected",  # the board's own wiring and sensors
    "open_ntc_reads_cold",  # (open_ntc_reads_plausible alike)
    "imbalance_ignored",
    "standby_current_high",  # standby and sleep (never_sleeps alike)
    "hot_fets",  # heating, on a configuration of its own
    "derating_ignored",  # the CAN node, on a station of its own (lost_link_unsignalled alike)
)
# Arguments other than the catalogue's defaults, to reach the reduced spec's positions.
ARGS = {
    "no_balance": "cell=16",
    "open_bleed": "cell=16",
    "wrong_balance_cell": "cell=16,other=15",
}
# One plan of every kind, cheap ones: with `witnesses=True` a defect's run is its targeted
# plans and these, so every other protection is still shown measured after it.
WITNESSES = (
    "test_cell_ov_trip_delay[cell16]",
    "test_cell_uv_trip_delay[cell16]",
    "test_cell_voltage_reporting",
    "test_current_reporting",
    "test_temperature_reporting",
    "test_balance_current",
    "test_soc_idle",
    "test_charge_oc_delay_and_recovery",
    "test_discharge_oc_delays_and_recovery",
    "test_short_circuit",
    "test_charge_ot_trip_delay[ntc2]",
    "test_charge_ut_trip_delay[ntc2]",
    "test_discharge_ot_trip_delay[ntc2]",
    "test_discharge_ut_trip_delay[ntc2]",
    "test_cell_imbalance_trip_delay",
)


@dataclass
class Outcome:
    defect: str
    returncode: int
    seconds: float
    plans: dict[str, str] = field(default_factory=dict)  # plan -> call outcome
    not_run: dict[str, str] = field(default_factory=dict)  # plan -> setup outcome
    failed_measurements: dict[str, list[str]] = field(default_factory=dict)
    measurements: int = 0
    pin_check_failed: bool = False
    pin_check: str | None = None  # its message; None: no pin check ran (no cells wired)
    pin_check_decides: bool = False  # an error-level check (not "not possible")
    expected: tuple[str, ...] | None = ()
    clean: bool = False  # a configuration's run without a defect (CONFIGS)
    conditional: dict[str, list[str]] = field(default_factory=dict)  # plan -> measurements
    undecidable: dict[str, str] = field(default_factory=dict)  # UNDECIDED on this station
    unheard: str = ""  # why no plan on this station can observe it (HEARD_THROUGH)
    not_applicable: dict[str, str] = field(default_factory=dict)  # plan -> why (the run's)
    resettable: bool = True  # the station can power-cycle the BMS (resets_the_bms)
    unready: set[str] = field(default_factory=set)  # setup/teardown: the BMS not ready

    def targeted(self, plan: str) -> bool:
        return any(fnmatch.fnmatchcase(plan, p) for p in self.expected or ())

    def undecided(self, plan: str) -> str:
        """Why this station cannot decide the plan (UNDECIDED), if the plan ended
        conditional as expected there; "" otherwise."""
        if self.plans.get(plan) != "passed" or plan not in self.conditional:
            return ""
        why = [w for p, w in self.undecidable.items() if fnmatch.fnmatchcase(plan, p)]
        return why[0] if why else ""

    @property
    def passes(self) -> bool:
        """Every plan passed with no measurement failed: a run without a defect. A plan
        may end conditional only where the station cannot decide it (UNDECIDED)."""
        if not self.plans or set(self.plans.values()) != {"passed"} or self.not_run:
            return False
        failed = any(
            len(names) != len(self.conditional.get(p, []))
            for p, names in self.failed_measurements.items()
        )
        return not failed and all(self.undecided(p) for p in self.conditional)

    @property
    def untargeted(self) -> bool:
        """No plan in the suite targets this defect (yet)."""
        return self.expected == ()

    @property
    def hits(self) -> list[str]:
        return [p for p in self.plans if self.targeted(p)]

    @property
    def missed(self) -> list[str]:
        """Targeted plans that did not fail (or nothing targeted ran); a plan this
        station cannot decide (UNDECIDED) is not missed when it ended conditional."""
        if self.expected is None:  # stopped by the station checks, nothing measured
            stopped = self.pin_check_failed and not self.plans and not self.measurements
            return [] if stopped else ["<station checks>"]
        if self.untargeted:
            return ["<no plan targets it>"]
        if not self.hits:
            return [f"<no plan matches {', '.join(self.expected or ())}>"]
        return [p for p in self.hits if self.plans[p] != "failed" and not self.undecided(p)]

    @property
    def undecided_all(self) -> bool:
        """Every targeted plan that ran ended conditional where this station cannot
        decide it: the defect is seen, not caught."""
        hits = self.hits if self.expected else []
        return bool(hits) and all(self.undecided(p) for p in hits)

    @property
    def spilled(self) -> list[str]:
        """Plans the defect does not target that did not pass, or did not start (save
        where the station cannot reset a BMS the defect leaves tripped: `unreset`)."""
        if self.expected is None:
            return []  # by design no plan starts on a miswired bench
        spilled = [p for p, o in self.plans.items() if not self.targeted(p) and o != "passed"]
        unreset = set(self.unreset)
        return spilled + [f"{p} (setup {o})" for p, o in self.not_run.items() if p not in unreset]

    @property
    def unreset(self) -> list[str]:
        """Plans that could not start or end because the BMS stayed tripped, on a station
        that cannot power-cycle it: what the bench cannot contain, not a spill."""
        return [] if self.resettable else [p for p in self.not_run if p in self.unready]

    @property
    def caught(self) -> bool:
        return not self.missed and not self.undecided_all

    @property
    def contained(self) -> bool:
        return not self.spilled


def reduced_spec(folder: Path, changes: dict[str, object] | None = None, name: str = "") -> Path:
    """The default spec on cell 16 and NTC 2 only (the positions the defaults target),
    without the pack-level protections (no defect targets them; they cost the most);
    `changes` set further fields by dotted path."""
    data = yaml.safe_load(SPEC.read_text())
    data["test_conditions"].update(REDUCED)
    for dropped in DROPPED:
        data["protections"].pop(dropped)
    for dotted, value in (changes or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    path = folder / f"matrix-spec{('-' + name) if name else ''}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


# Plan names that begin with another plan's name: `-k` matches substrings, so the shorter
# name alone would select the longer one too.
LONGER = ("test_short_circuit_threshold",)


def _keyword(plans: list[str]) -> str:
    """A `-k` expression selecting exactly these plans (name, and parameter if any)."""
    terms = []
    for plan in plans:
        name, _, param = plan.partition("[")
        unwanted = [f"not {x}" for x in LONGER if x != name and x.startswith(name)]
        parts = [name, *([param.rstrip("]")] if param else []), *unwanted]
        terms.append(f"({' and '.join(parts)})" if len(parts) > 1 else name)
    return " or ".join(terms)


def run_one(
    defect: str | None,
    spec: Path,
    runs: Path,
    select: list[str] | None = None,
    station: str | None = None,
    sets: list[str] | None = None,
    name: str | None = None,
) -> Outcome:
    args = [sys.executable, "-m", "rig", "run", "--no-report", "--no-db", "-q"]
    args += ["--runs-dir", str(runs)]
    args += ["--spec", str(spec)]
    if station is not None:
        args += ["--station", station]
    for item in sets or []:
        args += ["--sim-set", item]
    if defect is not None:
        arg = ARGS.get(defect)
        args += ["--sim-defect", f"{defect}:{arg}" if arg else defect]
    if select:
        args += ["-k", _keyword(select)]
    t0 = time.monotonic()
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False, timeout=600)
    seconds = time.monotonic() - t0
    name = name or defect or "(none)"
    out = Outcome(name, proc.returncode, seconds, expected=EXPECTED.get(defect or "", ()))
    where = Path(station or DEFAULT_STATION).name
    out.undecidable = UNDECIDED.get((where, defect or ""), {})
    out.unheard = unheard(defect or "", station)
    out.resettable = resets_the_bms(station)
    run_dirs = [d for d in runs.iterdir() if d.is_dir()] if runs.exists() else []
    if not run_dirs or not (run_dirs[0] / "results.jsonl").exists():  # it never began
        out.plans["<no run folder>" if not run_dirs else "<no results>"] = (
            proc.stdout[-500:] + proc.stderr[-500:]
        )
        return out
    for r in read_records(run_dirs[0]):
        if r["type"] == "test_result" and r["when"] == "call":
            out.plans[r["test"].split("::")[-1]] = r["outcome"]
        elif r["type"] == "test_result":  # a setup or teardown that did not pass
            out.not_run[r["test"].split("::")[-1]] = f"{r['when']} {r['outcome']}"
        elif r["type"] == "measurement":
            out.measurements += 1
            if r["verdict"] != "pass":
                plan = r["test"].split("::")[-1]
                out.failed_measurements.setdefault(plan, []).append(r["name"])
                if r["verdict"] == "conditional":
                    out.conditional.setdefault(plan, []).append(_reading(r))
        elif r["type"] == "recovery" and not r["ready"]:
            out.unready.add(r["test"].split("::")[-1])
        elif r["type"] == "not_applicable":
            out.not_applicable[r["test"].split("::")[-1]] = r["reason"]
        elif r["type"] == "station_check" and r["check"] == "pin":
            out.pin_check_failed = not r["ok"]
            out.pin_check = r["message"]
            out.pin_check_decides = r.get("severity") == "error"
    return out


def _reading(r: dict) -> str:
    """A measurement as value ± U against its limits, in its unit."""
    u, low, high, unit = r.get("uncertainty"), r.get("low"), r.get("high"), r["unit"]
    if low is not None and high is not None:
        limits = f"{low:g}…{high:g} {unit}"
    else:
        limits = f"≥ {low:g} {unit}" if low is not None else f"≤ {high:g} {unit}"
    spread = f" ± {u:.2g}" if u is not None else ""
    return f"{r['name']} {r['value']:.4g}{spread} {unit} against {limits}"


@functools.cache
def station_file(station: str | None) -> StationConfig:
    """A station file, read (the default station's if None)."""
    return load_station(REPO / (station or DEFAULT_STATION))


def protocol_of(station: str | None) -> str:
    """The BMS protocol a station file names."""
    return station_file(station).dut.protocol


def resets_the_bms(station: str | None) -> bool:
    """Whether the station can power-cycle the BMS (cell emulators, a battery simulator
    or a relay in its supply feed carry its supply; a real module alone powers it
    itself): as the recovery does."""
    wiring = station_file(station).wiring
    return bool(wiring.cells) or wiring.pack is not None or wiring.dut_supply is not None


def unheard(defect: str, station: str | None) -> str:
    """Why no plan on this station can observe `defect` (HEARD_THROUGH): its link lacks
    the capability the defect's only evidence comes through; "" if it has it."""
    need = HEARD_THROUGH.get(defect)
    protocol = protocol_of(station)
    if need is None or need in PROTOCOLS[protocol].capabilities:
        return ""
    return f"its link ({protocol}) does not report {need}"


def selection(defect: str, plans: list[str]) -> list[str]:
    """The plans a defect targets and the witnesses, in the run's order."""
    expected = EXPECTED.get(defect) or ()
    return [p for p in plans if p in WITNESSES or any(fnmatch.fnmatchcase(p, e) for e in expected)]


def run_matrix(
    folder: Path,
    workers: int = 2,
    witnesses: bool = False,
    station: str | None = None,
    defects: list[str] | None = None,
) -> tuple[Outcome, list[Outcome]]:
    """The run without a defect (every plan), then one run per defect in the catalogue
    (or `defects`): every plan, or (`witnesses`) the plans it targets and one plan of
    every kind. A targeted plan the station cannot run is not expected to fail there."""
    spec = reduced_spec(folder)
    baseline = run_one(None, spec, folder / "run0", station=station)
    plans = list(baseline.plans)
    chosen = defects or list(CATALOGUE)

    def job(item: tuple[int, str]) -> Outcome:
        i, defect = item
        config = CONFIGS.get(defect) if station is None else None
        if config is not None:
            return _configured(defect, config, folder, i)
        select = (
            selection(defect, plans) if witnesses and EXPECTED.get(defect) is not None else None
        )
        return run_one(defect, spec, folder / f"run{i}", select, station)

    configs: list[dict[str, object]] = []  # each distinct configuration once, clean
    for defect in chosen:
        if station is None and defect in CONFIGS and CONFIGS[defect] not in configs:
            configs.append(CONFIGS[defect])
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(job, enumerate(chosen, start=1)))
        clean = list(pool.map(lambda c: _configured(None, c[1], folder, c[0]), enumerate(configs)))
    return baseline, outcomes + clean


def _configured(defect: str | None, config: dict[str, object], folder: Path, i: int) -> Outcome:
    """A run on a defect's own configuration (CONFIGS): its targeted plans only; without
    a defect, the configuration's clean run (every plan must pass)."""
    where = str(config.get("station") or "default station, " + ", ".join(config.get("sets", [])))
    label = f"(none: {where})" if defect is None else defect
    tag = (defect or f"clean{i}").replace("_", "-")
    spec = reduced_spec(folder, config.get("spec"), tag)  # type: ignore[arg-type]
    out = run_one(
        defect, spec, folder / f"run-{tag}", list(config["select"]),  # type: ignore[call-overload]
        config.get("station"), config.get("sets"), name=label,  # type: ignore[arg-type]
    )  # fmt: skip
    out.clean = defect is None
    return out


@dataclass
class Score:
    """A station's mutation score: defects caught (and contained) by their plans over
    the defects some plan on the station can decide; the rest named with the reason."""

    caught: list[str] = field(default_factory=list)  # caught and contained
    missed: list[str] = field(default_factory=list)  # not caught, or spilled
    absent: dict[str, str] = field(default_factory=dict)  # no plan here observes it: why
    undecided: dict[str, str] = field(default_factory=dict)  # seen, not decided here: why
    noisy: list[str] = field(default_factory=list)  # absent or undecided, yet a plan failed
    unreset: dict[str, list[str]] = field(default_factory=dict)  # caught; plans not started
    partly: dict[str, str] = field(default_factory=dict)  # caught; a plan undecided here: why

    @property
    def applicable(self) -> int:
        return len(self.caught) + len(self.missed)

    @property
    def ratio(self) -> float:
        return len(self.caught) / self.applicable if self.applicable else 1.0

    @property
    def perfect(self) -> bool:
        return not self.missed and not self.noisy

    def lines(self) -> list[str]:
        """The defects not in the score, each with its reason, and what went wrong."""
        out = [f"  no plan on this station observes {d}: {why}" for d, why in self.absent.items()]
        out += [f"  this station cannot decide {d}: {why}" for d, why in self.undecided.items()]
        out += [f"  {d} caught by its other plans; {why}" for d, why in self.partly.items()]
        out += [
            f"  {d} caught; {len(plans)} plan(s) after it could not start: the station "
            "cannot power-cycle a BMS left tripped for good (nothing carries its supply)"
            for d, plans in self.unreset.items()
        ]
        out += [f"  NOT caught or contained: {d}" for d in self.missed]
        out += [f"  a plan FAILED with {d}, which no plan here decides" for d in self.noisy]
        return out


def mutation_score(baseline: Outcome, outcomes: list[Outcome]) -> Score:
    """A defect is applicable on a station where a plan it targets runs (or it stops the
    run at the station checks) and can observe it: not where the station's link lacks
    the capability its only evidence comes through (HEARD_THROUGH), nor where every
    plan it targets ends conditional as the station's accuracy leaves it (UNDECIDED).
    Those are named apart, and their runs must leave every other plan passing."""
    plans = list(baseline.plans)
    score = Score()
    for o in outcomes:
        if o.clean:
            continue
        targeted = o.expected is None or any(o.targeted(p) for p in [*plans, *o.plans])
        quiet = set(o.plans.values()) <= {"passed"} and not o.not_run  # conditional: passed
        unchecked = o.expected is None and not o.pin_check_decides
        if unchecked:  # a miswired bench: only the pin check sees it, and it cannot here
            why = o.pin_check or "the station wires no cell emulators to step"
            score.absent[o.defect] = f"the pin check: {why}"
            if not quiet:
                score.noisy.append(o.defect)
        elif o.unheard or not targeted:
            score.absent[o.defect] = o.unheard or _not_applicable(o)
            if not quiet:
                score.noisy.append(o.defect)
        elif o.undecided_all:
            score.undecided[o.defect] = "; ".join(
                f"{p} {', '.join(o.conditional[p])}: {o.undecided(p)}" for p in o.hits
            )
            if not o.contained:
                score.noisy.append(o.defect)
        elif o.caught and o.contained:
            score.caught.append(o.defect)
            if o.unreset:
                score.unreset[o.defect] = o.unreset
            if undecided := [p for p in o.hits if o.undecided(p)]:
                score.partly[o.defect] = "; ".join(
                    f"{p} conditional: {', '.join(o.conditional[p])} ({o.undecided(p)})"
                    for p in undecided
                )
        else:
            score.missed.append(o.defect)
    return score


def _undecided_lines(o: Outcome) -> list[str]:
    """The plans a run without a defect left conditional where the station cannot decide
    them (UNDECIDED), with what they measured and why."""
    return [
        f"  without a defect, {p} conditional, as this station decides it: "
        f"{', '.join(o.conditional[p])} ({o.undecided(p)})"
        for p in o.conditional
        if o.undecided(p)
    ]


def _not_applicable(o: Outcome) -> str:
    """Why the plans a defect targets do not run on the station (the run's own record)."""
    why = sorted({w for p, w in o.not_applicable.items() if o.targeted(p)})
    if not why:
        return "no plan it targets runs here"
    return why[0] + (f" (and {len(why) - 1} more reasons)" if len(why) > 1 else "")


def all_stations(workers: int, witnesses: bool, defects: list[str] | None) -> int:
    """The matrix on each shipped 16S simulated station (the 4S ones run a 4S spec the
    matrix does not reduce): its mutation score, caught and contained / applicable, and
    the defects left out of it with the reason."""
    stations = sorted((REPO / "stations").glob("sim-16s*.yaml"))
    ok = True
    for station in stations:
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            rel = str(station.relative_to(REPO))
            baseline, outcomes = run_matrix(Path(tmp), workers, witnesses, rel, defects)
        clean = baseline.passes and all(o.passes for o in outcomes if o.clean)
        score = mutation_score(baseline, outcomes)
        ok = ok and clean and score.perfect
        print(
            f"{station.name:28s} {len(score.caught):3d} / {score.applicable:<3d} "
            f"{100 * score.ratio:5.1f} %  ({len(baseline.plans)} plans"
            f"{'' if clean else ', NOT all passing without a defect'}; "
            f"{len(score.absent)} defects no plan here observes, {len(score.undecided)} "
            f"it cannot decide; {time.monotonic() - t0:.0f} s)"
        )
        for line in [*_undecided_lines(baseline), *score.lines()]:
            print(line)
        sys.stdout.flush()
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="rig runs at once")
    ap.add_argument(
        "--witnesses",
        action="store_true",
        help="per defect, its targeted plans and one plan of every kind (the test's way)",
    )
    ap.add_argument("--station", help="station file (default: the default station)")
    ap.add_argument("--defect", action="append", help="only this defect (repeatable)")
    ap.add_argument(
        "--all-stations",
        action="store_true",
        help="the mutation score on every shipped 16S simulated station, one line each",
    )
    args = ap.parse_args()
    if args.all_stations:
        return all_stations(args.workers, args.witnesses, args.defect)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        baseline, outcomes = run_matrix(
            Path(tmp), args.workers, args.witnesses, args.station, args.defect
        )
    wall = time.monotonic() - t0
    plans = len(baseline.plans)
    clean = baseline.passes
    print(f"reduced spec (cell 16, NTC 2, no pack levels): {plans} plans; without a defect: "
          f"{'all passed' if clean else baseline.plans}")  # fmt: skip
    for line in _undecided_lines(baseline):
        print(line)
    cleans = [o for o in outcomes if o.clean]
    outcomes = [o for o in outcomes if not o.clean]
    for o in cleans:
        print(f"without a defect, {o.defect[7:-1]}: {'all passed' if o.passes else o.plans}")
        clean = clean and o.passes
    print(f"{'defect':22s} {'caught':>6s} {'contained':>9s} {'failed plans':>12s} {'s':>5s}")
    score = mutation_score(baseline, outcomes)
    for o in outcomes:
        failed = sum(1 for v in o.plans.values() if v != "passed")
        absent = score.absent.get(o.defect, "")
        decided = "yes" if o.caught else ("cond" if o.undecided_all else "NO")
        verdict = "n/a" if absent else decided
        print(
            f"{o.defect:22s} {verdict:>6s} "
            f"{'yes' if o.contained else 'NO':>9s} {failed:12d} {o.seconds:5.1f}"
        )
        if absent:
            print(f"    no plan here observes it: {absent}")
        for plan in [p for p in o.hits if o.undecided(p)]:
            print(f"    {plan} conditional, as this station decides it: "
                  f"{', '.join(o.conditional[plan])} ({o.undecided(plan)})")  # fmt: skip
        for plan in [] if absent else o.missed:
            seen = o.conditional.get(plan) or o.failed_measurements.get(plan)
            print(f"    not caught by {plan}: {o.plans.get(plan)}", seen)
        for plan in o.spilled:
            print(f"    spilled into {plan}: {o.plans.get(plan)}", o.failed_measurements.get(plan))
        if o.unreset:
            print(f"    not started, the BMS left tripped and no power cycle on this station: "
                  f"{', '.join(o.unreset)}")  # fmt: skip
    caught = sum(o.caught for o in outcomes)
    contained = sum(o.caught and o.contained for o in outcomes)
    n = len(outcomes)
    print(f"defects caught: {caught} / {n}; caught and contained: {contained} / {n}")
    print(f"mutation score: {len(score.caught)} / {score.applicable} defects caught by their "
          f"plans ({100 * score.ratio:.1f} %)")  # fmt: skip
    for line in score.lines():
        print(line)
    mode = "targeted plans + one of every kind" if args.witnesses else "every plan"
    print(f"{n + 1} runs ({mode}) in {wall:.0f} s wall, {args.workers} at once")
    return 0 if clean and score.perfect else 1


if __name__ == "__main__":
    raise SystemExit(main())
