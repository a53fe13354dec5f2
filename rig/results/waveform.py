"""Trip waveforms: what the instruments saw around a trip, kept beside the results store.

A trip measurement's record names a file `waveforms/<name>.json` in its run folder. The
file holds one time axis and any number of series on it (the stimulus, the response the
trip was judged on, a digitizer capture), plus markers (the step, the bracket, the trip)
and horizontal levels (the threshold). Reports draw the plot from this file alone, so a
report can be rebuilt long after the run.

JSON, not a binary format: a lab can open it in anything, and a truncated file from a
killed run fails loudly on load instead of plotting half a trace as if it were whole.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FOLDER = "waveforms"
FORMAT = "bms-rig-waveform/1"


@dataclass
class Series:
    label: str  # e.g. "charger current"
    unit: str
    values: list[float]
    role: str = "response"  # "stimulus" | "response" | "dut"


@dataclass
class Marker:
    """A vertical line at x (e.g. "step", "last not tripped", "first tripped")."""

    x: float
    label: str


@dataclass
class Level:
    """A horizontal line on the series with `unit` (e.g. the threshold, the trip level)."""

    y: float
    unit: str
    label: str


@dataclass
class Waveform:
    name: str
    x_label: str
    x_unit: str
    x: list[float]
    series: list[Series] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for s in self.series:
            if len(s.values) != len(self.x):
                raise ValueError(
                    f"waveform {self.name}: series {s.label!r} has {len(s.values)} values "
                    f"for {len(self.x)} x points"
                )

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Waveform:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file (format={data.get('format')!r})")
        return cls(
            name=data["name"],
            x_label=data["x_label"],
            x_unit=data["x_unit"],
            x=list(data["x"]),
            series=[Series(**s) for s in data.get("series", [])],
            markers=[Marker(**m) for m in data.get("markers", [])],
            levels=[Level(**lv) for lv in data.get("levels", [])],
            meta=dict(data.get("meta", {})),
        )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120] or "waveform"


def write_waveform(run_dir: Path, waveform: Waveform, stem: str | None = None) -> str:
    """Write the file (synced, like the store) and return its run-folder-relative path.

    A name already taken gets a numeric suffix, so reruns of a plan never overwrite.
    """
    folder = run_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    base = _slug(stem or waveform.name)
    path = folder / f"{base}.json"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.json"
    data = json.dumps(waveform.to_json(), allow_nan=False).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return f"{FOLDER}/{path.name}"


def read_waveform(run_dir: Path, relative: str) -> Waveform:
    """Load a waveform named by a measurement record; ValueError if missing or torn."""
    path = run_dir / relative
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"waveform {path}: cannot read: {exc}") from exc
    return Waveform.from_json(data)
