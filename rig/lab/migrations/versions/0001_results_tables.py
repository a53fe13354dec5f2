"""The results tables: runs, instruments, plans, measurements, and every other record.

Revision ID: 0001
Revises:
Create Date: 2026-12-07

A migration is a frozen copy of the schema as it was: it never imports rig.lab.schema,
whose tables may have moved on since.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = sa.DateTime(timezone=True)


def _text(name: str, length: int | None = None) -> sa.Column:
    kind = sa.String(length=length) if length else sa.Text()
    return sa.Column(name, kind, nullable=False)


def _float(name: str) -> sa.Column:
    return sa.Column(name, sa.Float(), nullable=True)


def _run_pk(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_pk"], ["runs.id"], name=f"fk_{table}_run_pk_runs", ondelete="CASCADE"
        ),
    ]


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("run_id", 64),
        _text("host", 255),
        _text("operator", 255),
        _text("laboratory"),
        _text("station", 255),
        _text("station_file"),
        _text("station_description"),
        _text("location"),
        sa.Column("places", JSON, nullable=False),
        _text("spec_file"),
        _text("dut_name"),
        _text("dut_model", 255),
        _text("dut_hardware", 255),
        _text("dut_serial", 255),
        _text("dut_firmware", 255),
        _text("dut_manufacturer", 255),
        _text("dut_protocol", 64),
        _text("dut_production_date", 64),
        sa.Column("dut_cell_count", sa.Integer(), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("sim_defects", JSON, nullable=False),
        sa.Column("sim_sets", JSON, nullable=False),
        sa.Column("started", WHEN, nullable=True),
        sa.Column("ended", WHEN, nullable=True),
        _text("verdict", 16),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("torn", sa.Boolean(), nullable=False),
        sa.Column("damaged_lines", sa.Integer(), nullable=False),
        sa.Column("counts", JSON, nullable=False),
        _text("store_digest", 64),
        sa.Column("store_records", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", WHEN, nullable=False),
        _text("uploaded_from"),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("run_id", name="uq_runs_run_id"),
    )
    _indexes(
        "runs",
        "dut_firmware",
        "dut_model",
        "dut_serial",
        "operator",
        "spec_file",
        "started",
        "station",
        "verdict",
    )

    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), nullable=False),
        *_run_pk("instruments"),
        _text("name", 255),
        _text("role", 64),
        _text("model", 255),
        _text("serial", 255),
        _text("serial_expected", 255),
        _text("identity"),
        _text("resource"),
        _text("calibration_due", 32),
        sa.Column("calibration_expired", sa.Boolean(), nullable=True),
        sa.Column("record", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_instruments"),
    )
    _indexes("instruments", "model", "run_pk", "serial")

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        *_run_pk("plans"),
        sa.Column("position", sa.Integer(), nullable=False),
        _text("test"),
        _text("protection", 255),
        sa.Column("clauses", JSON, nullable=False),
        _text("outcome", 16),
        _text("reason"),
        _float("duration_s"),
        sa.Column("started", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_plans"),
    )
    _indexes("plans", "outcome", "run_pk", "test")

    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        *_run_pk("records"),
        sa.Column("position", sa.Integer(), nullable=False),
        _text("type", 64),
        _text("test"),
        sa.Column("record", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_records"),
    )
    _indexes("records", "run_pk", "type")

    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        *_run_pk("measurements"),
        sa.Column("plan_pk", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        _text("test"),
        _text("name", 255),
        _float("value"),
        _text("unit", 32),
        _float("low"),
        _float("high"),
        _text("comparison", 16),
        _float("bracket_low"),
        _float("bracket_high"),
        _float("resolution"),
        _float("uncertainty"),
        _float("coverage_factor"),
        _text("decision_rule", 32),
        _text("verdict", 16),
        _text("evidence", 32),
        _text("instrument", 255),
        _float("nominal"),
        sa.Column("clauses", JSON, nullable=False),
        _text("waveform"),
        sa.Column("taken", WHEN, nullable=True),
        sa.Column("record", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_pk"], ["plans.id"], name="fk_measurements_plan_pk_plans", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_measurements"),
    )
    _indexes("measurements", "plan_pk", "run_pk", "verdict")
    op.create_index("ix_measurements_name_test", "measurements", ["name", "test"])


def downgrade() -> None:
    for table in ("measurements", "records", "plans", "instruments", "runs"):
        op.drop_table(table)
