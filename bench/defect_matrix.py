"""The defect matrix: every defect in simlab's catalogue against every plan.

For each defect `python -m simlab defects` lists (with its default parameters), runs
`rig run` on the default station with that defect injected, on a reduced spec (cell 16,
NTC 2, no pack-level protections: every other kind of plan once, at the positions the
defaults target; 35 plans), and checks two things from the run's own results store:

- caught: every plan the defect targets failed (a FAIL verdict, not an error);
- contained: every other plan passed, so the recovery procedure between plans kept one
  broken protection from spilling into the rest.

A miswired bench (`swapped_wiring`) is caught before any plan, by the station's pin
check: nothing is measured. A defect no plan targets yet (none today) must leave every
plan passing, and is counted apart. A run
without a defect comes first, all plans passing. Defects whose default position lies
outside the reduced spec run at cell 16 (`ARGS`).

`--witnesses` runs, per defect, only the plans it targets and one cheap plan of every
other kind (`WITNESSES`): every other protection is still shown measured after the
defect, at about half the cost; the test runs it that way to stay within the suite's
time, the benchmark runs every plan by default.

Prints one line per defect and the count (defects caught / defects); exit code 0 only
when every defect is caught and contained. tests/e2e/test_defect_matrix.py runs the
same matrix on one defect of each mechanism (`SUITE`), the witnesses' way. Runs go two at
a time (virtual time: concurrency changes no result).
"""

from __future__ import annotations

import argparse
import fnmatch
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
    expected: tuple[str, ...] | None = ()
    clean: bool = False  # a configuration's run without a defect (CONFIGS)

    def targeted(self, plan: str) -> bool:
        return any(fnmatch.fnmatchcase(plan, p) for p in self.expected or ())

    @property
    def untargeted(self) -> bool:
        """No plan in the suite targets this defect (yet)."""
        return self.expected == ()

    @property
    def missed(self) -> list[str]:
        """Targeted plans that did not fail (or nothing targeted ran)."""
        if self.expected is None:  # stopped by the station checks, nothing measured
            stopped = self.pin_check_failed and not self.plans and not self.measurements
            return [] if stopped else ["<station checks>"]
        if self.untargeted:
            return ["<no plan targets it>"]
        hits = [p for p in self.plans if self.targeted(p)]
        if not hits:
            return [f"<no plan matches {', '.join(self.expected or ())}>"]
        return [p for p in hits if self.plans[p] != "failed"]

    @property
    def spilled(self) -> list[str]:
        """Plans the defect does not target that did not pass, or did not start."""
        if self.expected is None:
            return []  # by design no plan starts on a miswired bench
        spilled = [p for p, o in self.plans.items() if not self.targeted(p) and o != "passed"]
        return spilled + [f"{p} (setup {o})" for p, o in self.not_run.items()]

    @property
    def caught(self) -> bool:
        return not self.missed

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
    run_dirs = [d for d in runs.iterdir() if d.is_dir()] if runs.exists() else []
    if not run_dirs:
        out.plans["<no run folder>"] = proc.stdout[-500:] + proc.stderr[-500:]
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
        elif r["type"] == "station_check" and r["check"] == "pin" and not r["ok"]:
            out.pin_check_failed = True
    return out


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


def mutation_score(baseline: Outcome, outcomes: list[Outcome]) -> tuple[int, int, list[str]]:
    """(caught, applicable, not applicable): a defect is applicable on a station where a
    plan it targets runs there (or it stops the run at the station checks)."""
    plans = list(baseline.plans)
    applicable, caught, absent = 0, 0, []
    for o in outcomes:
        if o.clean:
            continue
        targeted = o.expected is None or any(o.targeted(p) for p in [*plans, *o.plans])
        if not targeted:
            absent.append(o.defect)
            continue
        applicable += 1
        caught += o.caught and o.contained
    return caught, applicable, absent


def all_stations(workers: int, witnesses: bool, defects: list[str] | None) -> int:
    """The matrix on each shipped 16S simulated station (the 4S ones run a 4S spec the
    matrix does not reduce): its mutation score, caught and contained / applicable."""
    stations = sorted((REPO / "stations").glob("sim-16s*.yaml"))
    worst = 1.0
    for station in stations:
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            rel = str(station.relative_to(REPO))
            baseline, outcomes = run_matrix(Path(tmp), workers, witnesses, rel, defects)
        clean = baseline.returncode == 0 and set(baseline.plans.values()) == {"passed"}
        caught, applicable, absent = mutation_score(baseline, outcomes)
        score = caught / applicable if applicable else 1.0
        worst = min(worst, score if clean else 0.0)
        print(
            f"{station.name:28s} {caught:3d} / {applicable:<3d} {100 * score:5.1f} %  "
            f"({len(baseline.plans)} plans{'' if clean else ', NOT all passing without a defect'}; "
            f"{len(absent)} defects without a plan here; {time.monotonic() - t0:.0f} s)"
        )
    return 0 if worst == 1.0 else 1


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
    clean = all(o == "passed" for o in baseline.plans.values()) and baseline.returncode == 0
    print(f"reduced spec (cell 16, NTC 2, no pack levels): {plans} plans; without a defect: "
          f"{'all passed' if clean else baseline.plans}")  # fmt: skip
    cleans = [o for o in outcomes if o.clean]
    outcomes = [o for o in outcomes if not o.clean]
    for o in cleans:
        ok = o.returncode == 0 and set(o.plans.values()) == {"passed"}
        print(f"without a defect, {o.defect[7:-1]}: {'all passed' if ok else o.plans}")
        clean = clean and ok
    print(f"{'defect':22s} {'caught':>6s} {'contained':>9s} {'failed plans':>12s} {'s':>5s}")
    for o in outcomes:
        failed = sum(1 for v in o.plans.values() if v != "passed")
        verdict = "n/a" if o.untargeted else ("yes" if o.caught else "NO")
        print(
            f"{o.defect:22s} {verdict:>6s} "
            f"{'yes' if o.contained else 'NO':>9s} {failed:12d} {o.seconds:5.1f}"
        )
        for plan in [] if o.untargeted else o.missed:
            print(f"    not caught by {plan}: {o.plans.get(plan)}", o.failed_measurements.get(plan))
        for plan in o.spilled:
            print(f"    spilled into {plan}: {o.plans.get(plan)}", o.failed_measurements.get(plan))
    caught = sum(o.caught for o in outcomes)
    contained = sum(o.caught and o.contained for o in outcomes)
    score_caught, score_of, _ = mutation_score(baseline, outcomes)
    untargeted = [o.defect for o in outcomes if o.untargeted]
    n = len(outcomes)
    print(f"defects caught: {caught} / {n}; caught and contained: {contained} / {n}")
    print(f"mutation score: {score_caught} / {score_of} defects caught by their plans "
          f"({100 * score_caught / max(score_of, 1):.1f} %)")  # fmt: skip
    if untargeted:
        quiet = all(o.contained for o in outcomes if o.untargeted)
        seen = "every plan passed with them" if quiet else "SOME PLAN FAILED"
        print(f"not targeted by any plan yet: {', '.join(untargeted)} ({seen})")
    mode = "targeted plans + one of every kind" if args.witnesses else "every plan"
    print(f"{n + 1} runs ({mode}) in {wall:.0f} s wall, {args.workers} at once")
    targeted = [o for o in outcomes if not o.untargeted]
    return 0 if clean and all(o.caught and o.contained for o in targeted) else 1


if __name__ == "__main__":
    raise SystemExit(main())
