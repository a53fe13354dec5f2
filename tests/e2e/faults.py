"""What the fault and exit-path tests share (and bench/exit_paths.py and bench/soak.py).

A workload plan that keeps every instrument and the BMS busy for a known stretch of
simulated time, so a fault injected at `at_s` lands in the middle of a plan; a quiet
plan after it, so the run goes on and simlab's time moves past the fault; a station
variant with short I/O timeouts, so a failing link costs a fraction of a second; and the
checks every exit path must pass, read from simlab's own final state and the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rig.results.store import read_store

REPO = Path(__file__).resolve().parents[2]
WORKLOAD_S = 40.0  # simulated seconds the workload plan runs

WORKLOAD_PLAN = '''
    """A plan that keeps the whole station busy: cells, charger, load and the BMS."""
    import os

    SECONDS = float(os.environ.get("RIG_WORKLOAD_S", "{workload_s}"))
    from rig.measure import rectangular

    B = [rectangular("test value", 0.01, "the test's own stated accuracy")]


    def test_workload(station, dut, clock, record):
        """Every instrument and the BMS, once per simulated second."""
        station.cells.set_all(3.30)
        station.cells.on()
        station.charger.set_voltage(53.0)
        station.charger.set_current_limit(0.5)
        station.load.set_current(0.5)
        t0 = clock.now()
        step = 0
        while clock.now() - t0 < SECONDS:
            step += 1
            station.cells.set_voltage(1 + step % 16, 3.30 + 0.01 * (step % 3))
            if step % 2:
                station.charger.on()
                station.load.off()
            else:
                station.charger.off()
                station.load.on()
            station.charger.measure_current()
            station.load.measure_current()
            station.cells.measure_voltage(1 + step % 16)
            dut.read_status()
            clock.sleep(1.0)
        station.charger.off()
        station.load.off()
        record("workload_steps", float(step), "steps", low=1.0, high=1e6, exact=True)


    def test_quiet(station, clock, record):
        """Lets the lab's time move on (past a fault's end), then measures one thing."""
        clock.sleep(60.0)
        record("quiet_cell1", station.cells.measure_voltage(1), "V", low=0.0, high=4.0, budget=B)
'''.replace("{workload_s}", repr(WORKLOAD_S))


def write_workload(folder: Path) -> Path:
    import textwrap

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_workload.py").write_text(textwrap.dedent(WORKLOAD_PLAN))
    return folder


def fast_station(path: Path, source: str = "stations/sim-16s.yaml", timeout_ms: int = 250) -> Path:
    """The station with short I/O timeouts (a dead link is found in a fraction of a second)
    and a close watchdog."""
    doc = yaml.safe_load((REPO / source).read_text())
    for inst in doc["instruments"].values():
        inst["timeout_ms"] = timeout_ms
    doc["dut"]["timeout_s"] = min(float(doc["dut"].get("timeout_s", 0.5)), 0.3)
    doc["watchdog"] = {"period_s": 2.0}  # a close watch: a runaway is seen within seconds
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@dataclass
class Outcome:
    """What one exit path left behind, judged."""

    returncode: int
    records: list[dict[str, Any]]
    torn: bool
    final: dict[str, Any] | None
    prefix_kept: bool  # every byte of the store seen before the fault is still there

    @property
    def safe(self) -> bool:
        return bool(self.final and self.final["safe"])

    @property
    def intact(self) -> bool:
        """The store holds a whole run, or what a killed one wrote (a torn line reported)."""
        return self.prefix_kept and bool(self.records) and self.records[0]["type"] == "run_start"

    def results(self, test: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["type"] == "test_result" and r["test"].endswith(test)]

    @property
    def run_end(self) -> dict[str, Any] | None:
        ends = [r for r in self.records if r["type"] == "run_end"]
        return ends[-1] if ends else None


def judge(run_dir: Path, returncode: int, before: bytes = b"") -> Outcome:
    contents = read_store(run_dir)
    data = (run_dir / "results.jsonl").read_bytes()
    final_path = run_dir / "simlab-final.json"
    final = json.loads(final_path.read_text()) if final_path.exists() else None
    return Outcome(
        returncode=returncode,
        records=contents.records,
        torn=contents.torn is not None,
        final=final,
        prefix_kept=data.startswith(before),
    )
