"""Soak: the default suite over and over against simlab, with random faults and signals.

For `--minutes` (default 5), each round runs the whole default suite once as a user
would, choosing at random: a clean run; a link fault or instrument failure from
simlab.faults injected at a random point of the suite's simulated time (for good); or
a SIGINT / SIGTERM at a random moment. Each round is judged:

- no hang: the run ends within its timeout;
- no false pass: a run with a fault active during its plans, or a signal, never says
  PASS (a clean run must);
- the bench safe at the end, as simlab's own final state says;
- nothing left behind: simlab's process gone, no pseudo-terminal or descriptor of this
  process left open.

While each run goes, the rig's and simlab's resident memory and open descriptors are
sampled (/proc); their per-round peaks are printed for the first and the last rounds so
a leak shows as a trend. Asserts nothing.

    .venv/bin/python bench/soak.py [--minutes 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.faults import fast_station  # noqa: E402

SUITE_END_S = 1500.0  # a fault injected before this lands while plans still run
FAULTS = [
    "scpi_disconnect:instrument={supply}",
    "scpi_late:instrument={any},delay_s=1",
    "scpi_garbage:instrument={any}",
    "scpi_error_flood:instrument={supply}",
    "scpi_reboot:instrument={any},down_s=0",
    "scpi_runaway:instrument=cellsim_{bank},channel={ch},volts=4.6,for_s=1e9",
    "bms_uart_silent",
    "bms_uart_corrupt",
]
INSTRUMENTS = ["charger", "load", "cellsim_a", "cellsim_b", "cellsim_c", "cellsim_d"]
TIMEOUT_S = 600


@dataclass
class Round:
    kind: str
    detail: str
    verdict: str = ""
    code: int | None = None
    hang: bool = False
    safe: bool = False
    leftovers: list[str] = field(default_factory=list)
    rig_rss_kb: int = 0
    rig_fds: int = 0
    lab_rss_kb: int = 0
    lab_fds: int = 0
    wall_s: float = 0.0

    @property
    def false_pass(self) -> bool:
        return self.kind != "clean" and self.verdict == "PASS" and not self.finished_first

    finished_first: bool = False  # a signal that came after the run had ended anyway


def proc_stats(pid: int) -> tuple[int, int]:
    """(resident kB, open descriptors) of a live process; zeros once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration, ValueError):
        return 0, 0


def simlab_pid(runs: Path) -> int | None:
    for store in runs.glob("*/results.jsonl"):
        for line in store.read_text().splitlines():
            if '"type": "simlab"' in line:
                return int(json.loads(line)["endpoints"]["pid"])
    return None


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}").exists()
        and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    )


