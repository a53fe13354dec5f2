"""The panel's cost to a run, and how soon an event reaches a page.

A default `rig run` (every plan, simulated station, report on), several times each way,
alternated: alone, and with `rig panel` serving and two headless Chromium browsers (the
system's, each its own process) following the run's live view. Prints the wall time of
each run, the difference of the medians against the spread of the runs alone (the
machine's noise), and the latency from a record's time stamp (taken as the rig writes
it, ms resolution) to its arrival in each page's event handler, for the records that
arrived live (those written before the page opened are its catch-up, not latency).

    .venv/bin/python bench/panel_overhead.py              # 3 runs each way
    .venv/bin/python bench/panel_overhead.py --repeat 5 -k cell_ov

No timing is asserted; the numbers are for docs/panel.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-dev-shm-usage"]  # fmt: skip


def start_panel(runs: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rig", "panel", "--runs-dir", str(runs), "--port", "0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("panel: "):
        raise RuntimeError(f"rig panel said: {line!r}")
    return proc, line.split()[1].rstrip("/")


def one_run(runs: Path, run_id: str, selection: list[str], pages: list) -> tuple[float, list]:
    """Wall seconds of one `rig run`; with pages, they follow it from its first record."""
    cmd = [sys.executable, "-m", "rig", "run", "--runs-dir", str(runs), "--run-id", run_id,
           *selection]  # fmt: skip
    store = runs / run_id / "results.jsonl"
    with open(os.devnull, "w") as quiet:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=quiet, stderr=quiet)
        opened_at = None
        if pages:
            while not store.exists() and proc.poll() is None:
                time.sleep(0.005)
            opened_at = time.time()
            for page, url in pages:
                page.goto(f"{url}/#run={run_id}")
        code = proc.wait()
        wall = time.perf_counter() - started
    if code not in (0, 1):
        raise RuntimeError(f"rig run exited {code}")
    latencies = []
    for page, _ in pages:
        page.wait_for_selector("#run-state:text-is('ended')", state="attached", timeout=300_000)
        arrivals = page.evaluate("window.rigPanel.arrivals")
        assert opened_at is not None
        first_arrival = min(a[2] for a in arrivals) / 1000
        live = []
        for _, at, received_ms, shown_ms in arrivals:
            stamped = datetime.fromisoformat(at).timestamp()
            if stamped > first_arrival:  # written after the page had caught up
                live.append((received_ms / 1000 - stamped, shown_ms / 1000 - stamped))
        latencies.append(live)
    return wall, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("-k", default=None, help="a selection instead of every plan")
    args = parser.parse_args()
    selection = ["-k", args.k] if args.k else []
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        runs = Path(tmp) / "runs"
        runs.mkdir()
        panel, url = start_panel(runs)
        browsers = [
            pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS) for _ in range(2)
        ]
        pages = [(b.new_page(), url) for b in browsers]
        alone, followed, lat = [], [], [[], []]
        try:
            for n in range(args.repeat):
                wall, _ = one_run(runs, f"alone-{n}", selection, [])
                alone.append(wall)
                print(f"run {n + 1}: alone {wall:6.2f} s", end="", flush=True)
                wall, live = one_run(runs, f"followed-{n}", selection, pages)
                followed.append(wall)
                for i, values in enumerate(live):
                    lat[i] += values
                print(f"   with the panel and two browsers {wall:6.2f} s", flush=True)
        finally:
            for b in browsers:
                b.close()
            panel.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                panel.wait(timeout=10)
    med_a, med_f = statistics.median(alone), statistics.median(followed)
    noise = max(alone) - min(alone)
    print(f"\nmedian wall time: alone {med_a:.2f} s, followed {med_f:.2f} s; "
          f"difference {med_f - med_a:+.2f} s ({(med_f / med_a - 1) * 100:+.1f} %)")  # fmt: skip
    print(
        f"noise (spread of the runs alone): {noise:.2f} s; "
        f"difference / noise = {abs(med_f - med_a) / noise if noise else float('inf'):.2f}"
    )
    for i, pairs in enumerate(lat, 1):
        for what, values in (("received", [p[0] for p in pairs]), ("shown", [p[1] for p in pairs])):
            if not values:
                continue
            values.sort()
            p95 = values[int(0.95 * (len(values) - 1))]
            print(f"browser {i}: {len(values)} live events, written to {what}: median "
                  f"{statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                  f"max {values[-1] * 1000:.0f} ms, within 0.5 s: "
                  f"{sum(v <= 0.5 for v in values) / len(values) * 100:.1f} %")  # fmt: skip
    print(json.dumps({"alone_s": alone, "followed_s": followed}))


if __name__ == "__main__":
    main()
