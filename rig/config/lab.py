"""The lab file: what belongs to the laboratory rather than to one bench.

One YAML file, found by `--lab FILE`, else the environment variable `RIG_LAB`, else
`lab:` (a path, relative to the station file) in the station file; having none is fine
(a single bench: the results go to an SQLite file beside the runs folder). Each section
is optional and has one class here; errors name file, line and field like the station
and spec files.

    laboratory:                                  # as the compliance report names it
      name: Example Battery Lab
      address: 1 Test Street, Springfield
      accreditation: {body: DAkkS, number: D-PL-12345-01-00}   # optional
      signatories:                               # who may approve a report
        - {name: B. Manager, role: Head of laboratory}
    database:
      url: postgresql://rig@labdb.example/rig   # no password here
      password_env: RIG_DB_PASSWORD              # the variable that holds it (optional)
    coordinator:
      address: labgrid.example:20408             # labgrid's gRPC coordinator
    panel:
      token_env: RIG_PANEL_TOKEN                 # the token `rig panel`'s actions need
      bind: 127.0.0.1
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rig.paths import resolve

if TYPE_CHECKING:
    from rig.config.station import StationConfig

ENV_LAB = "RIG_LAB"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Accreditation(_Section):
    body: str = Field(min_length=1)  # the accreditation body, e.g. DAkkS, UKAS, A2LA
    number: str = Field(min_length=1)  # the laboratory's accreditation number


class Signatory(_Section):
    name: str = Field(min_length=1)
    role: str = ""  # e.g. "Head of laboratory", "Technical manager"


class Laboratory(_Section):
    """The laboratory as ISO/IEC 17025 §7.8.2 asks a report to name it; a report without
    one is printed as a DRAFT, never with a placeholder where the name belongs."""

    name: str = Field(min_length=1)
    address: str = ""
    accreditation: Accreditation | None = None
    signatories: list[Signatory] = Field(default_factory=list)

    def record(self) -> dict:
        """As the results store keeps it (`run_start.laboratory`)."""
        return self.model_dump()

    def signatory(self, name: str) -> Signatory | None:
        return next((s for s in self.signatories if s.name == name), None)


class DatabaseSection(_Section):
    """The laboratory's results database (see docs/laboratory.md)."""

    url: str = Field(min_length=1, description="postgresql://user@host[:port]/db, or sqlite")
    password_env: str | None = Field(
        default=None, description="environment variable holding the password"
    )

    @field_validator("url")
    @classmethod
    def _no_password(cls, url: str) -> str:
        # a file is copied around and shown; a password in it would travel with it
        if re.match(r"^[a-z0-9+]+://[^/@]*:[^/@]*@", url):
            raise ValueError(
                "the URL holds a password: name the variable that holds it in password_env "
                "(or use PGPASSWORD / ~/.pgpass) instead"
            )
        return url

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, name: str | None) -> str | None:
        if name is not None and not _ENV_NAME.match(name):
            raise ValueError("not an environment variable name")
        return name


class CoordinatorSection(_Section):
    """labgrid's coordinator, where benches and shared instruments are places."""

    address: str = Field(min_length=1, description="HOST:PORT of labgrid-coordinator")


class PanelSection(_Section):
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


class LabConfig(_Section):
    laboratory: Laboratory | None = None
    database: DatabaseSection | None = None
    coordinator: CoordinatorSection | None = None
    panel: PanelSection | None = None
    source: Path | None = Field(default=None, exclude=True)


def lab_path(option: str | None, station_lab: str | None, station_file: Path | None) -> Path | None:
    """Which lab file: --lab, else $RIG_LAB, else the station file's `lab:` (relative to it)."""
    if option:
        return Path(option)
    if os.environ.get(ENV_LAB):
        return Path(os.environ[ENV_LAB])
    if station_lab:
        path = Path(station_lab)
        if not path.is_absolute() and station_file is not None:
            path = station_file.parent / path
        return path
    return None


def laboratory_of(option: str | None, station: StationConfig) -> dict[str, Any] | None:
    """The laboratory as the run records it: from the lab file (`--lab`, $RIG_LAB, the
    station's `lab:`), else the station file's free-text `laboratory`, else None."""
    path = lab_path(option, station.lab, station.source)
    if path is not None:
        lab = load_lab(resolve(str(path))).laboratory
        if lab is not None:
            return {**lab.record(), "file": str(path)}
    if station.laboratory:
        return {"name": station.laboratory, "address": "", "accreditation": None,
                "signatories": []}  # fmt: skip
    return None


def load_lab(path: Path | str) -> LabConfig:
    from rig.config.loader import load_model

    lab = load_model(path, LabConfig)
    return lab.model_copy(update={"source": Path(path)})
