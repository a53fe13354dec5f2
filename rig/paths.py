"""Where the shipped station and spec files live, and how a user-given path is found."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_STATION = "stations/sim-16s.yaml"
DEFAULT_SPEC = "specs/jbd-16s-lfp.yaml"


def resolve(path: str) -> Path:
    """As given if it exists; otherwise relative to the bms-rig checkout."""
    p = Path(path)
    if p.exists() or p.is_absolute():
        return p
    return REPO / p