def one_round(tmp: Path, station: Path, rng: random.Random) -> Round:
    roll = rng.random()
    args = ["--no-report"]
    sig_at: float | None = None
    if roll < 0.2:
        rnd = Round("clean", "")
    elif roll < 0.8:
        spec = rng.choice(FAULTS).format(
            supply=rng.choice(["charger", "load"]),
            any=rng.choice(INSTRUMENTS),
            bank=rng.choice("abcd"),
            ch=rng.randint(1, 4),
        )
        at_s = rng.uniform(5.0, SUITE_END_S)
        spec += ("," if ":" in spec else ":") + f"at_s={at_s:.1f}"
        rnd = Round("fault", spec)
        args += ["--sim-defect", spec]
    else:
        sig = rng.choice([signal.SIGINT, signal.SIGTERM])
        sig_at = rng.uniform(0.5, 8.0)
        rnd = Round("signal", f"{sig.name} at {sig_at:.1f} s")
    runs = tmp / "runs"
    t0 = time.monotonic()
    cmd = [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "--station", str(station)]
    proc = subprocess.Popen(
        [*cmd, *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lab: int | None = None
    signalled = False
    while proc.poll() is None:
        elapsed = time.monotonic() - t0
        if elapsed > TIMEOUT_S:
            rnd.hang = True
            proc.kill()
            break
        if sig_at is not None and not signalled and elapsed >= sig_at:
            proc.send_signal(sig)
            signalled = True
        lab = lab or simlab_pid(runs)
        rss, fds = proc_stats(proc.pid)
        rnd.rig_rss_kb, rnd.rig_fds = max(rnd.rig_rss_kb, rss), max(rnd.rig_fds, fds)
        if lab:
            rss, fds = proc_stats(lab)
            rnd.lab_rss_kb, rnd.lab_fds = max(rnd.lab_rss_kb, rss), max(rnd.lab_fds, fds)
        time.sleep(0.05)
    proc.wait()
    rnd.wall_s = time.monotonic() - t0
    rnd.code = proc.returncode
    rnd.finished_first = sig_at is not None and not signalled
    dirs = list(runs.iterdir()) if runs.exists() else []
    if dirs:
        final = dirs[0] / "simlab-final.json"
        for _ in range(100):
            if final.exists():
                break
            time.sleep(0.05)
        lines = (dirs[0] / "results.jsonl").read_text().splitlines()
        ends = [json.loads(x) for x in lines if '"type": "run_end"' in x]
        rnd.verdict = ends[-1]["verdict"] if ends else "(no run_end)"
        rnd.safe = final.exists() and json.loads(final.read_text())["safe"]
    else:
        rnd.verdict, rnd.safe = "(nothing ran)", True  # stopped before simlab started
    time.sleep(0.2)
    if alive(lab):
        rnd.leftovers.append(f"simlab pid {lab} still running")
    subprocess.run(["rm", "-rf", str(runs)], check=True)
    return rnd


def trend(rounds: list[Round], attr: str) -> str:
    values = [getattr(r, attr) for r in rounds if getattr(r, attr)]
    if len(values) < 4:
        return "-"
    q = max(len(values) // 4, 1)
    first, last = statistics.mean(values[:q]), statistics.mean(values[-q:])
    return f"{first:8.0f} {last:8.0f} {max(values):8.0f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rounds: list[Round] = []
    own_fds = len(os.listdir("/proc/self/fd"))
    ptys = len(os.listdir("/dev/pts"))
    deadline = time.monotonic() + args.minutes * 60
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        station = fast_station(tmp / "station.yaml")
        while time.monotonic() < deadline:
            rnd = one_round(tmp, station, rng)
            rounds.append(rnd)
            flags = ("HANG " if rnd.hang else "") + ("FALSE-PASS " if rnd.false_pass else "")
            flags += ("UNSAFE " if not rnd.safe else "") + " ".join(rnd.leftovers)
            print(
                f"{len(rounds):3d} {rnd.kind:<6} {rnd.verdict:<13} exit {rnd.code!s:>4} "
                f"{rnd.wall_s:5.1f} s  {rnd.detail}  {flags}",
                flush=True,
            )
    own_after = len(os.listdir("/proc/self/fd"))
    ptys_after = len(os.listdir("/dev/pts"))
    kinds = {k: sum(r.kind == k for r in rounds) for k in ("clean", "fault", "signal")}
    print(f"\nsoak: {len(rounds)} runs in {args.minutes:g} min ({kinds})")
    hangs = sum(r.hang for r in rounds)
    false = sum(r.false_pass for r in rounds)
    clean_bad = sum(r.kind == "clean" and r.verdict != "PASS" for r in rounds)
    unsafe = sum(not r.safe for r in rounds)
    left = sum(bool(r.leftovers) for r in rounds)
    print(f"  hangs {hangs}, false passes {false}, clean runs not PASS {clean_bad}, ")
    print(f"  unsafe ends {unsafe}, runs leaving something behind {left}")
    print("  per-run peak        first-q   last-q      max")
    print(f"  rig RSS kB        {trend(rounds, 'rig_rss_kb')}")
    print(f"  rig descriptors   {trend(rounds, 'rig_fds')}")
    print(f"  simlab RSS kB     {trend(rounds, 'lab_rss_kb')}")
    print(f"  simlab descriptors{trend(rounds, 'lab_fds')}")
    print(f"  this process's descriptors {own_fds} -> {own_after}")
    print(f"  /dev/pts entries {ptys} -> {ptys_after}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
