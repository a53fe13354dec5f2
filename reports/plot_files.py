"""Where a waveform's plot goes, what it is titled, and whether the image there is current.

Kept apart from the drawing (`reports.plots`, which loads fonts and numpy) so a build whose
plots were all drawn already, during the run or by an earlier build, never imports it.
An image carries, in its JPEG comment, a key of what it was drawn from: the drawing's
version, the title and the waveform file's bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

FOLDER = "plots"
EXTENSION = ".jpg"
VERSION = "4"  # part of every key: bump it when the drawing changes


def plot_path(waveform: str) -> str:
    """The run-folder-relative image of a run-folder-relative waveform file."""
    return f"{FOLDER}/{Path(waveform).stem}{EXTENSION}"


def plot_title(plan_title: str, measurement: str) -> str:
    return plan_title if plan_title.startswith(measurement) else f"{plan_title}: {measurement}"


def plan_title(test: str) -> str:
    """A plan as the report names it: the test name without `test_`, with its case."""
    return test.split("::")[-1].removeprefix("test_")


def plot_key(title: str, waveform_file: bytes, mark: tuple | None = None) -> str:
    """What an image was drawn from: the drawing's version, its title, the measured value
    drawn over it and the waveform file's bytes."""
    digest = hashlib.sha256(f"{VERSION}\0{title}\0{mark!r}\0".encode())
    digest.update(waveform_file)
    return digest.hexdigest()[:24]


def mark_of(record: dict) -> tuple | None:
    """The measured value, its U and unit as a plot draws them; None without a value."""
    value = record.get("value")
    if not isinstance(value, int | float):
        return None
    u = record.get("uncertainty")
    return (float(value), float(u) if isinstance(u, int | float) else None,
            str(record.get("unit") or ""))  # fmt: skip


def is_fresh(path: Path, key: str) -> bool:
    """The image at `path` exists, is whole, and was drawn from what `key` names."""
    try:
        with Image.open(path) as im:
            return bool(key) and im.info.get("comment") == key.encode()
    except (OSError, ValueError):
        return False
