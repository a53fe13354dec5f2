"""What quiet spans save: wall time per simulated hour of a steady charge, skipping scans
that change nothing against computing every one, taken in one run.

Builds the simulated world in-process (16 emulated cells at 3.3 V, the charger driving
2.5 A, ADC noise on) and advances it by `--hours` in steps of `--step` seconds, as a
plan polling a charger would, once with quiet spans and once with every scan computed
(`QUIET_BLOCK` set too small to skip). Also checks the two runs end identical (coulomb
count, readings, events). Prints the ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simlab import world as world_module  # noqa: E402
from tests.simlab.simworld import make_rig  # noqa: E402


def run(hours: float, step: float, block: int) -> tuple[float, dict]:
    world_module.QUIET_BLOCK = block
    rig = make_rig(seed=7, noise=0.0005)
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 56.0, 2.5, True
    rig.world.solve()
    t0 = time.perf_counter()
    for _ in range(round(hours * 3600 / step)):
        rig.world.advance(step)
    wall = time.perf_counter() - t0
    fw = rig.world.firmware
    end = {
        "remaining_ah": round(fw.remaining_ah, 9),
        "readings": list(fw.readings),
        "events": rig.world.events()[0],
    }
    return wall, end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=0.5)
    parser.add_argument("--step", type=float, default=300.0)
    args = parser.parse_args()
    default = world_module.QUIET_BLOCK
    fast, fast_end = run(args.hours, args.step, default)
    slow, slow_end = run(args.hours, args.step, 2)
    scale = 1.0 / args.hours
    print(f"{args.hours:g} h of charging at 2.5 A in {args.step:g} s steps")
    print(f"  every scan computed: {slow * scale:8.3f} s wall per simulated hour")
    print(f"  quiet spans skipped: {fast * scale:8.3f} s wall per simulated hour")
    print(f"  ratio: {slow / fast:.0f}x; same end state: {fast_end == slow_end}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
