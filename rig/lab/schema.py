"""The results database's tables: what a laboratory asks across runs, in columns.

One row per run (its station, DUT identity and firmware, spec, operator, verdict), per
instrument the run used (serial and calibration), per plan (outcome), per measurement
(value, unit, bracket, U, limits, rule, verdict, evidence), and every other record of the
store as JSON, so the database holds all the run folder's store said. The run folder
stays the primary record: these rows are filled from it (`rig.lab.upload`) and can be
filled again at any time.

The tables are created and changed only by the migrations in `rig/lab/migrations`
(alembic); `HEAD` names the newest, and a test checks that the migrations build exactly
these tables on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

HEAD = "0001"  # the newest migration; tests/lab checks it against rig/lab/migrations

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
Json = JSON().with_variant(JSONB(), "postgresql")
When = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={  # stable constraint names, so migrations can refer to them
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def _run_fk() -> Any:
    return mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)


class Run(Base):
    """One `rig run`: who, where, on what, and the verdict `summarize_records` gave."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), unique=True)
    host: Mapped[str] = mapped_column(String(255), default="")
    operator: Mapped[str] = mapped_column(String(255), default="", index=True)
    laboratory: Mapped[str] = mapped_column(Text, default="")
    station: Mapped[str] = mapped_column(String(255), default="", index=True)
    station_file: Mapped[str] = mapped_column(Text, default="")
    station_description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(Text, default="")
    places: Mapped[list[Any]] = mapped_column(Json, default=list)
    spec_file: Mapped[str] = mapped_column(Text, default="", index=True)
    dut_name: Mapped[str] = mapped_column(Text, default="")
    dut_model: Mapped[str] = mapped_column(String(255), default="", index=True)
    dut_hardware: Mapped[str] = mapped_column(String(255), default="")
    dut_serial: Mapped[str] = mapped_column(String(255), default="", index=True)
    dut_firmware: Mapped[str] = mapped_column(String(255), default="", index=True)
    dut_manufacturer: Mapped[str] = mapped_column(String(255), default="")
    dut_protocol: Mapped[str] = mapped_column(String(64), default="")
    dut_production_date: Mapped[str] = mapped_column(String(64), default="")
    dut_cell_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    seed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sim_defects: Mapped[list[Any]] = mapped_column(Json, default=list)
    sim_sets: Mapped[list[Any]] = mapped_column(Json, default=list)
    started: Mapped[datetime | None] = mapped_column(When, nullable=True, index=True)
    ended: Mapped[datetime | None] = mapped_column(When, nullable=True)
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    reasons: Mapped[list[Any]] = mapped_column(Json, default=list)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    complete: Mapped[bool] = mapped_column(Boolean)  # reached run_end, not interrupted
    torn: Mapped[bool] = mapped_column(Boolean, default=False)  # the store ends mid-line
    damaged_lines: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    store_digest: Mapped[str] = mapped_column(String(64))  # sha256 of results.jsonl
    store_records: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(When)
    uploaded_from: Mapped[str] = mapped_column(Text, default="")  # host:folder of the run


class Instrument(Base):
    """An instrument as the run found it: identity read back, serial, calibration."""

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_pk: Mapped[int] = _run_fk()
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(64), default="")
    model: Mapped[str] = mapped_column(String(255), default="", index=True)
    serial: Mapped[str] = mapped_column(String(255), default="", index=True)
    serial_expected: Mapped[str] = mapped_column(String(255), default="")
    identity: Mapped[str] = mapped_column(Text, default="")
    resource: Mapped[str] = mapped_column(Text, default="")
    calibration_due: Mapped[str] = mapped_column(String(32), default="")
    calibration_expired: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    record: Mapped[dict[str, Any]] = mapped_column(Json)


class Plan(Base):
    """One selected plan (a test case) and how it ended, as `summarize_records` said."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_pk: Mapped[int] = _run_fk()
    position: Mapped[int] = mapped_column(Integer)  # its place in the run's order
    test: Mapped[str] = mapped_column(Text, index=True)
    protection: Mapped[str] = mapped_column(String(255), default="")
    clauses: Mapped[list[Any]] = mapped_column(Json, default=list)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    started: Mapped[datetime | None] = mapped_column(When, nullable=True)


class Measurement(Base):
    """One measurement record of the store, its figures in columns, the record whole."""

    __tablename__ = "measurements"
    __table_args__ = (Index("ix_measurements_name_test", "name", "test"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_pk: Mapped[int] = _run_fk()
    plan_pk: Mapped[int | None] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), nullable=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # its line in the store
    test: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(32), default="")
    low: Mapped[float | None] = mapped_column(Float, nullable=True)
    high: Mapped[float | None] = mapped_column(Float, nullable=True)
    comparison: Mapped[str] = mapped_column(String(16), default="")
    bracket_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    bracket_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    resolution: Mapped[float | None] = mapped_column(Float, nullable=True)
    uncertainty: Mapped[float | None] = mapped_column(Float, nullable=True)  # U, expanded
    coverage_factor: Mapped[float | None] = mapped_column(Float, nullable=True)
    decision_rule: Mapped[str] = mapped_column(String(32), default="")
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    evidence: Mapped[str] = mapped_column(String(32), default="")
    instrument: Mapped[str] = mapped_column(String(255), default="")
    nominal: Mapped[float | None] = mapped_column(Float, nullable=True)
    clauses: Mapped[list[Any]] = mapped_column(Json, default=list)
    waveform: Mapped[str] = mapped_column(Text, default="")
    taken: Mapped[datetime | None] = mapped_column(When, nullable=True)
    record: Mapped[dict[str, Any]] = mapped_column(Json)


class Record(Base):
    """Every other record of the store (safe state, station checks, recoveries, errors,
    simlab's truth, places held), as written."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_pk: Mapped[int] = _run_fk()
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64), index=True)
    test: Mapped[str] = mapped_column(Text, default="")
    record: Mapped[dict[str, Any]] = mapped_column(Json)


TABLES = [Run, Instrument, Plan, Measurement, Record]
