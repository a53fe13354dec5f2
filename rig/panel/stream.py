"""Server-sent events from a run's results store as it grows.

The complete lines of `results.jsonl` found at one look go out as one `records` event
(a list, in order) whose id is the byte offset just past its last line: a browser that
reconnects sends it back as `Last-Event-ID` and the stream goes on from there, and a page
opened mid-run starts at 0 and catches up from the file. One event per look rather than
per line: a browser is woken at most 1/POLL_S times a second, however fast the run
writes. A line without its newline is not sent until the newline comes; if the
writer is gone and it never does (a killed run), a `torn` event says so. A `plot` event
names a trip plot once its image is in the run's plots folder (drawn by the live printer
as the run goes, or at the end by the report). `end` closes the stream once the run's
process is gone: the page then knows the run will not grow.

The file is looked at every POLL_S of real time per open stream: a stat and, when it
grew, a read of what is new. The run never knows the panel is there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from rig.panel.history import parse_record
from rig.panel.public import public

POLL_S = 0.2  # real time: how often an open stream looks at the store
CHUNK = 1 << 20
PLOTS = "plots"


def _event(kind: str, offset: int, data: dict[str, Any]) -> dict[str, str]:
    return {"event": kind, "id": str(offset), "data": json.dumps(data, allow_nan=False)}


def _earlier_plots(path: Path, start: int) -> set[str]:
    """Plots named before `start`: a resumed stream names them again once drawn."""
    names: set[str] = set()
    if start <= 0:
        return names
    with path.open("rb") as f:
        for raw in f.read(start).split(b"\n"):
            if b'"waveform"' in raw:
                with_plot = parse_record(raw)
                shown = public(with_plot) if with_plot else None
                if shown and shown.get("plot"):
                    names.add(shown["plot"])
    return names


async def follow(
    run_dir: Path,
    start: int,
    alive: Callable[[], bool],
    poll_s: float = POLL_S,
) -> AsyncIterator[dict[str, str]]:
    """Events from `run_dir`'s store, from byte `start` (a line's start) on."""
    path = run_dir / "results.jsonl"
    size = path.stat().st_size
    offset = start if 0 <= start <= size else 0
    pending = _earlier_plots(path, offset)
    buf = b""
    ended = False
    while True:
        with path.open("rb") as f:
            f.seek(offset + len(buf))
            new = f.read(CHUNK)
        buf += new
        batch: list[dict[str, Any]] = []
        while (newline := buf.find(b"\n")) >= 0:
            raw, buf = buf[:newline], buf[newline + 1 :]
            offset += newline + 1
            record = parse_record(raw)
            if record is None:
                if batch:
                    yield _event("records", offset - newline - 1, {"records": batch})
                    batch = []
                yield _event("corrupt", offset, {"offset": offset - newline - 1})
                continue
            shown = public(record)
            if shown is None:
                continue
            batch.append(shown)
            if shown.get("plot"):
                pending.add(shown["plot"])
            ended = ended or shown["type"] == "run_end"
        if batch:
            yield _event("records", offset, {"records": batch})
        for name in sorted(pending):
            if (run_dir / PLOTS / name).is_file():
                pending.discard(name)
                yield _event("plot", offset, {"plot": name})
        if len(new) == CHUNK:
            continue  # more to read at once
        if not alive():
            if buf:  # the writer died in the middle of a line
                yield _event("torn", offset, {"offset": offset, "bytes": len(buf)})
            yield _event("end", offset, {"complete": ended, "torn": bool(buf)})
            return
        await asyncio.sleep(poll_s)  # real time: the store is a file another process writes
