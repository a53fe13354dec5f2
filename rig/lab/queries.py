"""Questions across runs: which runs, what one run holds, how a measurement moved.

Each answer is a list of plain rows (dicts with fixed columns), so the console table,
the CSV file and the plot show the same figures, exactly as they were stored: no value
is recomputed or rounded here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from rig.lab.db import Database

RUN_COLUMNS = [
    "run_id",
    "started",
    "station",
    "dut_model",
    "dut_serial",
    "dut_firmware",
    "spec_file",
    "operator",
    "verdict",
    "complete",
    "measurements",
]
TREND_COLUMNS = [
    "run_id",
    "started",
    "station",
    "dut_serial",
    "dut_firmware",
    "test",
    "name",
    "value",
    "uncertainty",
    "unit",
    "low",
    "high",
    "verdict",
]
DRIFT_MIN_POINTS = 4
DRIFT_HORIZON_RUNS = 20


class NotFound(Exception):
    """No run with that ID (or more than one with that prefix)."""


@dataclass
class RunFilter:
    serial: str | None = None
    model: str | None = None
    firmware: str | None = None
    station: str | None = None
    spec: str | None = None
    verdict: str | None = None
    operator: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive

    def apply(self, query: Any) -> Any:
        from rig.lab.schema import Run

        exact = {
            Run.c.dut_serial: self.serial,
            Run.c.dut_firmware: self.firmware,
            Run.c.station: self.station,
            Run.c.operator: self.operator,
        }
        for column, value in exact.items():
            if value is not None:
                query = query.where(column == value)
        if self.model is not None:  # the model as the DUT reports it, or the spec's name
            query = query.where((Run.c.dut_model == self.model) | (Run.c.dut_name == self.model))
        if self.spec is not None:  # the file as given, or its name alone
            query = query.where(
                (Run.c.spec_file == self.spec) | Run.c.spec_file.like(f"%/{self.spec}")
            )
        if self.verdict is not None:
            query = query.where(Run.c.verdict == self.verdict.upper())
        if self.since is not None:
            query = query.where(Run.c.started >= _midnight(self.since))
        if self.until is not None:
            query = query.where(Run.c.started < _midnight(self.until) + timedelta(days=1))
        return query


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def runs(
    db: Database, where: RunFilter, limit: int | None = None, extra: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Runs matching the filter, newest first, with their measurement counts; `extra`
    names further columns of `runs` a caller needs (the panel: the DUT's name, where the
    run was uploaded from, the places it held)."""
    from sqlalchemy import func, select

    from rig.lab.schema import Measurement, Run

    counted = (
        select(Measurement.c.run_pk, func.count().label("n"))
        .group_by(Measurement.c.run_pk)
        .subquery()
    )
    columns = [Run.c[c] for c in RUN_COLUMNS if c != "measurements"]
    columns += [Run.c[c] for c in extra if c not in RUN_COLUMNS]
    query = select(*columns, func.coalesce(counted.c.n, 0).label("measurements")).outerjoin(
        counted, counted.c.run_pk == Run.c.id
    )
    query = where.apply(query).order_by(Run.c.started.desc(), Run.c.run_id.desc())
    if limit:
        query = query.limit(limit)
    with db.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for r in rows:
        r["started"] = _utc(r["started"])
        r["complete"] = bool(r["complete"])
    return rows


def resolve_run_id(db: Database, text: str) -> str:
    """The run ID given, or the one run whose ID starts with it."""
    from sqlalchemy import select

    from rig.lab.schema import Run

    with db.engine.connect() as conn:
        exact = conn.execute(select(Run.c.run_id).where(Run.c.run_id == text)).scalar()
        if exact:
            return str(exact)
        found = (
            conn.execute(select(Run.c.run_id).where(Run.c.run_id.like(f"{text}%")).limit(3))
            .scalars()
            .all()
        )
    if len(found) == 1:
        return str(found[0])
    if not found:
        raise NotFound(f"no run {text} in {db.target.shown}")
    raise NotFound(f"{text} matches several runs ({', '.join(found)}, ...): give more of the ID")


@dataclass
class RunDetail:
    run: dict[str, Any]
    instruments: list[dict[str, Any]]
    plans: list[dict[str, Any]]
    measurements: list[dict[str, Any]]


def show(db: Database, run_id: str) -> RunDetail:
    from sqlalchemy import select

    from rig.lab.schema import Instrument, Measurement, Plan, Run

    run_id = resolve_run_id(db, run_id)
    with db.engine.connect() as conn:
        run = conn.execute(select(Run).where(Run.c.run_id == run_id)).mappings().one()
        pk = run["id"]
        instruments = (
            conn.execute(
                select(Instrument).where(Instrument.c.run_pk == pk).order_by(Instrument.c.id)
            )
            .mappings()
            .all()
        )
        plans = (
            conn.execute(select(Plan).where(Plan.c.run_pk == pk).order_by(Plan.c.position))
            .mappings()
            .all()
        )
        measurements = (
            conn.execute(
                select(Measurement)
                .where(Measurement.c.run_pk == pk)
                .order_by(Measurement.c.position)
            )
            .mappings()
            .all()
        )
    run_row = dict(run)
    for key in ("started", "ended", "uploaded_at"):
        run_row[key] = _utc(run_row[key])
    return RunDetail(
        run_row,
        [_without(i, "record") for i in instruments],
        [dict(p) for p in plans],
        [_without(m, "record") for m in measurements],
    )


