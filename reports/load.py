"""A run folder read back for reporting: the store's records, what is wrong with the store,
and where the waveform and transcript files are.

Reports are built from this alone, so a report can be rebuilt long after the run, and a
run that was killed halfway still yields one. Unlike `read_records`, which skips a torn
last line so the rest of the rig can go on, the loader keeps a note of it: a report must
say that the store ends in a torn line (the process died mid-write) or holds a line that
is not JSON, never drop it silently.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rig.results import ResultsStore, RunSummary, Waveform, summarize_records

TRANSCRIPTS = "transcripts"
TORN = "torn last line"


class ReportError(Exception):
    """The folder is not a run folder (no results store) or cannot be read."""


@dataclass(frozen=True)
class StoreDamage:
    """A line of the store that could not be read back."""

    line: int  # 1-based
    kind: str  # "torn last line" | "not JSON"
    excerpt: str  # the first bytes of it, for the reader to judge


@dataclass
class RunData:
    run_dir: Path
    records: list[dict[str, Any]]
    damage: list[StoreDamage] = field(default_factory=list)
    digest: str = ""  # sha256 of the store's bytes: which data a report was built from

    @cached_property
    def summary(self) -> RunSummary:
        return summarize_records(self.records, torn=self.torn)

    @property
    def torn(self) -> bool:
        return any(d.kind == TORN for d in self.damage)

    @property
    def run_id(self) -> str:
        start = self.first("run_start") or {}
        return str(start.get("run_id") or self.run_dir.name)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("type") == kind]

    def first(self, kind: str) -> dict[str, Any] | None:
        return next((r for r in self.records if r.get("type") == kind), None)

    def last(self, kind: str) -> dict[str, Any] | None:
        return next((r for r in reversed(self.records) if r.get("type") == kind), None)

    def waveform(self, relative: str) -> Waveform:
        """The waveform a measurement names; ValueError if missing, torn or outside the run."""
        return self.waveform_file(relative)[1]

    def waveform_file(self, relative: str) -> tuple[bytes, Waveform]:
        """The waveform file's bytes and what they hold; ValueError as `waveform`."""
        path = (self.run_dir / relative).resolve()
        if not path.is_relative_to(self.run_dir.resolve()):
            raise ValueError(f"waveform {relative!r} lies outside the run folder")
        try:
            data = path.read_bytes()
            return data, Waveform.from_json(json.loads(data))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"waveform {path}: cannot read: {exc}") from exc

    def transcripts(self) -> list[Path]:
        folder = self.run_dir / TRANSCRIPTS
        return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


def load_run(run_dir: Path) -> RunData:
    run_dir = Path(run_dir)
    path = run_dir / ResultsStore.FILENAME
    if not path.is_file():
        raise ReportError(f"{run_dir}: not a run folder (no {ResultsStore.FILENAME})")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc}") from exc
    records, damage = parse_store(raw)
    return RunData(run_dir, records, damage, hashlib.sha256(raw).hexdigest())


def parse_store(raw: bytes) -> tuple[list[dict[str, Any]], list[StoreDamage]]:
    records: list[dict[str, Any]] = []
    damage: list[StoreDamage] = []
    lines = raw.split(b"\n")
    torn = lines.pop()  # after the last newline: empty unless the last write was cut short
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            damage.append(StoreDamage(number, "not JSON", _excerpt(line)))
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            damage.append(StoreDamage(number, "not a record", _excerpt(line)))
    if torn.strip():
        damage.append(StoreDamage(len(lines) + 1, TORN, _excerpt(torn)))
    return records, damage


def _excerpt(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace")
    return text if len(text) <= 120 else text[:117] + "..."
