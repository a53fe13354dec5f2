"""`python -m simlab serve`: run the simulated lab for a station until told to stop.

Prints exactly one JSON line (the endpoints plus "pid") on stdout, so a parent process
or a person knows where to connect; everything else goes to stderr. Stops cleanly on
SIGINT/SIGTERM, or with --watch-stdin when stdin reaches EOF, so a parent that dies
takes its lab with it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Any

from simlab.lab import Lab


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


def build_parser(prog: str = "python -m simlab serve") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description="Serve the simulated lab of a station.")
    ap.add_argument("--station", required=True, help="station YAML file")
    ap.add_argument(
        "--set",
        dest="sets",
        action="append",
        type=parse_set,
        default=[],
        metavar="PATH=VALUE",
        help="set a parameter, e.g. firmware.cell_ov.delay_s=1.3",
    )
    ap.add_argument(
        "--defect",
        dest="defects",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a firmware defect, e.g. slow_ov_delay:factor=3",
    )
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: station's)")
    ap.add_argument(
        "--watch-stdin",
        action="store_true",
        help="stop when stdin reaches EOF (the parent went away)",
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
        print(f"simlab: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2

    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        lab.start()
        try:
            print(json.dumps({**lab.endpoints, "pid": os.getpid()}), flush=True)
            if args.watch_stdin:
                threading.Thread(target=_wait_eof, args=(stop,), daemon=True).start()
            while not stop.wait(0.5):
                pass
        finally:
            lab.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _wait_eof(stop: threading.Event) -> None:
    try:
        while sys.stdin.buffer.read1(4096):
            pass
    except (OSError, ValueError):
        pass
    stop.set()
