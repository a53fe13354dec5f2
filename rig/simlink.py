"""The rig's side of simlab: start it as its own process, and talk to its control channel.

simlab is reached like hardware: instruments over pyvisa sockets, the BMS over a pty.
Only virtual time, fault injection and ground truth go through the control channel,
which a real bench does not have. Nothing here imports simlab.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class SimlabError(Exception):
    """simlab refused a request or could not be started."""


class SimlabUsageError(SimlabError):
    """simlab refused its options or station file before serving anything (its exit 2)."""


class PlanReachedControl(SimlabError):
    """A test plan tried to use simlab's control channel, which a real bench does not have."""


# Files under these folders (the run's test plans) may not call the control channel
# directly: a plan reaches the bench through the station and the DUT like on a real bench;
# only the clock moves simlab's time for it. Set by the rig session for its run.
_FORBIDDEN_CALLERS: tuple[str, ...] = ()
_THIS_FILE = {__file__, os.path.realpath(__file__)}
_CLOCK_FILE = {os.path.join(os.path.dirname(f), "clock.py") for f in _THIS_FILE}


def forbid_callers_under(*folders: Path) -> None:
    """Refuse control-channel calls from code under `folders` (none: allow all again). A
    folder that holds the rig itself is left out: plans beside the framework's own code
    would otherwise forbid the session its own calls."""
    global _FORBIDDEN_CALLERS
    rig_dir = os.path.dirname(os.path.realpath(__file__)) + os.sep
    chosen = [os.path.realpath(f) + os.sep for f in folders]
    _FORBIDDEN_CALLERS = tuple(f for f in chosen if not rig_dir.startswith(f))


def _check_caller(op: str) -> None:
    """Whoever called into this module is the clock, or not plan code."""
    if not _FORBIDDEN_CALLERS:
        return
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename in _THIS_FILE:
        frame = frame.f_back
    if frame is None or frame.f_code.co_filename in _CLOCK_FILE:
        return
    filename = os.path.realpath(frame.f_code.co_filename)
    if filename.startswith(_FORBIDDEN_CALLERS):
        raise PlanReachedControl(
            f"{filename}:{frame.f_lineno} asked simlab's control channel for {op!r}: a plan "
            "reaches the bench through the station and the DUT, as on a real bench (simlab's "
            "time moves through the `clock` fixture)"
        )


class SimControl:
    """A JSON-lines client for simlab's control channel."""

    def __init__(self, address: str, timeout_s: float = 30.0):
        self.address = address
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._connect()

    def _connect(self) -> None:
        host, _, port = self.address.rpartition(":")
        self._sock = socket.create_connection((host, int(port)), timeout=self._timeout_s)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._file = self._sock.makefile("rwb")
        self._in_sync = True

    def call(self, op: str, **params: Any) -> dict[str, Any]:
        _check_caller(op)
        request = json.dumps({"op": op, **params}).encode() + b"\n"
        with self._lock:
            if not self._in_sync:  # an interrupted call left its reply behind: start afresh
                self.close()
                self._connect()
            self._in_sync = False
            self._file.write(request)
            self._file.flush()
            line = self._file.readline()
            self._in_sync = bool(line)
        if not line:
            raise SimlabError(f"control channel {self.address} closed while asking {op!r}")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise SimlabError(f"simlab refused {op} {params}: {reply.get('error')}")
        return reply

    def time(self) -> float:
        return float(self.call("time")["t"])

    def advance(self, dt: float) -> float:
        return float(self.call("advance", dt=dt)["t"])

    def set(self, path: str, value: Any) -> None:
        self.call("set", path=path, value=value)

    def truth(self) -> dict[str, Any]:
        return self.call("truth")

    def events(self, since: int = 0) -> list[dict[str, Any]]:
        return self.call("events", since=since)["events"]

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            self._sock.close()


