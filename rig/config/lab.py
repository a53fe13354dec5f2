"""The lab file: what belongs to the laboratory rather than to a bench.

One YAML file, found by `--lab FILE`, else the environment variable `RIG_LAB`, else the
station file's `lab:` (a path, relative to the station file); none is fine. Each section
is optional and has one owner; this module holds the one the compliance report needs:

```yaml
laboratory:
  name: Example Battery Lab
  address: 1 Test Street, Springfield
  accreditation: {body: DAkkS, number: D-PL-12345-01-00}   # optional
  signatories:                                             # who may approve a report
    - {name: B. Manager, role: Head of laboratory}
```

A report names its laboratory from here (recorded in the run's `run_start`); a report
without one is printed as a DRAFT, never with a placeholder where the name belongs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from rig.paths import resolve

if TYPE_CHECKING:
    from rig.config.station import StationConfig

ENVIRONMENT = "RIG_LAB"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Accreditation(_Strict):
    body: str = Field(min_length=1)  # the accreditation body, e.g. DAkkS, UKAS, A2LA
    number: str = Field(min_length=1)  # the laboratory's accreditation number


class Signatory(_Strict):
    name: str = Field(min_length=1)
    role: str = ""  # e.g. "Head of laboratory", "Technical manager"


class Laboratory(_Strict):
    """The laboratory as ISO/IEC 17025 §7.8.2 asks a report to name it."""

    name: str = Field(min_length=1)
    address: str = ""
    accreditation: Accreditation | None = None
    signatories: list[Signatory] = Field(default_factory=list)

    def record(self) -> dict:
        """As the results store keeps it (`run_start.laboratory`)."""
        return self.model_dump()

    def signatory(self, name: str) -> Signatory | None:
        return next((s for s in self.signatories if s.name == name), None)


class LabConfig(_Strict):
    laboratory: Laboratory | None = None


def lab_path(option: str | None, station_lab: str, station_file: Path | None) -> Path | None:
    """Which lab file applies: `--lab`, else $RIG_LAB, else the station file's `lab:`."""
    if option:
        return Path(option)
    if os.environ.get(ENVIRONMENT):
        return Path(os.environ[ENVIRONMENT])
    if station_lab:
        path = Path(station_lab)
        if not path.is_absolute() and station_file is not None:
            path = Path(station_file).parent / path
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

    return load_model(path, LabConfig)
