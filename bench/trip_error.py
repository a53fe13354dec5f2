"""Measured values against the simulation's ground truth, over seeds and random parameters.

For several seeds, draws random in-spec firmware parameters (thresholds, releases, delays
and recovery delays of every protection the default spec states: cell OV and UV, charge
and discharge over-current, the short circuit, the four temperatures), runs the plans
through `rig run` exactly as a user would (cells 1, 9 and 16, both NTCs), and compares
each value the instruments measured with the truth. Prints, per quantity, the signed
error of the reported value, its ratio to the resolution, and how often the bracket held
the truth.

The truth is what a bench would see, not the configured number:

- voltage thresholds: the BMS compares its 1 mV-quantised reading (ADC noise off here),
  so over-voltage trips from (ceil(T/q) - 1/2)·q, under-voltage from (floor(T/q) + 1/2)·q,
  and the releases likewise;
- current thresholds: the firmware's 10 mA reading, the same way (over: ceil); the front
  end's level 2 compares the current itself, so its truth is the setting;
- temperature thresholds and releases: the emulated temperature at which the board's
  reading (divider, 12-bit ADC, its own curve, 0.1 °C) first crosses the setting;
- delays and recovery times: the trip and release simlab logged;
- the short-circuit threshold: the front end's setting (it compares the current itself,
  test current and emulated pulse together);
- the short-circuit trip time on the default station (current-sense emulation): the
  front end's delay, shifted by the generator's edge between its level and 150 A; on a
  station with a short path (time at or above the spec's 150 A): the front end's delay,
  shifted by the RL rise between its own threshold and 150 A, plus the part of the FET's
  2 µs fall spent above 150 A.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rig.config import load_spec  # noqa: E402
from rig.results import read_records  # noqa: E402
from simlab.firmware.model import NtcParams  # noqa: E402

SEEDS = tuple(range(1, 17))
SELECT = (
    "((threshold or delay) and (cell1] or cell9] or cell16])) or charge_oc or discharge_oc "
    "or short_circuit or charge_ot or charge_ut or discharge_ot or discharge_ut"
)
ADC_STEP_V = 0.001  # simlab's firmware.adc_resolution_v
CODE_A = 0.01  # simlab's firmware.current_resolution_a
TRIGGER_A = 150.0  # the spec's nominal short-circuit threshold: the capture's level
PACK_V = 16 * 3.30  # the emulated cells at the safe state during the short
OVER = {"charge_ot": True, "charge_ut": False, "discharge_ot": True, "discharge_ut": False}
# field -> how far inside the band the random value stays (in its unit; at most a fifth
# of a narrow band)
INSETS = {
    "threshold_v": 0.006,
    "release_v": 0.006,
    "threshold_a": 0.06,
    "threshold_c": 0.3,
    "release_c": 0.3,
    "delay_s": 0.15,
    "release_delay_s": 0.3,
}
DRAWN = {
    "cell_ov": ("threshold_v", "release_v", "delay_s"),
    "cell_uv": ("threshold_v", "release_v", "delay_s"),
    "charge_oc": ("threshold_a", "delay_s", "release_delay_s"),
    "discharge_oc1": ("threshold_a", "delay_s", "release_delay_s"),
    "discharge_oc2": ("threshold_a", "delay_s", "release_delay_s"),
    "short_circuit": ("threshold_a", "delay_s", "release_delay_s"),
    **{t: ("threshold_c", "release_c", "delay_s") for t in OVER},
}


def draw(rng: random.Random) -> list[str]:
    """Random firmware parameters well inside the default spec's bands."""
    spec = load_spec(REPO / "specs" / "jbd-16s-lfp.yaml")
    sets = ["firmware.adc_noise_v=0"]
    for name, fields in DRAWN.items():
        p = getattr(spec.protections, name)
        for field in fields:
            limit = getattr(p, field)
            inset = min(INSETS[field], 0.2 * (limit.high - limit.low))
            value = rng.uniform(limit.low + inset, limit.high - inset)
            sets.append(f"firmware.{name}.{field}={value:.9g}")
    return sets


def run(seed: int, sets: list[str], runs: Path) -> list[dict]:
    args = [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "--seed", str(seed)]
    args += ["--no-report"]
    for item in sets:
        args += ["--sim-set", item]
    subprocess.run([*args, "-k", SELECT], cwd=REPO, capture_output=True, text=True, check=False)
    (run_dir,) = runs.iterdir()
    return read_records(run_dir)


def code_edge(setting: float, step: float, over: bool) -> float:
    """Where a quantised reading starts to meet `setting` (over: >=; under: <=)."""
    level = setting / step
    return (
        (math.ceil(level - 1e-6) - 0.5) * step if over else (math.floor(level + 1e-6) + 0.5) * step
    )


