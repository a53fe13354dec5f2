"""One test session on one station: opened on first use, made safe and closed at the end."""

from __future__ import annotations

import contextlib
import dataclasses
import platform
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dut_drivers.base import BmsLink
from rig.clock import Clock, VirtualClock, WallClock
from rig.config import DutSpec, StationConfig, load_spec, load_station
from rig.paths import resolve
from rig.results import ResultsStore, new_run_id
from rig.safety import SafetyManager
from rig.simlink import SimControl, SimlabProcess
from rig.station import Station
from rig.station.station import open_dut
from rig.station.transcript import Transcript


class RigSession:
    def __init__(self, config: pytest.Config):
        self.pytest_config = config
        opt = config.getoption
        self.station_path = resolve(opt("--station"))
        self.spec_path = resolve(opt("--spec"))
        self.sim_sets: list[str] = list(opt("--sim-set"))
        self.sim_defects: list[str] = list(opt("--sim-defect"))
        self.seed: int | None = opt("--seed")
        self.runs_dir = Path(opt("--runs-dir"))
        self.run_id: str = opt("--run-id") or new_run_id()
        self.started = False
        self._start_error: BaseException | None = None
        self.station_config: StationConfig | None = None
        self._spec: DutSpec | None = None
        self.store: ResultsStore | None = None
        self.simlab: SimlabProcess | None = None
        self.control: SimControl | None = None
        self.clock: Clock | None = None
        self.safety = SafetyManager()
        self.station: Station | None = None
        self.dut: BmsLink | None = None
        self.dut_transcript: Transcript | None = None
        self.failed_measurements = 0
        self.measurements = 0

    @property
    def run_dir(self) -> Path:
        return self.runs_dir / self.run_id

    @property
    def spec(self) -> DutSpec:
        if self._spec is None:
            self._spec = load_spec(self.spec_path)
        return self._spec

    def start(self) -> RigSession:
        if self._start_error is not None:
            raise self._start_error
        if self.started:
            return self
        try:
            self._start()
        except BaseException as exc:
            self._start_error = exc
            if self.store is not None:
                self.store.write(
                    {"type": "error", "stage": "start", "error": f"{type(exc).__name__}: {exc}"}
                )
            self.safety.make_safe("station failed to open")
            raise
        return self

    def _start(self) -> None:
        self.started = True
        station = load_station(self.station_path)
        spec = self.spec
        self.station_config = station
        if (self.sim_sets or self.sim_defects or self.seed is not None) and not station.simulated:
            raise pytest.UsageError("--sim-set/--sim-defect/--seed need a simulated station")
        self.store = ResultsStore(self.run_dir)
        self.store.write(
            {
                "type": "run_start",
                "run_id": self.run_id,
                "station": station.name,
                "station_file": str(self.station_path),
                "location": station.location,
                "spec_file": str(self.spec_path),
                "dut_name": spec.dut.name,
                "simulated": station.simulated,
                "seed": self.seed
                if self.seed is not None
                else (station.simlab.seed if station.simlab else None),
                "sim_sets": self.sim_sets,
                "sim_defects": self.sim_defects,
                "started": time.time(),
                "host": platform.node(),
                "python": sys.version.split()[0],
                "argv": sys.argv,
            }
        )
        endpoints: dict[str, Any] = {}
        if station.simulated:
            self.simlab = SimlabProcess(
                station=self.station_path,
                sets=self.sim_sets,
                defects=self.sim_defects,
                seed=self.seed,
                log=self.run_dir / "simlab.log",
            )
            endpoints = self.simlab.start()
            self.store.write({"type": "simlab", "endpoints": endpoints})
            self.control = SimControl(endpoints["control"])
            self.clock = VirtualClock(self.control)
        else:
            self.clock = WallClock()
        self.safety.install_exit_guards()
        self.station = Station.open(
            station, self.safety, endpoints, transcript_dir=self.run_dir / "transcripts"
        )
        self.make_safe("station opened")  # every run starts from the known safe state
        for rec in self.station.equipment:
            self.store.write({"type": "instrument", **dataclasses.asdict(rec)})
        self.dut_transcript = Transcript(self.run_dir / "transcripts" / "dut.jsonl")
        self.dut = open_dut(
            station, endpoints, self.dut_transcript, self.clock, spec.dut.current_sign
        )
        identity = self.dut.identity()
        self.store.write({"type": "dut", **dataclasses.asdict(identity)})

    def record(self, record: dict[str, Any]) -> None:
        if self.store is not None:
            self.store.write(record)

    def make_safe(self, reason: str) -> list:
        if not self.started:
            return []
        failures = self.safety.make_safe(reason)
        self.record(
            {
                "type": "safe_state",
                "reason": reason,
                "failures": [dataclasses.asdict(f) for f in failures],
            }
        )
        return failures

    def finish(self, exitstatus: int) -> None:
        if not self.started:
            return
        self.make_safe("end of session")
        if self.control is not None:
            with contextlib.suppress(Exception):
                truth = self.control.truth()
                events = self.control.events(0)
                self.record({"type": "sim_truth", "truth": truth, "events": events})
        if self.dut is not None:
            with contextlib.suppress(Exception):
                self.dut.close()
        if self.dut_transcript is not None:
            self.dut_transcript.close()
        if self.station is not None:
            self.station.close()
        self.safety.clear()  # the drivers are closed: nothing left to make safe through them
        if self.control is not None:
            with contextlib.suppress(Exception):
                self.control.close()
        if self.simlab is not None:
            self.simlab.stop()
        self.record(
            {
                "type": "run_end",
                "ended": time.time(),
                "exitstatus": int(exitstatus),
                "measurements": self.measurements,
                "failed_measurements": self.failed_measurements,
            }
        )
        if self.store is not None:
            self.store.close()
