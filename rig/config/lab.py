"""The lab file: what belongs to the laboratory rather than to one bench.

One YAML file, found by `--lab FILE`, else the environment variable `RIG_LAB`, else
`lab:` (a path) in the station file; none is fine. Each section is optional and has its
own model (one class per section); errors name file, line and field like the other
configuration files. Sections: `panel:` (the operator's panel: its token and address).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

LAB_ENV = "RIG_LAB"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PanelSection(Strict):
    """`rig panel`: where it listens and the token its actions need. The token is never
    in the file itself: the name of an environment variable that holds it, or a file
    (readable by the panel's user only) whose first line it is. Neither: a new token is
    printed at start-up."""

    token_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    token_file: Path | None = None
    bind: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)

    @model_validator(mode="after")
    def _one_source(self) -> PanelSection:
        if self.token_env is not None and self.token_file is not None:
            raise ValueError("give token_env or token_file, not both")
        return self


class LabConfig(Strict):
    panel: PanelSection | None = None
    source: Path | None = Field(default=None, exclude=True)


def find_lab(explicit: str | Path | None, station_lab: str | None = None) -> Path | None:
    """The lab file to use: `--lab`, else $RIG_LAB, else the station file's `lab:`."""
    for candidate in (explicit, os.environ.get(LAB_ENV) or None, station_lab):
        if candidate:
            return Path(candidate)
    return None


def load_lab(path: str | Path) -> LabConfig:
    from rig.config.loader import load_model

    lab = load_model(path, LabConfig)
    return lab.model_copy(update={"source": Path(path)})
