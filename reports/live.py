"""Trip plots drawn while the run is still going, so the report at its end only lays out.

`rig run` starts this as a child process (`python -m reports.live RUN_DIR`) next to the
test session. It follows the results store as it grows and draws the plot of each
measurement that names a waveform, at low priority, on the core the run leaves idle
(a run against simlab spends most of its time waiting on its sockets). The report
builder then finds those images current (`reports.plot_files`) and draws only what is
missing, so nothing depends on this process: if it falls behind, dies or is never
started, the report is the same, only later.

It stops when its stdin closes: `rig run` closes it when the session ends, and the
kernel closes it if `rig run` dies, so it never outlives the run. It runs in a session of
its own, so the terminal's Ctrl-C reaches the rig alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from reports.plot_files import is_fresh, plan_title, plot_key, plot_path, plot_title

STORE = "results.jsonl"
POLL_S = 0.25  # real time: this process watches files, it is no part of the measurement


class LivePlots:
    """The child process, as `rig run` holds it."""

    def __init__(self, proc: subprocess.Popen[bytes]):
        self.proc = proc

    @classmethod
    def start(cls, run_dir: Path) -> LivePlots | None:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "reports.live", str(run_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            return None  # the report draws everything itself
        return cls(proc)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask it to stop after the plot in hand; kill it if it does not."""
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def follow(run_dir: Path, stop_within: Callable[[float], bool]) -> int:
    """Draw plots for the store's new measurements until `stop_within(seconds)` says stop
    (it waits up to that long for the word); returns how many were drawn."""
    from reports.plots import Plotter

    plotter = Plotter()
    offset, drawn = 0, 0
    while True:
        offset, new = _new_records(run_dir / STORE, offset)
        for record in new:
            if stop_within(0.0):
                return drawn
            drawn += _draw(run_dir, record, plotter)
        if stop_within(POLL_S):
            return drawn


def _new_records(path: Path, offset: int) -> tuple[int, list[dict]]:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return offset, []
    end = data.rfind(b"\n") + 1  # only whole lines; a line being written waits
    records = []
    for line in data[:end].splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and record.get("type") == "measurement":
                records.append(record)
    return offset + end, records


def _draw(run_dir: Path, record: dict, plotter) -> int:
    waveform = record.get("waveform")
    if not waveform or not isinstance(waveform, str):
        return 0
    from rig.results.waveform import Waveform

    title = plot_title(plan_title(str(record.get("test", ""))), str(record.get("name", "")))
    image = run_dir / plot_path(waveform)
    try:
        data = (run_dir / waveform).read_bytes()
        key = plot_key(title, data)
        if is_fresh(image, key):
            return 0
        plotter.draw(Waveform.from_json(json.loads(data)), image, title, key)
    except (OSError, ValueError, KeyError, TypeError):
        return 0  # the report builder will try again, and say what is wrong
    return 1


def _stdin_closed(timeout_s: float) -> bool:
    readable, _, _ = select.select([sys.stdin.buffer], [], [], timeout_s)
    return bool(readable) and os.read(sys.stdin.fileno(), 4096) == b""


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m reports.live RUN_DIR", file=sys.stderr)
        return 2
    with contextlib.suppress(OSError):
        os.nice(10)  # the run comes first
    with contextlib.suppress(KeyboardInterrupt):
        follow(Path(argv[0]), _stdin_closed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