def ntc_edge(fw_ntc: dict, setting: float, over: bool, releasing: bool) -> float:
    """Emulated temperature where the board's reading crosses `setting` (the station's
    NTCs: 10 kΩ, B 3435 K)."""
    keys = ("count", "r25_ohm", "beta_k", "pullup_ohm", "adc_bits")
    board = NtcParams(**{k: fw_ntc[k] for k in keys})
    station = NtcParams(r25_ohm=10_000.0, beta_k=3435.0)

    def past(t: float) -> bool:
        r = board.read(station.ohms_at(t))
        if over:
            return r < setting - 1e-9 if releasing else r >= setting - 1e-9
        return r > setting + 1e-9 if releasing else r <= setting + 1e-9

    lo, hi = setting - 5, setting + 5
    going_up = past(hi)
    for _ in range(60):
        mid = (lo + hi) / 2
        if past(mid) == going_up:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def short_truth(truth: dict, trip: dict) -> float:
    """Time at or above TRIGGER_A: RL rise from the front end's level, its delay, the fall."""
    fw, short = truth["firmware"]["short_circuit"], truth["physics"]["short"]
    i_inf = PACK_V / short["r_ohm"]
    tau = short["l_h"] / short["r_ohm"]

    def t_cross(amps: float) -> float:
        return -tau * math.log(1 - amps / i_inf)

    start = t_cross(TRIGGER_A)
    cut = t_cross(fw["threshold_a"]) + fw["delay_s"]
    return cut - start + short["turn_off_s"] * (1 - TRIGGER_A / trip["value"])


def emulated_short_truth(truth: dict, context: dict) -> float:
    """On a current-sense emulation bench: the front end times from its own level on the
    generator's edge, the capture from the trigger level on the same edge; the trip ends
    both (the load's current stops as the FET opens)."""
    fw = truth["firmware"]["short_circuit"]
    edge, step = context["edge_s"], context["step_a"]
    return fw["delay_s"] + edge * (fw["threshold_a"] - TRIGGER_A) / step


def truth_of(m: dict, truth: dict, events: list[dict]) -> float | None:
    name, fw = m["name"], truth["firmware"]
    trips = [e for e in events if e["kind"] == "trip"]
    if name == "short_circuit_trip_time" and "step_a" in m["context"]:
        return emulated_short_truth(truth, m["context"])
    if name == "short_circuit_trip_time":
        t_close = m["context"]["t_close"]
        trip = next(e for e in trips if e["protection"] == "short_circuit" and e["t"] >= t_close)
        return short_truth(truth, trip)
    if name.endswith("_trip_delay"):
        protection = name.removesuffix("_trip_delay")
        t_step = m["context"]["t_step"]
        event = next(e for e in trips if e["protection"] == protection and e["t"] >= t_step)
        return event["t"] - t_step
    if name.endswith("_recovery_time"):
        protection = name.removesuffix("_recovery_time")
        t0 = m["context"]["trip_instant"][0]
        trip = next(e for e in trips if e["protection"] == protection and e["t"] >= t0)
        back = next(
            e
            for e in events
            if e["kind"] == "release" and e["protection"] == protection and e["t"] > trip["t"]
        )
        return back["t"] - trip["t"]
    kind = "release" if name.endswith("_release") else "threshold"
    protection = name.removesuffix(f"_{kind}")
    p = fw[protection]
    if protection in OVER:
        return ntc_edge(fw["ntc"], p[f"{kind}_c"], OVER[protection], kind == "release")
    if "threshold_a" in p:
        if protection in ("discharge_oc2", "short_circuit"):  # the front end: the current
            return p["threshold_a"]
        return code_edge(p["threshold_a"], CODE_A, True)
    over = protection.endswith("ov")
    return code_edge(p["threshold_v" if kind == "threshold" else "release_v"], ADC_STEP_V, over)


UNITS = {"V": ("mV", 1e3), "A": ("mA", 1e3), "°C": ("°C", 1.0), "s": ("ms", 1e3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=len(SEEDS), help="how many seeds (1..16)")
    seeds = SEEDS[: ap.parse_args().seeds]
    rng = random.Random(2026)
    rows: dict[str, list[tuple[float, float, bool, str]]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            records = run(seed, draw(rng), Path(tmp) / f"seed{seed}")
            sim = next(r for r in records if r["type"] == "sim_truth")
            for m in (r for r in records if r["type"] == "measurement"):
                if m["evidence"] != "instrument" or m["bracket"] is None:
                    if m["evidence"] == "instrument" and m["value"] is None:
                        print(f"seed {seed}: {m['name']} has no value: {m['note']}")
                    continue  # the BMS's own report, or a value without a bracket
                truth = truth_of(m, sim["truth"], sim["events"])
                if truth is None:
                    continue
                lo, hi = m["bracket"]
                error = m["value"] - truth
                held = lo - 1e-9 <= truth <= hi + 1e-9
                rows[m["name"]].append((error, m["resolution"], held, m["unit"]))
    print(f"{len(seeds)} seeds, random in-spec parameters, plans: {SELECT}")
    print(f"{'quantity':30s} {'n':>3s} {'mean err':>12s} {'max |err|':>12s} "
          f"{'resolution':>12s} {'mean/res':>8s} {'bracket holds':>14s}")  # fmt: skip
    worst = 0.0
    for name, items in sorted(rows.items()):
        errors = [e for e, *_ in items]
        res = statistics.mean(r for _, r, _, _ in items)
        unit = items[0][3]
        shown, scale = UNITS.get(unit, (unit, 1.0))
        if name == "short_circuit_trip_time":
            shown, scale = "µs", 1e6
        held = sum(1 for *_, ok, _ in items if ok)
        ratio = statistics.mean(errors) / res
        worst = max(worst, abs(ratio))
        print(
            f"{name:30s} {len(items):3d} {statistics.mean(errors) * scale:+9.3f} {shown:2s}"
            f" {max(abs(e) for e in errors) * scale:9.3f} {shown:2s} {res * scale:9.3f} {shown:2s}"
            f" {ratio:+8.3f} {held:>7d} of {len(items)}"
        )
    print(f"largest |mean error| / resolution: {worst:.3f} (target < 0.25)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
