"""`python -m simlab serve`: run the simulated lab for a station until told to stop.

Prints exactly one JSON line on stdout, so a parent process or a person knows where to
connect (left to itself, only once the bench is at its safe state and the BMS has booted
and measured, so a tool that connects on that line reads a live pack): the endpoints
plus "pid" and "clock", or `{"error": "..."}` (and exit status 2) when the station file
or an option is bad, or the BMS does not come up. Everything else goes to stderr.

Time: left to itself the lab runs with the wall clock (`--speed X` for a multiple of it)
with the emulated cells at the station's safe state, so a person or another tool sees a
live pack. A client that drives time through the control channel takes over at its first
`advance` (or a `mode` request); `--driven` starts in that mode, as the rig's child does.

Stops cleanly on SIGINT/SIGTERM, or with --watch-stdin when stdin reaches EOF, so a
parent that dies takes its lab with it. `--final-state FILE` writes the bench's outputs
as simlab last saw them, so whoever started it can check from outside that it was left
safe.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from simlab.lab import Lab
from simlab.params import program

# Left to itself, the lab prints its endpoints only once a client can trust what it
# reads: the bench at its safe state and the BMS booted with its first measurements.
READY_TIMEOUT_S = 10.0


def parse_set(text: str) -> tuple[str, Any]:
    """`PATH=VALUE`, VALUE as JSON when it parses (1.3, true, "x"), else the raw string."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise argparse.ArgumentTypeError(f"expected PATH=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return path.strip(), value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage errors as one JSON line too, so a parent reads them like any other refusal."""

    def error(self, message: str) -> None:  # type: ignore[override]
        _refuse(f"{self.prog}: {message}")
        raise SystemExit(2)


def _refuse(message: str) -> None:
    # the log first: a parent may stop us the moment it reads the JSON line
    print(f"simlab: {message}", file=sys.stderr, flush=True)
    print(json.dumps({"error": message}), flush=True)


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    ap = _Parser(
        prog=prog or f"{program()} serve", description="Serve the simulated lab of a station."
    )
    ap.add_argument("--station", required=True, help="station YAML file")
    ap.add_argument(
        "--set",
        "--sim-set",  # as `rig run` spells it
        dest="sets",
        action="append",
        type=parse_set,
        default=[],
        metavar="PATH=VALUE",
        help="set a parameter, e.g. firmware.cell_ov.delay_s=1.3",
    )
    ap.add_argument(
        "--defect",
        "--sim-defect",
        dest="defects",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a defect, e.g. slow_ov_delay:factor=3",
    )
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: station's)")
    ap.add_argument(
        "--speed",
        type=_positive,
        default=1.0,
        help="left to itself, run at this multiple of the wall clock (default 1)",
    )
    ap.add_argument(
        "--driven",
        action="store_true",
        help="time moves only when a client advances it (the rig's own child lab)",
    )
    ap.add_argument(
        "--ack-now",
        action="store_true",
        help="SCPI servers ACK every segment at once (default: delayed, as instruments do)",
    )
    ap.add_argument(
        "--transport",
        choices=("socket", "hislip", "serial"),
        default=None,
        help="how the endpoints (and --write-station) reach the instruments: raw sockets; "
        "HiSLIP where the model speaks it; a pty where the model has an RS-232 port "
        "(default: the station's simlab.transport, else socket)",
    )
    ap.add_argument(
        "--watch-stdin",
        action="store_true",
        help="stop when stdin reaches EOF (the parent went away)",
    )
    ap.add_argument(
        "--outboard-watchdog",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="put the bench in the safe state when no instrument has heard a command for "
        "this long (wall time), as an instrument's own watchdog timer would",
    )
    ap.add_argument(
        "--final-state",
        type=Path,
        default=None,
        metavar="FILE",
        help="on stopping, write the instruments' outputs (and whether they are safe) here",
    )
    ap.add_argument(
        "--write-station",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write a station file with the served addresses (simulated: false)",
    )
    return ap


def serve(argv: list[str] | None = None) -> int:
    """Run until stopped; 0 on a clean stop, 2 when the station or options are bad."""
    args = build_parser().parse_args(argv)
    try:
        lab = Lab.from_station_file(
            args.station, seed=args.seed, sets=dict(args.sets), defects=args.defects
        )
    except (ValueError, KeyError) as exc:
        _refuse(str(exc.args[0]) if exc.args else repr(exc))
        return 2

    stop = threading.Event()
    parent_gone = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        try:
            lab.start(
                speed=None if args.driven else args.speed,
                delayed_ack=not args.ack_now,
                transport=args.transport,
            )
        except (RuntimeError, OSError) as exc:  # a server could not open: say which, once
            print(f"simlab: cannot start the bench: {exc}", file=sys.stderr, flush=True)
            lab.stop()
            return 1
        try:
            if not args.driven and not lab.wait_answering(READY_TIMEOUT_S):
                _refuse(
                    f"the BMS did not come up within {READY_TIMEOUT_S:g} s of wall time on "
                    f"the safe bench (is its supply wired and on?)"
                )
                return 2
            if args.write_station is not None:
                from simlab.station_writer import write_station

                write_station(args.station, lab.endpoints, args.write_station)
            print(json.dumps({**lab.endpoints, "pid": os.getpid()}), flush=True)
            if args.watch_stdin:
                threading.Thread(target=_wait_eof, args=(stop, parent_gone), daemon=True).start()
            while not stop.wait(0.5):
                if args.outboard_watchdog and lab.idle_s() > args.outboard_watchdog:
                    _outboard(lab, args.outboard_watchdog)
        finally:
            fixed: list[str] | None = None
            if parent_gone.is_set():
                # Whoever drove the bench died without a word (stdin closed, no signal): as
                # an outboard watchdog would, put the outputs in the station's safe state.
                fixed = lab.make_safe()
            lab.stop()
            _final_state(lab, args.final_state, fixed)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _outboard(lab: Lab, silence_s: float) -> None:
    """Nobody has spoken to the bench for `silence_s`: make it safe (once per silence)."""
    found = lab.make_safe()
    if found:
        print(
            f"simlab: no command for {silence_s:g} s; outboard watchdog made the bench safe "
            f"(found: {'; '.join(found)})",
            file=sys.stderr,
            flush=True,
        )


def _final_state(lab: Lab, path: Path | None, fixed: list[str] | None = None) -> None:
    """Log (and, if asked, write) the outputs as the lab stops: the last word on safety.
    `fixed`: simlab made the bench safe itself (its parent died); how it found it."""
    state = {"t": lab.world.t, **lab.outputs(), "made_safe_by_simlab": fixed is not None}
    if fixed is not None:
        state["found_by_simlab"] = fixed
        found = "; ".join(fixed) or "already at the safe state"
        print(f"simlab: parent gone; made the bench safe itself (found: {found})", file=sys.stderr)
    verdict = "safe" if state["safe"] else "NOT SAFE: " + "; ".join(state["unsafe"])
    print(f"simlab: stopped at t={state['t']:.3f} s; bench {verdict}", file=sys.stderr)
    if path is not None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, path)


def _wait_eof(stop: threading.Event, parent_gone: threading.Event) -> None:
    """Block on the raw descriptor, not `sys.stdin.buffer`: a daemon thread parked inside
    the buffered reader holds its lock, and the interpreter's shutdown would then wait a
    second for it and abort ("could not acquire lock for <_io.BufferedReader ...>")."""
    try:
        while os.read(sys.stdin.fileno(), 4096):
            pass
    except (OSError, ValueError):
        pass
    if not stop.is_set():  # not told to stop: the parent went away
        parent_gone.set()
    stop.set()
