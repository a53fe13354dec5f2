"""Past and present runs, as the panel lists them.

`RunsFolder` reads the runs folder: each `runs/<id>/results.jsonl`, its first record and
its last. Where a results database is configured, `rig.panel.db_history` lists the runs
from it and takes from the folder only what the database does not hold yet. Either way
`run_dir` is only asked for a run whose files (the live store, plots, reports) are on
this machine, and it is the only way the panel reaches them.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

STORE = "results.jsonl"
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REPORTS = ("report.html", "report.pdf")


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    started: float | None
    station: str
    dut: str
    tested_by: str
    verdict: str | None  # None: no run_end (running, or killed)
    reports: tuple[str, ...]  # which of report.html / report.pdf exist
    serial: str = ""  # the DUT's serial as it reported it (known from the database)
    here: bool = True  # its run folder is on this machine: live view, plots, reports
    complete: bool | None = None  # the database's word (None: not in the database)
    # who wrote it, to tell which run holds a labgrid place; never sent to a browser
    host: str = ""
    pid: int | None = None
    holders: frozenset[tuple[str, str]] = frozenset()  # (place, holder) it recorded

    def public(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started": self.started,
            "station": self.station,
            "dut": self.dut,
            "serial": self.serial,
            "tested_by": self.tested_by,
            "verdict": self.verdict,
            "reports": list(self.reports),
            "here": self.here,
        }

    @property
    def ended(self) -> bool:
        """It reached its run_end (a killed run has none, and is INCOMPLETE in the database)."""
        return self.verdict is not None and self.complete is not False


class RunHistory(Protocol):
    def runs(self, limit: int = 200) -> list[RunInfo]: ...

    def run_dir(self, run_id: str) -> Path | None: ...

    def status(self) -> dict[str, Any]:
        """Where the list comes from, as the page may see it (no URL, no path)."""
        ...

    def close(self) -> None: ...


class RunsFolder:
    """The runs folder as the history: newest first."""

    def __init__(self, root: Path):
        self.root = root
        # store -> (its mtime and size when read, its first and last record): a run that no
        # longer grows is read once
        self._seen: dict[Path, tuple[tuple[int, int], tuple[Any, Any]]] = {}

    def status(self) -> dict[str, Any]:
        return {"source": "runs folder", "database": None, "state": None}

    def close(self) -> None:
        pass

    def run_dir(self, run_id: str) -> Path | None:
        if not RUN_ID.match(run_id):
            return None
        folder = self.root / run_id
        return folder if (folder / STORE).is_file() else None

    def runs(self, limit: int = 200) -> list[RunInfo]:
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.glob(f"*/{STORE}"):
            if RUN_ID.match(path.parent.name):
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    found.append((stat.st_mtime_ns, stat.st_size, path))
        found.sort(reverse=True)
        listed = []
        for mtime, size, path in found[:limit]:
            seen = self._seen.get(path)
            if seen is None or seen[0] != (mtime, size):
                seen = ((mtime, size), _first_and_last(path))
                self._seen[path] = seen
            info = self._info(path.parent, *seen[1])
            if info is not None:
                listed.append(info)
        return listed

    def _info(self, folder: Path, first: Any, last: Any) -> RunInfo | None:
        if first is None or first.get("type") != "run_start":
            return None
        end = last if last is not None and last.get("type") == "run_end" else None
        return RunInfo(
            run_id=folder.name,
            started=first.get("started"),
            station=str(first.get("station", "")),
            dut=str(first.get("dut_name", "")),
            tested_by=str(first.get("tested_by", "")),
            verdict=str(end["verdict"]) if end and end.get("verdict") else None,
            # a report is written after the store's last record: looked for while listed
            reports=reports_in(folder),
            host=str(first.get("host", "")),
            pid=first["pid"] if isinstance(first.get("pid"), int) else None,
        )


def reports_in(folder: Path | None) -> tuple[str, ...]:
    """Which of the run's reports are in its folder (none without a folder here)."""
    if folder is None:
        return ()
    return tuple(name for name in REPORTS if (folder / name).is_file())


def _first_and_last(path: Path) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The first and the last complete record, reading only the file's two ends."""
    try:
        with path.open("rb") as f:
            head = f.readline()
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 16384))  # run_end is a few hundred bytes
            tail = f.read().split(b"\n")
    except OSError:
        return None, None
    lines = [line for line in tail[:-1] if line.strip()]  # the last piece is torn or empty
    return parse_record(head), parse_record(lines[-1]) if lines else None


def parse_record(raw: bytes) -> dict[str, Any] | None:
    """One line of a store as its record, or None for a line that is not one."""
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
