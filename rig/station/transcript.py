"""A file-backed transcript: every byte exchange with an instrument, written as it happens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO


class Transcript:
    """List-like sink for drivers (`append(dict)`), one JSON line per exchange."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: TextIO | None = path.open("a", encoding="utf-8")
        self.count = 0

    def append(self, entry: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(entry, default=str) + "\n")
        self._file.flush()
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
