"""The one error a bad config file raises: which file, line and field, and what was expected."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    def __init__(
        self,
        path: Path | str,
        problems: list[tuple[str, str]],
        lines: dict[str, int | None] | None = None,
    ):
        self.path = Path(path)
        self.problems = problems  # (dotted field path, message)
        self.lines = {f: n for f, n in (lines or {}).items() if n is not None}
        out = [f"{self.path}: invalid configuration"]
        for field, message in problems:
            line = self.lines.get(field)
            where = f"line {line}: " if line is not None else ""
            out.append(f"  {where}{field or '<file>'}: {message}")
        super().__init__("\n".join(out))

    @property
    def fields(self) -> list[str]:
        return [field for field, _ in self.problems]

    def line(self, field: str) -> int | None:
        return self.lines.get(field)
