"""The one error a bad config file raises: which file, which field, what was expected."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    def __init__(self, path: Path | str, problems: list[tuple[str, str]]):
        self.path = Path(path)
        self.problems = problems  # (dotted field path, message)
        lines = [f"{self.path}: invalid configuration"]
        lines += [f"  {field or '<file>'}: {message}" for field, message in problems]
        super().__init__("\n".join(lines))

    @property
    def fields(self) -> list[str]:
        return [field for field, _ in self.problems]
