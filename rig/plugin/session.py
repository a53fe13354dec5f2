"""One test session on one station: its run folder, simlab, the station and the outcome.

Three moments: `open()` once the plans are collected (configuration checked, simlab
started and its refusal of a bad option turned into a usage error, the results store
opened: nothing has been driven yet); `start()` when the first plan asks for the
station (instruments and DUT opened, the bench put in its safe state); `finish()` when
the session ends, whatever ended it (safe state, ground truth, everything closed, and a
`run_end` that carries the run's verdict and exit code).
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dut_drivers.base import BmsLink
from rig.clock import Clock, VirtualClock, WallClock
from rig.config import ConfigError, DutSpec, StationConfig, load_spec, load_station
from rig.config.crosscheck import check_spec_against_station, check_station_against_models
from rig.config.lab import laboratory_of
from rig.interlock import Interlock
from rig.operator import Prompter
from rig.paths import resolve
from rig.recovery import RecoveryResult
from rig.results import ResultsStore, new_run_id, read_records
from rig.results.verdict import exit_code, summarize_records
from rig.safety import SIGNALS, SafeFailure, SafetyManager
from rig.simlink import (
    SimControl,
    SimlabError,
    SimlabProcess,
    SimlabUsageError,
    adopt,
    forbid_callers_under,
    station_is_simulated,
)
from rig.station import Station
from rig.station.checks import StationCheck, StationCheckError, check_cell_count, pin_check
from rig.station.station import check_visa_library, open_dut
from rig.station.transcript import Transcript
from rig.watchdog import Watchdog, WatchedClock

if TYPE_CHECKING:
    from rig.plugin.console import RunConsole

# The end of a session tries the safe state again this often, this far apart (run time),
# while a step fails: an instrument that dropped off may come back.
FINAL_SAFE_RETRIES = 4
FINAL_SAFE_WAIT_S = 10.0

# A plan that asks for any of these runs on the station: the session opens for it.
RIG_FIXTURES = frozenset({"rig", "station", "dut", "clock", "record", "ready"})


def _uses_rig(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    for name in RIG_FIXTURES & set(getattr(item, "fixturenames", ())):
        defs = info.name2fixturedefs.get(name) if info is not None else None
        if defs and getattr(defs[-1].func, "__module__", "").startswith("rig.plugin"):
            return True
    return False


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
        self.forced = opt("--run-id") is not None  # `rig run`: a run even if no plan needs it
        self.prepared = False  # configuration checked, simlab started
        self.opened = False  # store open: outcomes are recorded
        self.started = False  # station and DUT opened (or tried)
        self.finished = False  # finish() ran: the store is closed
        self._start_error: BaseException | None = None
        self.station_config: StationConfig | None = None
        self.laboratory: dict[str, Any] | None = None  # from the lab file (rig.config.lab)
        self._spec: DutSpec | None = None
        self._station_read: StationConfig | None = None
        self.store: ResultsStore | None = None
        self.simlab: SimlabProcess | None = None
        self.endpoints: dict[str, Any] = {}
        self.simlab_start_s: float | None = None
        self.watchdog: Watchdog | None = None
        self.lost = ""  # an instrument lost mid-run: no further plan is started
        self._simlab_spawned_at = 0.0
        self.control: SimControl | None = None
        self.clock: Clock | None = None
        self.safety = SafetyManager()
        self.station: Station | None = None
        self.dut: BmsLink | None = None
        self.dut_transcript: Transcript | None = None
        self.failed_measurements = 0
        self.measurements = 0
        self.current: pytest.Item | None = None  # the plan running now, and its phase
        self.phase = ""
        self.say: Callable[[str], None] = lambda text: print(text, file=sys.stderr)
        self.console: RunConsole | None = None  # `rig run`'s console (rig.plugin.console)
        self.not_applicable: list[tuple[str, str]] = []  # (plan, why) deselected at collection
        self.interlock: Interlock | None = None
        self.prompter: Prompter | None = None
        self.stopped_by = ""  # the interlock opened: the run stops, and this says why
        # the last recovery that found the DUT ready: (result, reason, clock, messages)
        self._ready_mark: tuple[RecoveryResult, str, float, int] | None = None

    @property
    def run_dir(self) -> Path:
        return self.runs_dir / self.run_id

    @property
    def final_state_path(self) -> Path:
        """Where simlab writes its outputs as it stops: the bench seen from the far side."""
        return self.run_dir / "simlab-final.json"

    def messages(self) -> int | None:
        """Every message sent or received on the bench's links so far (instruments and
        BMS), as their transcripts count them; None where a link keeps none."""
        if self.station is None or self.dut_transcript is None:
            return None
        return self.dut_transcript.count + sum(t.count for t in self.station.transcripts)

    def mark_ready(self, result: RecoveryResult, reason: str) -> None:
        """Note a recovery's outcome: one that found the DUT ready may stand for the next
        plan's (`still_ready`); any other clears the note."""
        messages = self.messages()
        if not result.ready or messages is None or self.clock is None:
            self._ready_mark = None
            return
        self._ready_mark = (result, reason, self.clock.now(), messages)

    def still_ready(self) -> tuple[RecoveryResult, str] | None:
        """The last recovery's ready DUT, if nothing has happened on the bench since: no
        message on any link and no more time than the spec's settle time (the wait a
        recovery gives the BMS before asking it)."""
        mark, self._ready_mark = self._ready_mark, None  # stands for one plan only
        if mark is None or self.clock is None:
            return None
        result, reason, then, messages = mark
        quiet = self.messages() == messages
        if not quiet or self.clock.now() - then > self.spec.test_conditions.settle_s:
            return None
        return RecoveryResult(True, "ready", 0.0, result.status), reason

    @property
    def spec(self) -> DutSpec:
        if self._spec is None:
            self._spec = load_spec(self.spec_path)
        return self._spec

    def _station_file(self) -> StationConfig:
        """The station file, read once: collection asks it of every plan (a hundred
        parsings and validations of the same YAML cost 0.4 s of every run's start)."""
        if self._station_read is None:
            self._station_read = load_station(self.station_path)
        return self._station_read

    # -- open: before any plan runs ---------------------------------------------------------

    def unstated_protections(self) -> set[str]:
        """Protections the spec format knows but this DUT's spec does not state."""
        from rig.config.spec import Protections

        try:
            spec = self.spec
        except ConfigError:
            return set()
        unstated = {n for n in Protections.model_fields if getattr(spec.protections, n) is None}
        return unstated | spec.unstated_functions()

    def protocol_capabilities(self) -> set[str] | None:
        """What the station's BMS protocol can report (None: the station file is unreadable;
        `prepare` reports that properly)."""
        from dut_drivers.registry import PROTOCOLS

        try:
            station = self._station_file()
        except Exception:
            return None
        info = PROTOCOLS.get(station.dut.protocol)
        return None if info is None else {str(c) for c in info.capabilities}

    def station_roles(self) -> set[str] | None:
        """The optional roles the station file wires (None: the file is unreadable;
        `prepare` reports that properly)."""
        try:
            wiring = self._station_file().wiring
        except Exception:
            return None
        wired = {
            "cells": bool(wiring.cells),
            "thermistors": bool(wiring.thermistors),
            "digitizer": wiring.digitizer,
            "short": wiring.short,
            "switch": bool(wiring.switch),
            "shunt": wiring.shunt,
            "thermocouples": bool(wiring.thermocouples),
        }
        return {role for role, present in wired.items() if present}

    def unfit(self, protections: list[str]) -> str | None:
        """Why the station's instruments cannot carry what a plan of these protections
        commands (rig.station.fitness); None if they can, or if the files are unreadable
        (`prepare` reports that properly)."""
        from rig.station.fitness import unfit

        try:
            station, spec = self._station_file(), self.spec
        except Exception:
            return None
        return unfit(station, spec, protections)

    def wanted(self, items: list[pytest.Item]) -> bool:
        """A run, if `rig run` asked for one or a collected plan uses the rig's own
        fixtures (a test with a fixture of its own named `clock` is not a plan)."""
        return self.forced or any(_uses_rig(item) for item in items)

    def wants_simlab(self) -> bool:
        return station_is_simulated(self.station_path)

    def prepare(self) -> None:
        """Check everything a run depends on and start simlab; UsageError if it cannot run.

        simlab is asked here rather than imitated: it checks its own options (parameter
        paths, value types, defects) as it starts, and its refusal becomes a usage error
        before any plan runs. Starting it now costs nothing extra, the run needs it anyway;
        `rig run` does this before pytest even collects, so a refusal is its one message.
        """
        if self.prepared:
            return
        self.prepared = True
        try:
            station = self._station_file()
            spec = self.spec
            check_spec_against_station(spec, station)
            check_station_against_models(station)
            check_visa_library(station)
            self.laboratory = laboratory_of(self.pytest_config.getoption("--lab"), station)
        except ConfigError as exc:
            self.abandon()
            raise pytest.UsageError(str(exc)) from None
        self.station_config = station
        if (self.sim_sets or self.sim_defects or self.seed is not None) and not station.simulated:
            self.abandon()
            raise pytest.UsageError(
                f"--sim-set, --sim-defect and --seed need a simulated station; "
                f"{self.station_path} is a real bench"
            )
        if station.simulated:
            self._start_simlab()

    def open(self, items: list[pytest.Item]) -> None:
        """Open the run's store once the plans are known; nothing has been driven yet."""
        self.prepare()
        station, spec = self.station_config, self.spec
        assert station is not None
        forbid_callers_under(*{item.path.parent for item in items})  # plans: no control channel
        self.store = ResultsStore(self.run_dir)
        self.opened = True
        self.prompter = Prompter(
            self.run_dir,
            self.record,
            self.say,
            terminal=bool(self.pytest_config.getoption("--prompt-terminal")),
            login=self.pytest_config.getoption("--tested-by") or _login(),
        )
        self.store.write(
            {
                "type": "run_start",
                "run_id": self.run_id,
                "station": station.name,
                "station_file": str(self.station_path),
                "location": station.location,
                "station_description": station.description,
                "laboratory": self.laboratory,
                "lab_file": str(self.laboratory.get("file", "")) if self.laboratory else "",
                "tested_by": self.pytest_config.getoption("--tested-by") or "",
                "login": _login(),  # who the machine says ran it: not a signature
                "spec_file": str(self.spec_path),
                "dut_name": spec.dut.name,
                "simulated": station.simulated,
                "seed": self.endpoints.get("seed", self.seed),
                "sim_sets": self.sim_sets,
                "sim_defects": self.sim_defects,
                "selected": [item.nodeid for item in items],
                "started": time.time(),
                "host": platform.node(),
                "python": sys.version.split()[0],
                "argv": sys.argv,
                "pid": os.getpid(),  # the panel's stop button signals it (SIGINT)
                "interlock": station.interlock.name if station.interlock else None,
            }
        )
        if self.simlab is not None:
            self.store.write(
                {"type": "simlab", "endpoints": self.endpoints, "start_s": self.simlab_start_s}
            )
        for plan, why in self.not_applicable:
            self.store.write({"type": "not_applicable", "test": plan, "reason": why})

    def spawn_simlab(self) -> None:
        """Start simlab's process now, read its answer in `prepare()`: it boots while pytest
        loads and collects, instead of after."""
        if self.simlab is not None:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.simlab = adopt(
            SimlabProcess(
                station=self.station_path,
                sets=self.sim_sets,
                defects=self.sim_defects,
                seed=self.seed,
                log=self.run_dir / "simlab.log",
                final_state=self.final_state_path,
            )
        )
        self._simlab_spawned_at = time.monotonic()
        self.simlab.spawn()

    def _start_simlab(self) -> None:
        self.spawn_simlab()
        assert self.simlab is not None
        try:
            self.endpoints = self.simlab.ready()
            self.simlab_start_s = round(time.monotonic() - self._simlab_spawned_at, 4)
        except SimlabUsageError as exc:
            self.simlab = None
            self._discard_run_dir()
            raise pytest.UsageError(f"simlab refused the run: {exc}") from None
        except KeyboardInterrupt:
            self.simlab.stop()
            self.simlab = None
            self._discard_run_dir()
            raise
        except SimlabError:  # it crashed: its log (named in the message) stays
            self.simlab = None
            raise

    def _discard_run_dir(self) -> None:
        """Nothing ran: leave no half-made run folder behind (only simlab's own files)."""
        for name in ("simlab.log", self.final_state_path.name):
            with contextlib.suppress(OSError):
                (self.run_dir / name).unlink()
        with contextlib.suppress(OSError):
            self.run_dir.rmdir()

    # -- start: when the first plan asks for the station ------------------------------------

    def start(self) -> RigSession:
        if self._start_error is not None:
            raise self._start_error
        if self.started:
            return self
        if not self.opened:
            raise RuntimeError("the rig session was not opened (no plan asked for the station)")
        try:
            self._start()
        except BaseException as exc:
            self._start_error = exc
            self.record(
                {"type": "error", "stage": "start", "error": f"{type(exc).__name__}: {exc}"}
            )
            self.make_safe("station failed to open")
            raise
        return self

    def _start(self) -> None:
        self.started = True
        station = self.station_config
        assert station is not None and self.store is not None
        if self.simlab is not None:
            self.control = SimControl(self.endpoints["control"])
            self.clock = VirtualClock(self.control)
        else:
            self.clock = WallClock()
        self.safety.install_exit_guards()
        self.station = Station.open(
            station, self.safety, self.endpoints, transcript_dir=self.run_dir / "transcripts"
        )
        self.make_safe("station opened")  # every run starts from the known safe state
        # the BMS measures the safe bench before its first question: a board that has not
        # answers nothing (and every unanswered question costs the link's timeout)
        self.clock.sleep(self.spec.test_conditions.settle_s)
        if station.watchdog.enabled:  # armed while each plan runs (see the hooks)
            self.watchdog = Watchdog(self.station, station.limits, station.watchdog.period_s)
        if station.interlock is not None:  # read throughout the run, from here on
            driver = self.station.drivers[station.interlock.input.instrument]
            self.interlock = Interlock(station.interlock, driver, self._interlock_opened)
        if self.watchdog is not None or self.interlock is not None:
            self.clock = WatchedClock(self.clock, self.watchdog, self.interlock)
        self.operator_steps("start", None)  # e.g. connect the harness, close the cover
        if self.interlock is not None:
            self.interlock.check(None, "before the first plan")  # outputs are all off
            self.interlock.arm(self.clock.now())
        for rec in self.station.equipment:
            self.store.write({"type": "instrument", **dataclasses.asdict(rec)})
        self.dut_transcript = Transcript(self.run_dir / "transcripts" / "dut.jsonl")
        self.dut = open_dut(
            station, self.endpoints, self.dut_transcript, self.clock, self.spec.dut.current_sign
        )
        identity = self.dut.identity()
        self.store.write({"type": "dut", **dataclasses.asdict(identity)})
        self._check_station(identity.cell_count)

    def _check_station(self, reported_cells: int | None) -> None:
        """Identity, modules, calibration, cell counts and wiring, before the first plan."""
        assert self.station is not None and self.dut is not None and self.clock is not None
        assert self.station_config is not None
        tc = self.spec.test_conditions
        checks: list[StationCheck] = list(self.station.checks)
        count = check_cell_count(self.station_config, self.spec, reported_cells)
        checks.append(count)
        if count.ok and self.station_config.wiring.cells:
            checks.append(
                pin_check(
                    self.station.cells,
                    self.dut,
                    self.clock,
                    tc.nominal_cell_voltage,
                    tc.pin_check_step_v,
                    tc.settle_s,
                )
            )
        for check in checks:
            self.record(check.record())
            if not check.ok and check.severity == "warning":
                self._say(f"station check warning: {check.message}")
        failed = [c for c in checks if not c.ok and c.severity == "error"]
        if failed:
            raise StationCheckError(
                "the bench is not what the station file describes: "
                + "; ".join(c.message for c in failed)
            )

    def _say(self, text: str) -> None:
        if self.console is not None:
            self.console.line(text, "yellow")
            return
        reporter = self.pytest_config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(text, yellow=True)

    # -- during the run ------------------------------------------------------------------

    def record(self, record: dict[str, Any]) -> None:
        if self.store is not None:
            self.store.write(record)

    def make_safe(self, reason: str, final: bool = False) -> list[SafeFailure]:
        if not self.started:
            return []
        # the sequence, its record and its failures on the console, before any signal
        with SIGNALS.deferred(reraise=not final):
            mark = self._ready_mark
            quiet = mark is not None and self.messages() == mark[3]
            failures = self.safety.make_safe(reason)
            if quiet and not failures and mark is not None and self._ready_mark is mark:
                # the safe state sent again over the one a recovery left: the same
                # levels, nothing changed, the DUT as ready as that recovery found it
                self._ready_mark = (*mark[:3], self.messages() or 0)
            self.record(
                {
                    "type": "safe_state",
                    "reason": reason,
                    "failures": [dataclasses.asdict(f) for f in failures],
                }
            )
            for f in failures:
                self.say(f"SAFE STATE: {f.action} FAILED ({reason}): {f.error}")
        return failures

    # -- operator steps and the interlock ------------------------------------------------

    def operator_steps(self, before: str, item: pytest.Item | None) -> None:
        """Ask the station's steps for `before` ('start', or each that names a marker of
        `item`) and the plan's own `operator_step` markers; raises if one is not done."""
        assert self.station_config is not None and self.prompter is not None
        operator = self.station_config.operator
        steps = []
        for step in operator.steps:
            at_start = step.before == "start"
            if (before == "start" and at_start) or (
                item is not None and not at_start and item.get_closest_marker(step.before)
            ):
                steps.append((step.id, step.text, step.timeout_s))
        if item is not None:
            for mark in item.iter_markers("operator_step"):
                step_id, text = str(mark.args[0]), str(mark.args[1])
                steps.append((step_id, text, mark.kwargs.get("timeout_s")))
        test = item.nodeid if item is not None else None
        if steps:  # a person changes the bench: no recovery before stands for the next plan
            self._ready_mark = None
        for step_id, text, timeout_s in steps:
            self.prompter.ask(step_id, text, timeout_s or operator.timeout_s, test)

    def plan_needs(self, item: pytest.Item) -> bool:
        """Something to do before this plan: the interlock to read, or a step to ask."""
        assert self.station_config is not None
        if self.station_config.interlock is not None or item.get_closest_marker("operator_step"):
            return True
        return any(
            s.before != "start" and item.get_closest_marker(s.before)
            for s in self.station_config.operator.steps
        )

    def before_plan(self, item: pytest.Item) -> None:
        """Before the plan's fixtures drive anything: its manual steps, then the interlock
        (every output is off here: the last plan ended in the safe state)."""
        if not self.opened or self.station_config is None or not self.plan_needs(item):
            return
        self.start()
        self.operator_steps("plan", item)
        if self.interlock is not None:
            self.interlock.check(None, f"before {item.nodeid}")

    def _interlock_opened(self, reason: str, now: float | None) -> None:
        """The interlock read open: the bench safe first, then the record."""
        self.stopped_by = reason
        self.make_safe(reason)
        self.record(
            {
                "type": "interlock",
                "state": "open",
                "reason": reason,
                "t": now,
                "polls": self.interlock.polls if self.interlock is not None else None,
                "test": self.current.nodeid if self.current is not None else None,
            }
        )

    def test_started(self, item: pytest.Item) -> None:
        self.current, self.phase = item, "setup"
        if not self.opened:
            return
        doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
        module_doc = getattr(getattr(item, "module", None), "__doc__", None) or ""
        self.record(
            {
                "type": "test_start",
                "test": item.nodeid,
                "doc": " ".join(doc.split()),
                "module_doc": " ".join(module_doc.split()),
                # transcripts are stamped with the monotonic clock: this is where the plan's
                # exchanges begin in them (reports slice them per plan)
                "mono": time.monotonic(),
                "protection": [str(a) for m in item.iter_markers("protection") for a in m.args],
                "clause": [str(a) for m in item.iter_markers("clause") for a in m.args],
                "markers": sorted({m.name for m in item.iter_markers()}),
            }
        )

    def arm_watchdog(self) -> None:
        if self.watchdog is not None and self.clock is not None:
            self.watchdog.arm(self.clock.now())

    def disarm_watchdog(self) -> None:
        if self.watchdog is not None:
            self.watchdog.disarm()

    def test_interrupted(self, item: pytest.Item, why: str) -> None:
        """The plan running when a signal arrived: recorded as cut off, in its phase."""
        if self.opened:
            self.record(
                {
                    "type": "test_result",
                    "test": item.nodeid,
                    "when": self.phase or "call",
                    "outcome": "interrupted",
                    "reason": f"interrupted by {why} during {self.phase or 'call'}",
                    "longrepr": "",
                }
            )

    # -- finish: whatever ended the session ----------------------------------------------

    def abandon(self) -> None:
        """Prepared but never opened (no plan selected, or a signal before collection
        ended): no run happened, so stop simlab and leave no run folder."""
        if self.opened or self.simlab is None:
            return
        with SIGNALS.deferred(reraise=False):
            simlab, self.simlab = self.simlab, None
            simlab.stop()
            self._discard_run_dir()

    def finish(self, exitstatus: int) -> None:
        self.finished = True
        if not self.opened:
            self.abandon()
            return
        # Nothing below may be cut short: a signal now is noted and the run told as
        # interrupted, but the safe state and the last records come first.
        with SIGNALS.deferred(reraise=False):
            self._finish(exitstatus)

    def _finish(self, exitstatus: int) -> None:
        forbid_callers_under()  # the plans are done
        if self.interlock is not None:
            self.interlock.disarm()  # the end's safe state and its waits read nothing else
        failures = self.make_safe("end of session", final=True)
        # An instrument that could not be made safe may come back (a reboot, a link that
        # drops for a while): try again after waiting, a bounded number of times. The
        # wait is the run's time, so against simlab its outages end as they would.
        for attempt in range(1, FINAL_SAFE_RETRIES + 1):
            if not failures or self.clock is None or SIGNALS.first is not None:
                break
            with contextlib.suppress(Exception):
                self.clock.sleep(FINAL_SAFE_WAIT_S)
            failures = self.make_safe(f"end of session, retry {attempt}", final=True)
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
        self._write_run_end(exitstatus)
        if self.store is not None:
            self.store.close()

    def _write_run_end(self, exitstatus: int) -> None:
        assert self.store is not None
        sig = SIGNALS.first
        interrupted = (
            sig is not None or exitstatus == pytest.ExitCode.INTERRUPTED or bool(self.stopped_by)
        )
        if self.stopped_by:
            reason = self.stopped_by
            during = "" if self.current is None else f" during {self.current.nodeid}"
            reason += "" if "during" in reason or " before " in reason else during
        elif sig is not None:
            during = "" if self.current is None else f" during {self.current.nodeid}"
            reason = f"{sig.name} received{during}"
        elif interrupted:
            reason = "the session was stopped (pytest.exit or KeyboardInterrupt)"
        elif self.lost:
            reason = f"stopped after {self.lost}"
        else:
            reason = ""
        run_end: dict[str, Any] = {
            "type": "run_end",
            "ended": time.time(),
            "exitstatus": int(exitstatus),
            "interrupted": interrupted,
            "signal": sig.name if sig is not None else None,
            "reason": reason,
            "measurements": self.measurements,
            "failed_measurements": self.failed_measurements,
        }
        records = read_records(self.store.path)
        summary = summarize_records([*records, run_end])
        run_end.update(
            verdict=summary.verdict.value,
            exit_code=exit_code(summary),
            verdict_reasons=summary.reasons,
            counts=summary.counts(),
        )
        if not reason:
            run_end["reason"] = summary.reasons[0] if summary.reasons else ""
        self.store.write(run_end)


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""