def _without(row: Any, *keys: str) -> dict[str, Any]:
    return {k: v for k, v in dict(row).items() if k not in keys}


# -- trend -------------------------------------------------------------------------------


@dataclass
class Drift:
    """A series moving steadily towards one of its limits."""

    test: str
    towards: str  # "low" | "high"
    limit: float
    per_run: float  # fitted change per run, in the measurement's unit
    runs_left: float  # runs until the fitted line enters the guard band (limit ∓ U)
    points: int
    fitted_last: float  # the fitted line at the last run

    def describe(self, unit: str) -> str:
        left = (
            "already inside the guard band (within U of the limit)"
            if self.runs_left <= 0
            else f"reaches the guard band (within U of the limit) in ~{self.runs_left:.0f} runs"
        )
        return (
            f"{self.test}: drifting towards the {self.towards} limit {self.limit:g} {unit}, "
            f"{self.per_run:+.4g} {unit} per run over {self.points} runs; {left}"
        )


@dataclass
class Trend:
    name: str
    unit: str
    points: list[dict[str, Any]]  # TREND_COLUMNS, oldest first
    drifts: list[Drift] = field(default_factory=list)

    def series(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for p in self.points:
            out.setdefault(p["test"], []).append(p)
        return out


def trend(
    db: Database,
    name: str,
    where: RunFilter,
    test: str | None = None,
    horizon: int = DRIFT_HORIZON_RUNS,
) -> Trend:
    """Every stored value of measurement `name` across runs and DUTs (oldest first), and
    the series (one per plan case) drifting towards a limit."""
    from sqlalchemy import select

    from rig.lab.schema import Measurement, Run

    query = (
        select(
            Run.c.run_id,
            Run.c.started,
            Run.c.station,
            Run.c.dut_serial,
            Run.c.dut_firmware,
            Measurement.c.test,
            Measurement.c.name,
            Measurement.c.value,
            Measurement.c.uncertainty,
            Measurement.c.unit,
            Measurement.c.low,
            Measurement.c.high,
            Measurement.c.verdict,
        )
        .join(Run, Run.c.id == Measurement.c.run_pk)
        .where(Measurement.c.name == name)
    )
    if test:
        query = query.where(Measurement.c.test.like(f"%{test}%"))
    query = where.apply(query).order_by(Run.c.started, Run.c.run_id, Measurement.c.position)
    with db.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for r in rows:
        r["started"] = _utc(r["started"])
    unit = next((r["unit"] for r in rows if r["unit"]), "")
    result = Trend(name, unit, rows)
    for series_test, points in result.series().items():
        found = drift(series_test, points, horizon)
        if found is not None:
            result.drifts.append(found)
    return result


def drift(test: str, points: list[dict[str, Any]], horizon: int) -> Drift | None:
    """A steady move towards a limit: a straight line fitted to the values in run order
    whose change over the series exceeds twice the scatter about it, heading for a limit
    it would bring within U (the guard band) in no more than `horizon` runs."""
    values = [(p["value"], p) for p in points if p["value"] is not None]
    if len(values) < DRIFT_MIN_POINTS:
        return None
    y = np.array([v for v, _ in values], dtype=float)
    x = np.arange(len(y), dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    fitted = intercept + slope * x
    scatter = float(np.std(y - fitted, ddof=2)) if len(y) > 2 else 0.0
    movement = abs(slope) * (len(y) - 1)
    if slope == 0 or movement <= 2 * scatter:
        return None
    last = values[-1][1]
    towards, limit = ("high", last["high"]) if slope > 0 else ("low", last["low"])
    if limit is None:
        return None
    u = float(last["uncertainty"] or 0.0)
    band_edge = limit - u if towards == "high" else limit + u
    runs_left = (band_edge - fitted[-1]) / slope
    if runs_left > horizon:
        return None
    return Drift(
        test, towards, float(limit), float(slope), float(runs_left), len(y), float(fitted[-1])
    )


def uploaded_from(db: Database, run_id: str) -> str | None:
    """Where a run was uploaded from (`HOST:FOLDER`), or None for no such run."""
    from sqlalchemy import select

    from rig.lab.schema import Run

    with db.engine.connect() as conn:
        found = conn.execute(select(Run.c.uploaded_from).where(Run.c.run_id == run_id)).scalar()
    return None if found is None else str(found)
