"""A file-backed transcript: every byte exchange with an instrument, written as it happens."""

from __future__ import annotations

import json
import os
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

_ENCODE = json.JSONEncoder(default=str).encode


def line_of(entry: dict[str, Any]) -> str:
    """The entry as one JSON line, as `json.dumps(entry, default=str)` writes it.

    A run writes some 50 000 of these, one per message on every link, in the same
    thread as the plan; a driver's entry (direction, text, clock) is formatted directly,
    a fifth of what the general encoder costs, and anything else goes through it.
    """
    if len(entry) == 3:
        direction, data, t = entry.get("dir"), entry.get("data"), entry.get("t")
        if (
            type(direction) is str
            and type(data) is str
            and type(t) is float
            and list(entry) == ["dir", "data", "t"]
            and t - t == 0.0  # finite: JSON has no inf or nan
        ):
            return (
                f'{{"dir": {encode_basestring_ascii(direction)}, '
                f'"data": {encode_basestring_ascii(data)}, "t": {t!r}}}\n'
            )
    return _ENCODE(entry) + "\n"


class Transcript:
    """List-like sink for drivers (`append(dict)`), one JSON line per exchange.

    Each line goes to the kernel with one `write` on a file opened for appending before
    `append` returns (no buffer in this process): a killed run leaves every exchange it
    made, and a line is never split between two writes.
    """

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.count = 0

    def append(self, entry: dict[str, Any]) -> None:
        if self._fd < 0:
            return
        os.write(self._fd, line_of(entry).encode("utf-8"))
        self.count += 1

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
