"""An instrument's accuracy: the ± band a datasheet or a calibration certificate states.

Datasheets give accuracy as "± (% of reading + offset)" per range and per function
(programming a voltage, measuring a current, ...). A driver declares its model's table as
data (`ACCURACY`), naming the datasheet it was read from; a station file may replace any
entry with the figures of that unit's calibration certificate. The measurement code turns
the band into a standard uncertainty (rectangular distribution, GUM 4.3.7) and combines
it with the resolution of the search that found a value.

Quantity names are shared by every model so the roles can ask for them:

- `voltage_set`, `current_set`, `resistance_set`: programming (setpoint) accuracy;
- `voltage_meas`, `current_meas`, `resistance_meas`: read-back (meter) accuracy;
- `temperature_meas`: a thermocouple channel's accuracy in °C (the probe's own tolerance
  is the station's to add, from its certificate);
- `timebase`: accuracy of a digitizer's sample clock (pct of the interval measured);
- `voltage_response`, `current_response`, `resistance_response`: how long after its
  command a programmed change is held at its new level (`offset`, in seconds; ranges by
  the size of the step): what a delay timed from the command must allow for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

QUANTITIES = (
    "voltage_set",
    "voltage_meas",
    "current_set",
    "current_meas",
    "resistance_set",
    "resistance_meas",
    "temperature_meas",
    "timebase",
    "voltage_response",
    "current_response",
    "resistance_response",
)


class AccuracyUnknown(KeyError):
    """The model states no accuracy for this quantity or range (and the station none either)."""


@dataclass(frozen=True)
class Accuracy:
    """± (pct % of |reading| + offset) up to `range_max`, as datasheets write it."""

    pct: float
    offset: float
    range_max: float = math.inf
    source: str = ""

    def __post_init__(self) -> None:
        if self.pct < 0 or self.offset < 0:
            raise ValueError(f"accuracy pct and offset must be >= 0, got {self.pct}/{self.offset}")
        if self.range_max <= 0:
            raise ValueError(f"accuracy range_max must be > 0, got {self.range_max}")

    def limit(self, value: float) -> float:
        """Half-width of the band at `value`, in the quantity's unit."""
        return self.pct / 100.0 * abs(value) + self.offset

    def standard(self, value: float) -> float:
        """Standard uncertainty at `value`: the band read as a rectangular distribution."""
        return self.limit(value) / math.sqrt(3.0)


AccuracyTable = Mapping[str, tuple[Accuracy, ...]]


def lookup(table: AccuracyTable, quantity: str, value: float) -> Accuracy:
    """The entry of the smallest range that holds |value|.

    Raises AccuracyUnknown when the table has no entry for the quantity or no range is
    large enough: an uncertainty is never silently taken as zero.
    """
    entries = sorted(table.get(quantity, ()), key=lambda a: a.range_max)
    if not entries:
        raise AccuracyUnknown(f"no accuracy stated for {quantity!r}")
    for entry in entries:
        if abs(value) <= entry.range_max * (1 + 1e-9):
            return entry
    raise AccuracyUnknown(
        f"{quantity} {value:g} is beyond the largest stated range ({entries[-1].range_max:g})"
    )


def merged(
    datasheet: AccuracyTable, override: AccuracyTable | None
) -> dict[str, tuple[Accuracy, ...]]:
    """The datasheet table, with a station's certificate figures replacing whole quantities."""
    out = {q: tuple(v) for q, v in datasheet.items()}
    for quantity, entries in (override or {}).items():
        out[quantity] = tuple(entries)
    return out


def table_from(entries: Mapping[str, Iterable[Any]] | None) -> dict[str, tuple[Accuracy, ...]]:
    """An accuracy table from a station file's `accuracy:` block.

    Each entry may be a mapping or any object with `pct`, `offset`, `range_max` and
    `source` (the station config's validated entries), so the drivers never depend on the
    rig's config models.
    """
    table: dict[str, tuple[Accuracy, ...]] = {}
    for quantity, items in (entries or {}).items():
        if quantity not in QUANTITIES:
            raise AccuracyUnknown(f"unknown accuracy quantity {quantity!r}")
        rows: list[Accuracy] = []
        for item in items:
            rows.append(
                Accuracy(
                    pct=float(_field(item, "pct")),
                    offset=float(_field(item, "offset")),
                    range_max=float(_field(item, "range_max", math.inf)),
                    source=str(_field(item, "source", "") or "station file"),
                )
            )
        table[quantity] = tuple(rows)
    return table


def _field(item: Any, key: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(key, default)
    return getattr(item, key, default)


class Accurate:
    """Mixin for anything that answers "how accurate is this quantity at this value?".

    Drivers state their datasheet table in `ACCURACY`; a station file's certificate
    figures arrive as `accuracy_override` when the station opens the instrument.
    """

    ACCURACY: Mapping[str, tuple[Accuracy, ...]] = {}
    accuracy_override: Mapping[str, tuple[Accuracy, ...]] | None = None

    @property
    def accuracy_table(self) -> dict[str, tuple[Accuracy, ...]]:
        """The table in force: the datasheet with the station's certificate applied."""
        return merged(self.ACCURACY, self.accuracy_override)

    def accuracy(self, quantity: str, value: float) -> Accuracy:
        """The band that applies to `quantity` at `value` (smallest range that holds it).

        Raises AccuracyUnknown when neither the datasheet nor the station states one.
        """
        return lookup(self.accuracy_table, quantity, value)
