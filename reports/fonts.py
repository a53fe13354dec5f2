"""The report's fonts: DejaVu (shipped with matplotlib, a dependency already), cut down
once to the characters a report uses and kept in the user's cache folder.

Embedding a font means subsetting it, and without HarfBuzz's subsetter (a system
library most machines lack) WeasyPrint falls back to fontTools, which spends most of a
small report's PDF time decoding DejaVu's large layout tables. Cutting the fonts down
once, to Latin, Greek, punctuation, arrows and mathematical symbols, halves that time
and gives every machine the same fonts. A character outside the set falls back to the
system's fonts, as it would anyway.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import tempfile
from pathlib import Path

# matplotlib's data folder, found without importing matplotlib (a report without a plot
# need not pay for it)
_SPEC = importlib.util.find_spec("matplotlib")
SOURCE = Path(_SPEC.origin if _SPEC and _SPEC.origin else ".").parent / "mpl-data" / "fonts" / "ttf"
FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf",
)
RANGES = (
    (0x20, 0x7F),  # Basic Latin
    (0xA0, 0x250),  # Latin-1 and Latin Extended-A/B
    (0x370, 0x400),  # Greek (µ, Ω, Δ)
    (0x2010, 0x2070),  # General Punctuation (dashes, quotes, …, ‰)
    (0x2100, 0x2150),  # Letterlike (℃, Ω, ™)
    (0x2190, 0x2300),  # Arrows, Mathematical Operators (±, ≤, ≥, √, ∞)
    (0x25A0, 0x2600),  # Geometric shapes
    (0x2713, 0x2718),  # check marks
)
VERSION = "1"


def font_folder() -> Path:
    """A folder holding the cut-down fonts (built on first use); the originals if it can't."""
    key = hashlib.sha256(
        f"{VERSION} {_version('matplotlib')} {_version('fonttools')}".encode()
    ).hexdigest()[:12]
    for base in _cache_bases():
        folder = base / "bms-rig" / f"fonts-{key}"
        if all((folder / name).is_file() for name in FILES):
            return folder
        try:
            _build(folder)
        except OSError:
            continue
        return folder
    return SOURCE  # nowhere to write: the full fonts, slower to embed but the same glyphs


def _cache_bases() -> list[Path]:
    xdg = os.environ.get("XDG_CACHE_HOME")
    bases = [Path(xdg)] if xdg else []
    bases.append(Path.home() / ".cache")
    bases.append(Path(tempfile.gettempdir()))
    return bases


def _build(folder: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    folder.mkdir(parents=True, exist_ok=True)
    unicodes = [c for lo, hi in RANGES for c in range(lo, hi)]
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    for name in FILES:
        options = subset.Options()
        options.layout_features = ["kern"]
        options.hinting = False
        options.desubroutinize = True
        options.drop_tables += ["GSUB", "FFTM"]
        font = TTFont(SOURCE / name)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        font.save(tmp)
        os.replace(tmp, folder / name)


@functools.cache  # read from the package metadata: 5 ms a call, and every part asks twice
def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"
