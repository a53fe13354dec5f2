"""Trip-time error against the simulation's ground truth, measured in one run per seed.

Runs the trip-delay plans with `rig run` for a few seeds and compares each measured delay
with the trip simlab logged (its event log is the truth the rig cannot see). Prints the
error per measurement and its ratio to the reported resolution (the poll period): a
ratio in [0, 1) means the measurement is as good as its resolution claims.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rig.results import read_records  # noqa: E402

SEEDS = (1, 2, 3)


def run(seed: int, runs: Path) -> list[dict]:
    subprocess.run(
        [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "--seed", str(seed),
         "-q", "-k", "trip_delay"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    (run_dir,) = runs.iterdir()
    return read_records(run_dir)


def main() -> int:
    errors: list[float] = []
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SEEDS:
            records = run(seed, Path(tmp) / f"seed{seed}")
            truth = next(r for r in records if r["type"] == "sim_truth")
            trips = [e for e in truth["events"] if e["kind"] == "trip"]
            for m in (r for r in records if r["type"] == "measurement"):
                t_step = m["context"]["t_step"]
                protection = m["name"].removesuffix("_trip_delay")
                event = next(e for e in trips if e["protection"] == protection and e["t"] >= t_step)
                actual = event["t"] - t_step
                error = m["value"] - actual
                errors.append(error)
                ratios.append(error / m["resolution"])
                print(
                    f"seed {seed} {m['test'].split('::')[-1]:32s} measured {m['value']:.3f} s"
                    f"  truth {actual:.3f} s  error {error * 1e3:+6.1f} ms"
                )
    print(f"{len(errors)} trip delays: mean error {statistics.mean(errors) * 1e3:+.1f} ms, "
          f"max {max(errors) * 1e3:+.1f} ms")  # fmt: skip
    print(f"error / resolution: mean {statistics.mean(ratios):.2f}, max {max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
