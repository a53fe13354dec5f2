"""Threshold, release and trip-delay error against the simulation's ground truth.

For several seeds, draws random in-spec firmware parameters (thresholds, releases and
delays of cell OV and UV), runs the threshold and delay plans through `rig run` exactly
as a user would, and compares each measured value with what simlab was set to (and, for
delays, with the trip time simlab logged). Prints, per quantity, the signed error of the
reported value, its ratio to the resolution, and how often the bracket held the truth.

The BMS's ADC noise is switched off here so the truth is crisp. The firmware compares its
1 mV-quantised reading with the threshold, so the cell voltage at which it trips is not
the configured threshold but the edge of the first ADC code past it: over-voltage trips
from (ceil(T/q) - 1/2)·q, under-voltage from (floor(T/q) + 1/2)·q, and the releases
likewise. That is the truth a bench would see, and the one used below.
"""

from __future__ import annotations

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

SEEDS = tuple(range(1, 17))
SELECT = "(threshold or delay) and (cell1] or cell9] or cell16])"
ADC_STEP_V = 0.001  # simlab's firmware.adc_resolution_v


def draw(rng: random.Random) -> list[str]:
    """Random firmware parameters well inside the default spec's bands."""
    spec = load_spec(REPO / "specs" / "jbd-16s-lfp.yaml")
    sets = ["firmware.adc_noise_v=0"]
    for name in ("cell_ov", "cell_uv"):
        p = getattr(spec.protections, name)
        for field, limit, inset in (
            ("threshold_v", p.threshold_v, 0.006),
            ("release_v", p.release_v, 0.006),
            ("delay_s", p.delay_s, 0.15),
        ):
            value = rng.uniform(limit.low + inset, limit.high - inset)
            sets.append(f"firmware.{name}.{field}={value:.6f}")
    return sets


def run(seed: int, sets: list[str], runs: Path) -> list[dict]:
    args = [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "--seed", str(seed)]
    for item in sets:
        args += ["--sim-set", item]
    subprocess.run([*args, "-k", SELECT], cwd=REPO, capture_output=True, text=True, check=False)
    (run_dir,) = runs.iterdir()
    return read_records(run_dir)


def truth_of(m: dict, fw: dict, trips: list[dict]) -> float:
    name = m["name"]
    protection = "_".join(name.split("_")[:2])
    kind = name.removeprefix(protection + "_")
    over = protection.endswith("ov")
    if kind == "trip_delay":
        t_step = m["context"]["t_step"]
        event = next(e for e in trips if e["protection"] == protection and e["t"] >= t_step)
        return event["t"] - t_step
    q = ADC_STEP_V
    level = fw[protection]["threshold_v" if kind == "threshold" else "release_v"] / q
    if kind == "threshold":  # OV: reading >= T; UV: reading <= T
        return (math.ceil(level - 1e-6) - 0.5) * q if over else (math.floor(level + 1e-6) + 0.5) * q
    # release: OV releases when the reading falls below R, UV when it rises above R
    return (math.ceil(level - 1e-6) - 0.5) * q if over else (math.floor(level + 1e-6) + 0.5) * q


def main() -> int:
    rng = random.Random(2026)
    rows: dict[str, list[tuple[float, float, bool]]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SEEDS:
            records = run(seed, draw(rng), Path(tmp) / f"seed{seed}")
            sim = next(r for r in records if r["type"] == "sim_truth")
            fw, trips = sim["truth"]["firmware"], [e for e in sim["events"] if e["kind"] == "trip"]
            for m in (r for r in records if r["type"] == "measurement"):
                if m["evidence"] != "instrument":
                    continue  # the BMS's own report: nothing to compare with a truth
                if m["value"] is None or m["bracket"] is None:
                    print(f"seed {seed}: {m['name']} has no value: {m['note']}")
                    continue
                truth = truth_of(m, fw, trips)
                lo, hi = m["bracket"]
                error = m["value"] - truth
                rows[m["name"]].append((error, m["resolution"], lo - 1e-9 <= truth <= hi + 1e-9))
    print(f"{len(SEEDS)} seeds, random in-spec parameters, plans: {SELECT}")
    print(f"{'quantity':22s} {'n':>3s} {'mean err':>11s} {'max |err|':>10s} "
          f"{'mean err/res':>12s} {'bracket holds truth':>20s}")  # fmt: skip
    worst = 0.0
    for name, items in sorted(rows.items()):
        errors = [e for e, _, _ in items]
        res = statistics.mean(r for _, r, _ in items)
        unit, scale = ("ms", 1e3) if name.endswith("delay") else ("mV", 1e3)
        held = sum(1 for *_, ok in items if ok)
        ratio = statistics.mean(errors) / res
        worst = max(worst, abs(ratio))
        print(
            f"{name:22s} {len(items):3d} {statistics.mean(errors) * scale:+8.3f} {unit}"
            f" {max(abs(e) for e in errors) * scale:7.3f} {unit} {ratio:+12.3f}"
            f" {held:>12d} of {len(items)}"
        )
    print(f"largest |mean error| / resolution: {worst:.3f} (target < 0.25)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
