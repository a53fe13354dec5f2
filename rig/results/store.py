"""`runs/<run-id>/results.jsonl`: an append-only log a killed run still leaves readable.

Each record is one line, flushed and fsynced before the call returns, so a crash loses
at most the line being written; the reader skips a torn last line instead of failing.
Record types: run_start, instrument, dut, test_start, measurement, test_result,
sim_truth, safe_state, run_end.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def new_run_id() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid() % 100000:05d}"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


class ResultsStore:
    FILENAME = "results.jsonl"

    def __init__(self, run_dir: Path):
        run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir = run_dir
        self.path = run_dir / self.FILENAME
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        now = time.time()
        record = {"at": _iso(now), **record}
        line = (json.dumps(record, default=str, allow_nan=False) + "\n").encode()
        with self._lock:
            if self._fd < 0:
                raise RuntimeError(f"results store {self.path} is closed")
            os.write(self._fd, line)
            os.fsync(self._fd)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every complete record; a torn last line (killed mid-write) is skipped."""
    if path.is_dir():
        path = path / ResultsStore.FILENAME
    records = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                break
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records
