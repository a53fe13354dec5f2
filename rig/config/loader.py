"""Read a YAML file into a validated model, turning every failure into a ConfigError."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rig.config.errors import ConfigError
from rig.config.spec import DutSpec
from rig.config.station import StationConfig

M = TypeVar("M", bound=BaseModel)


def _field_path(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc)


def load_model(path: Path | str, model: type[M]) -> M:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [("", f"cannot read file: {exc.strerror or exc}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(path, [("", f"not valid YAML: {where}{problem}")]) from exc
    if not isinstance(data, dict):
        raise ConfigError(path, [("", f"expected a mapping at the top, got {type(data).__name__}")])
    try:
        return model.model_validate(data, context={"path": path})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = "unknown key (not part of the schema; check the spelling)"
            elif "input" in err and err["type"] not in ("missing",):
                message = f"{message} (got {err['input']!r})"
            problems.append((_field_path(err["loc"]), message))
        raise ConfigError(path, problems) from None


def load_station(path: Path | str) -> StationConfig:
    station = load_model(path, StationConfig)
    station.source = Path(path)
    return station


def load_spec(path: Path | str) -> DutSpec:
    spec = load_model(path, DutSpec)
    spec.source = Path(path)
    return spec
