"""Read a YAML file into a validated model, turning every failure into a ConfigError.

Every error names the file, the field and the line it is on: the loader keeps a map from
each field's dotted path to its line while it parses. A file is untrusted input (a lab
passes station files around): it is size- and depth-limited, and only plain YAML is
accepted (no tags that construct objects), so a hostile file fails fast with a message,
never with a traceback or a hang.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rig.config import sense
from rig.config.errors import ConfigError
from rig.config.spec import DutSpec
from rig.config.station import StationConfig

M = TypeVar("M", bound=BaseModel)

MAX_BYTES = 1 << 20  # a station or spec file is a few kB; anything near this is a mistake
MAX_DEPTH = 40
MAX_NODES = 200_000  # counted with aliases expanded, so an alias bomb is refused cheaply


def _field_path(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _line_map(root: yaml.Node) -> dict[str, int]:
    """Dotted field path → 1-based line, for every key and item in the document."""
    lines: dict[str, int] = {}
    expanded: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep")
        known = expanded.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(v, depth + 1) for v in node.value)
        expanded[id(node)] = total
        if total > MAX_NODES:
            raise _Refused(f"more than {MAX_NODES} values once aliases are expanded")
        return total

    def walk(node: yaml.Node, prefix: str, seen: frozenset[int]) -> None:
        if id(node) in seen:  # an alias back into its own ancestry
            raise _Refused("an alias refers to a node that contains it")
        seen = seen | {id(node)}
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                path = f"{prefix}.{name}" if prefix else name
                lines.setdefault(path, key.start_mark.line + 1)
                walk(value, path, seen)
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                path = f"{prefix}.{index}" if prefix else str(index)
                lines.setdefault(path, value.start_mark.line + 1)
                walk(value, path, seen)

    size(root, 0)
    walk(root, "", frozenset())
    return lines


_OPEN = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSE = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


# libyaml's parser when PyYAML was built with it (ten times faster), the same safe rules.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_depth(text: str) -> None:
    """Refuse deep nesting from the token stream, before the (recursive) composer sees it."""
    depth = 0
    for token in yaml.scan(text, Loader=_Loader):
        if isinstance(token, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                line = token.start_mark.line + 1
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep (line {line})")
        elif isinstance(token, _CLOSE):
            depth -= 1


class _Refused(Exception):
    """A file too big, too deep or too self-referential to be a config file."""


def _parse(path: Path) -> tuple[Any, dict[str, int]]:
    """The document and its line map; ConfigError for anything but a sane YAML file."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(path, [("", f"file is {size} bytes; a config file is < 1 MiB")])
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [("", f"cannot read file: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(path, [("", f"not UTF-8 text ({exc.reason})")]) from None
    try:
        _check_depth(text)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            lines = _line_map(node) if node is not None else {}
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(path, [("", f"not valid YAML: {where}{problem}")]) from None
    except _Refused as exc:
        raise ConfigError(path, [("", f"refused: {exc}")]) from None
    except RecursionError:
        raise ConfigError(path, [("", "refused: nested too deeply")]) from None
    return data, lines


@functools.lru_cache(maxsize=32)
def _cached_lines(path: Path, mtime_ns: int) -> dict[str, int]:
    try:
        return _parse(path)[1]
    except ConfigError:
        return {}


def field_lines(path: Path | str) -> dict[str, int]:
    """The line map of a config file, for errors found after loading (cross-checks)."""
    p = Path(path)
    try:
        return _cached_lines(p, p.stat().st_mtime_ns)
    except OSError:
        return {}


def line_of(lines: dict[str, int], field: str) -> int | None:
    """The line of `field`, or of its nearest parent that is in the file."""
    while field:
        if field in lines:
            return lines[field]
        field = field.rpartition(".")[0]
    return None


def _message(err: Any) -> str:
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown key (not part of the schema; check the spelling)"
    if "input" in err and err["type"] not in ("missing",):
        shown = repr(err["input"])
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"{message} (got {shown})"
    return message


def load_model(path: Path | str, model: type[M]) -> M:
    path = Path(path)
    data, lines = _parse(path)
    if not isinstance(data, dict):
        raise ConfigError(path, [("", f"expected a mapping at the top, got {type(data).__name__}")])
    try:
        return model.model_validate(data, context={"path": path})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field, message = _field_path(err["loc"]), _message(err)
            # a whole-model check names its field in the message: "a.b: must be ..."
            named, sep, rest = message.partition(": ")
            if sep and " " not in named and (field == "" or named.startswith(f"{field}.")):
                if line_of(lines, named) is not None:
                    field, message = named, rest
            elif sep and " " not in named and f"{field}.{named}" in lines:
                field, message = f"{field}.{named}", rest
            problems.append((field, message))
        raise ConfigError(
            path, problems, lines={f: line_of(lines, f) for f, _ in problems}
        ) from None


def load_station(path: Path | str) -> StationConfig:
    station = load_model(path, StationConfig)
    station.source = Path(path)
    return station


def load_spec(path: Path | str) -> DutSpec:
    spec = load_model(path, DutSpec)
    spec.source = Path(path)
    found = sense.problems(spec)
    if found:
        lines = field_lines(path)
        raise ConfigError(path, found, lines={f: line_of(lines, f) for f, _ in found})
    return spec
