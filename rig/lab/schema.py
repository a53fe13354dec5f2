"""The results database's tables: what a laboratory asks across runs, in columns.

One row per run (its station, DUT identity and firmware, spec, operator, verdict), per
instrument the run used (serial and calibration), per plan (outcome), per measurement
(value, unit, bracket, U, limits, rule, verdict, evidence), and every other record of the
store as JSON, so the database holds all the run folder's store said. The run folder
stays the primary record: these rows are filled from it (`rig.lab.upload`) and can be
filled again at any time.

SQLAlchemy Core tables, not ORM classes: the rows are written and read as plain dicts,
and a run's upload does not pay for importing the ORM. The tables are created and
changed only by the migrations in `rig/lab/migrations` (alembic); `HEAD` names the
newest, and a test checks that the migrations build exactly these tables on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

HEAD = "0001"  # the newest migration; tests/lab checks it against rig/lab/migrations

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
Json = JSON().with_variant(JSONB(), "postgresql")
When = DateTime(timezone=True)

metadata = MetaData(
    naming_convention={  # stable constraint names, so migrations can refer to them
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> Column:
    return Column("id", Integer, primary_key=True)


def _run_pk() -> Column:
    return Column(
        "run_pk", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True
    )


def _text(name: str, length: int | None = None, index: bool = False) -> Column:
    return Column(name, String(length) if length else Text, nullable=False, index=index)


def _maybe(name: str, kind: type = Float) -> Column:
    return Column(name, kind, nullable=True)


def _json(name: str) -> Column:
    return Column(name, Json, nullable=False)


# One `rig run`: who, where, on what, and the verdict `summarize_records` gave.
Run = Table(
    "runs",
    metadata,
    _id(),
    Column("run_id", String(64), nullable=False, unique=True),
    _text("host", 255),
    _text("operator", 255, index=True),
    _text("laboratory"),
    _text("station", 255, index=True),
    _text("station_file"),
    _text("station_description"),
    _text("location"),
    _json("places"),
    _text("spec_file", index=True),
    _text("dut_name"),
    _text("dut_model", 255, index=True),
    _text("dut_hardware", 255),
    _text("dut_serial", 255, index=True),
    _text("dut_firmware", 255, index=True),
    _text("dut_manufacturer", 255),
    _text("dut_protocol", 64),
    _text("dut_production_date", 64),
    _maybe("dut_cell_count", Integer),
    Column("simulated", Boolean, nullable=False),
    _maybe("seed", Integer),
    _json("sim_defects"),
    _json("sim_sets"),
    Column("started", When, nullable=True, index=True),
    _maybe("ended", When),
    _text("verdict", 16, index=True),
    _json("reasons"),
    _maybe("exit_code", Integer),
    Column("complete", Boolean, nullable=False),  # reached run_end, not interrupted
    Column("torn", Boolean, nullable=False),  # the store ends mid-line
    Column("damaged_lines", Integer, nullable=False),
    _json("counts"),
    _text("store_digest", 64),  # sha256 of results.jsonl
    Column("store_records", Integer, nullable=False),
    Column("uploaded_at", When, nullable=False),
    _text("uploaded_from"),  # host:folder of the run
)

# An instrument as the run found it: identity read back, serial, calibration.
Instrument = Table(
    "instruments",
    metadata,
    _id(),
    _run_pk(),
    _text("name", 255),
    _text("role", 64),
    _text("model", 255, index=True),
    _text("serial", 255, index=True),
    _text("serial_expected", 255),
    _text("identity"),
    _text("resource"),
    _text("calibration_due", 32),
    _maybe("calibration_expired", Boolean),
    _json("record"),
)

# One selected plan (a test case) and how it ended, as `summarize_records` said.
Plan = Table(
    "plans",
    metadata,
    _id(),
    _run_pk(),
    Column("position", Integer, nullable=False),  # its place in the run's order
    _text("test", index=True),
    _text("protection", 255),
    _json("clauses"),
    _text("outcome", 16, index=True),
    _text("reason"),
    _maybe("duration_s"),
    _maybe("started", When),
)

# One measurement record of the store, its figures in columns, the record whole.
Measurement = Table(
    "measurements",
    metadata,
    _id(),
    _run_pk(),
    Column(
        "plan_pk", Integer, ForeignKey("plans.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    Column("position", Integer, nullable=False),  # its line in the store
    _text("test"),
    _text("name", 255),
    _maybe("value"),
    _text("unit", 32),
    _maybe("low"),
    _maybe("high"),
    _text("comparison", 16),
    _maybe("bracket_low"),
    _maybe("bracket_high"),
    _maybe("resolution"),
    _maybe("uncertainty"),  # U, expanded
    _maybe("coverage_factor"),
    _text("decision_rule", 32),
    _text("verdict", 16, index=True),
    _text("evidence", 32),
    _text("instrument", 255),
    _maybe("nominal"),
    _json("clauses"),
    _text("waveform"),
    _maybe("taken", When),
    _json("record"),
    Index("ix_measurements_name_test", "name", "test"),
)

# Every other record of the store (safe state, station checks, recoveries, errors,
# simlab's truth, places held), as written.
Record = Table(
    "records",
    metadata,
    _id(),
    _run_pk(),
    Column("position", Integer, nullable=False),
    _text("type", 64, index=True),
    _text("test"),
    _json("record"),
)

TABLES = [Run, Instrument, Plan, Measurement, Record]