def parse_assignment(text: str) -> tuple[str, Any]:
    """`firmware.cell_ov.delay_s=1.3` → ("firmware.cell_ov.delay_s", 1.3)."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise SimlabError(f"expected PATH=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return path.strip(), value


@dataclass
class SimlabProcess:
    """`python -m simlab serve` as a child process, stopped with the session."""

    station: Path
    sets: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    seed: int | None = None
    log: Path | None = None  # simlab's stderr goes here, so it can never fill a pipe and stall
    final_state: Path | None = None  # simlab writes its outputs here as it stops
    endpoints: dict[str, Any] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """Spawn it and wait for its endpoints (see `spawn` and `ready`)."""
        self.spawn()
        return self.ready(timeout_s)

    def spawn(self) -> None:
        """Start the process and return at once: it boots while the caller does other work
        (pytest collects meanwhile), and `ready()` collects its answer."""
        if self._proc is not None:
            return
        cmd = [
            sys.executable,
            "-m",
            "simlab",
            "serve",
            "--station",
            str(self.station),
            "--watch-stdin",
            "--driven",
        ]
        if self.final_state is not None:
            cmd += ["--final-state", str(self.final_state)]
        for item in self.sets:
            cmd += ["--set", item]
        for item in self.defects:
            cmd += ["--defect", item]
        if self.seed is not None:
            cmd += ["--seed", str(self.seed)]
        env = dict(os.environ)
        env["SIMLAB_PROG"] = "rig sim"  # its messages name the rig's commands
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._log = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        # Its own session: the terminal's Ctrl-C reaches the rig alone, so the rig can still
        # drive the bench to its safe state over the wire after an interrupt.
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            start_new_session=True,
        )

    def ready(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """Its endpoints; SimlabUsageError if it refused its options, SimlabError if it died."""
        if self.endpoints:
            return self.endpoints
        if self._proc is None:
            raise SimlabError("simlab was not started")
        try:
            line = self._read_line(timeout_s)
        except BaseException:  # a Ctrl-C while it starts: it must not outlive us
            self.stop()
            raise
        try:
            reply = json.loads(line)
        except json.JSONDecodeError:
            self.stop()
            raise SimlabError(f"simlab printed {line!r} instead of its endpoints") from None
        if "error" in reply:
            self.stop(grace_s=5.0)  # it is exiting by itself (status 2)
            raise SimlabUsageError(str(reply["error"]))
        self.endpoints = reply
        return self.endpoints

    def _read_line(self, timeout_s: float) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        result: list[bytes] = []
        reader = threading.Thread(target=lambda: result.append(self._proc.stdout.readline()))
        reader.daemon = True
        reader.start()
        reader.join(timeout_s)
        if not result or not result[0]:
            exited = self._proc.poll()
            if result and exited is None:  # stdout closed: it is exiting, let it finish
                with contextlib.suppress(subprocess.TimeoutExpired):
                    exited = self._proc.wait(timeout=5)
            self.stop()
            when = (
                f"exited ({exited})"
                if exited is not None
                else f"gave no endpoints in {timeout_s:g} s"
            )
            why = ""
            if self.log and self.log.exists():
                lines = self.log.read_text(errors="replace").strip().splitlines()
                said = [line for line in lines if line.startswith("simlab: ")]
                tail = said[-1:] or lines[-3:]  # its own last word, else the log's end
                why = f": {' / '.join(tail)} (full log: {self.log})"
            raise SimlabError(f"simlab did not start: it {when}{why}")
        return result[0].decode().strip()

    def stop(self, grace_s: float = 0.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and grace_s > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace_s)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log = getattr(self, "_log", None)
        if log not in (None, subprocess.DEVNULL):
            log.close()


_FAST_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def station_is_simulated(path: Path) -> bool:
    """A quick look: does the station file say `simulated: true`? Only decides whether to
    boot simlab early; the file is checked properly when the run is prepared."""
    try:
        if path.stat().st_size > 1 << 20:
            return False
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_FAST_SAFE)
    except (OSError, ValueError, yaml.YAMLError, RecursionError, MemoryError):
        return False  # whatever is wrong with it, the proper check will say
    return isinstance(doc, dict) and doc.get("simulated") is True


# simlab processes started ahead of the session that will use them (`rig run` boots the
# lab before it even checks the files, so the boot overlaps everything else it does).
_early: list[SimlabProcess] = []


def start_early(process: SimlabProcess) -> SimlabProcess:
    process.spawn()
    _early.append(process)
    return process


def adopt(process: SimlabProcess) -> SimlabProcess:
    """The early-started process that matches `process`'s options, else `process` itself."""
    for early in _early:
        if (early.station, early.sets, early.defects, early.seed, early.log) == (
            process.station,
            process.sets,
            process.defects,
            process.seed,
            process.log,
        ) and early.final_state == process.final_state:
            _early.remove(early)
            return early
    return process


def early_pids() -> list[int]:
    """The processes started early and still running (to place them on CPUs)."""
    return [p._proc.pid for p in _early if p._proc is not None and p._proc.poll() is None]


def stop_early() -> None:
    """Stop whatever was started early and never adopted (the run did not happen)."""
    while _early:
        _early.pop().stop()
