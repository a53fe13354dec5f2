"""The results database on SQLite and on a real PostgreSQL server: the schema built by
the migrations, uploads idempotent by run ID, the verdict `summarize_records` gives, a
killed run stored as incomplete, a database that is down, and queries that give back
exactly what was stored."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from reports.load import load_run
from rig.lab.db import Database, DatabaseError, DatabaseUsageError, resolve
from rig.lab.queries import RunFilter, runs, show, trend
from rig.lab.schema import HEAD, Measurement, Plan, Run, metadata
from rig.lab.upload import NOTE, read_note, upload, waiting, write_note
from rig.results import summarize_records
from tests.lab.conftest import DEAD_DB, cli, copy_run

JAN = datetime(2026, 1, 5, tzinfo=UTC).timestamp()


def open_db(url: str, runs: Path | None = None) -> Database:
    return Database(resolve(url, runs or Path("runs")))


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            t: conn.execute(select(func.count()).select_from(metadata.tables[t])).scalar()
            for t in metadata.tables
        }


def test_migrations_build_exactly_the_declared_schema(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    db = open_db(db_url)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        assert set(inspect(conn).get_table_names()) == {*metadata.tables, "alembic_version"}
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    config = Config()
    config.set_main_option("script_location", str(Path("rig/lab/migrations").resolve()))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD
    db.close()


def test_upload_is_idempotent_and_keeps_the_verdict(db_url, real_run, tmp_path):
    db = open_db(db_url)
    first = upload(db, real_run)
    before = counts(db)
    again = upload(db, real_run)
    assert (first.action, again.action) == ("added", "unchanged")
    assert counts(db) == before  # nothing written the second time
    records = load_run(real_run).records
    summary = summarize_records(records)
    with db.engine.connect() as conn:
        run = conn.execute(select(Run)).mappings().one()
        stored = conn.execute(select(Measurement).order_by(Measurement.c.position)).mappings().all()
        plans = conn.execute(select(Plan.c.test, Plan.c.outcome)).all()
    assert run["verdict"] == summary.verdict == "PASS" and run["complete"]
    assert [(p.test, p.outcome) for p in summary.plans] == [tuple(p) for p in plans]
    measured = [r for r in records if r["type"] == "measurement"]
    assert [m["record"] for m in stored] == measured  # each record whole, as written
    assert [(m["value"], m["uncertainty"], m["low"], m["high"], m["verdict"]) for m in stored] == [
        (r["value"], r["uncertainty"], r["low"], r["high"], r["verdict"]) for r in measured
    ]
    n = len([r for r in records if r["type"] == "instrument"])  # one row per instrument
    assert n >= 10 and before["instruments"] == n
    assert before["records"] == len(records) - len(measured) - n
    # a failed measurement makes a FAIL run, in the database as in the summary
    failed = copy_run(real_run, tmp_path / "runs", "R-FAIL", verdicts={"cell_ov_release": "fail"})
    assert upload(db, failed).verdict == "FAIL"
    db.close()


def test_a_killed_run_goes_in_incomplete_and_is_replaced_when_its_store_grew(
    db_url, real_run, tmp_path
):
    db = open_db(db_url)
    killed = copy_run(real_run, tmp_path / "runs", "R-KILLED", killed=True)
    done = upload(db, killed)
    assert (done.action, done.verdict, done.complete) == ("added", "INCOMPLETE", False)
    with db.engine.connect() as conn:
        row = conn.execute(select(Run).where(Run.c.run_id == "R-KILLED")).mappings().one()
    assert row["torn"] and row["exit_code"] is None and row["ended"] is None
    assert "torn line" in " ".join(row["reasons"])
    # the same run ID with a store that has grown replaces it (a run uploaded mid-way)
    whole = copy_run(real_run, tmp_path / "whole", "R-KILLED")
    (killed / "results.jsonl").write_text((whole / "results.jsonl").read_text())
    assert upload(db, killed).action == "replaced"
    assert len(runs(db, RunFilter())) == 1
    db.close()


def test_two_uploads_of_one_run_at_once_write_it_once(db_url, real_run):
    db = open_db(db_url)
    actions: list[str] = []
    threads = [
        threading.Thread(target=lambda: actions.append(upload(db, real_run).action))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(actions) == ["added", "unchanged", "unchanged"]
    assert counts(db)["runs"] == 1
    db.close()


def test_one_run_id_from_two_hosts_is_refused(db_url, real_run, tmp_path):
    db = open_db(db_url)
    upload(db, copy_run(real_run, tmp_path / "a", "R-SAME", host="bench-1"))
    other = copy_run(real_run, tmp_path / "b", "R-SAME", host="bench-2", serial="X")
    with pytest.raises(DatabaseError, match="two runs share one ID"):
        upload(db, other)
    assert counts(db)["runs"] == 1
    db.close()


def test_trend_gives_back_exactly_the_stored_values_and_flags_a_drift(db_url, real_run, tmp_path):
    db = open_db(db_url)
    # cell 1's threshold creeping up towards 3.675 V board after board, the release flat
    climbing = [3.6506, 3.6531, 3.6554, 3.6580, 3.6603, 3.6629]
    for i, value in enumerate(climbing):
        run_dir = copy_run(
            real_run,
            tmp_path / "runs",
            f"R-{i:02d}",
            started=JAN + 86400 * i,
            serial=f"SN{i:03d}",
            firmware="2.1" if i else "2.0",
            values={"cell_ov_threshold": value, "cell_ov_release": 3.40 + 1e-4 * (-1) ** i},
        )
        upload(db, run_dir)
    result = trend(db, "cell_ov_threshold", RunFilter())
    assert [p["value"] for p in result.points] == climbing
    assert [p["dut_serial"] for p in result.points] == [f"SN{i:03d}" for i in range(6)]
    assert result.unit == "V" and {p["high"] for p in result.points} == {3.675}
    (drift,) = result.drifts
    assert drift.towards == "high" and drift.limit == 3.675 and drift.points == 6
    assert drift.per_run == pytest.approx(0.0025, rel=0.05)
    assert 0 < drift.runs_left < 10
    assert trend(db, "cell_ov_release", RunFilter()).drifts == []  # scatter, no trend
    # filters: firmware and dates
    assert len(trend(db, "cell_ov_threshold", RunFilter(firmware="2.1")).points) == 5
    since = datetime.fromtimestamp(JAN + 86400 * 4, UTC).date()
    assert [r["run_id"] for r in runs(db, RunFilter(since=since))] == ["R-05", "R-04"]
    assert runs(db, RunFilter(serial="SN003"))[0]["run_id"] == "R-03"
    assert show(db, "R-03").run["dut_serial"] == "SN003"
    db.close()


def test_queries_as_csv_carry_every_digit(real_run, tmp_path):
    url = f"sqlite:///{tmp_path / 'q.sqlite'}"
    value = 3.6512345678901234
    upload(
        open_db(url),
        copy_run(real_run, tmp_path / "runs", "R-CSV", values={"cell_ov_threshold": value}),
    )
    code, out = cli("db", "trend", "cell_ov_threshold", "--db", url, "--csv", "-")
    assert code == 0, out
    header, row = out.strip().splitlines()
    assert dict(zip(header.split(","), row.split(","), strict=True))["value"] == repr(value)
    code, out = cli("db", "runs", "--db", url, "--csv", str(tmp_path / "runs.csv"))
    assert code == 0 and "R-CSV" in (tmp_path / "runs.csv").read_text()
    plot = tmp_path / "trend.png"
    code, out = cli("db", "trend", "cell_ov_threshold", "--db", url, "--plot", str(plot))
    assert code == 0 and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", out


def test_bad_urls_are_usage_errors():
    with pytest.raises(DatabaseUsageError, match=r"PostgreSQL .* or SQLite"):
        resolve("mysql://x@y/z", Path("runs"))
    with pytest.raises(DatabaseUsageError, match="not a database URL"):
        resolve("postgresql://[::1", Path("runs"))


def test_a_database_that_is_down_fails_the_upload_visibly_and_the_next_upload_retries(
    postgres, pg_url, real_run, tmp_path
):
    runs_dir = tmp_path / "runs"
    run_dir = copy_run(real_run, runs_dir, "R-DOWN")
    target = resolve(pg_url, runs_dir)
    write_note(run_dir, "pending", target)  # as rig run leaves it; its process is gone
    note = read_note(run_dir)
    assert note is not None and note["pid"] == __import__("os").getpid()
    (run_dir / NOTE).write_text(json.dumps({**note, "pid": 1 << 22}))
    assert waiting(runs_dir, target) == [run_dir]
    postgres.stop()
    try:
        code, out = cli("db", "upload", "--db", pg_url, "--runs-dir", str(runs_dir))
    finally:
        postgres.start()
    assert code == 1, out
    assert postgres.password not in out and "rig:***@" in out
    code, out = cli("db", "upload", str(run_dir), "--db", pg_url)
    assert code == 0 and "R-DOWN: added (PASS" in out, out
    note = read_note(run_dir)
    assert note is not None and note["state"] == "uploaded"
    assert postgres.password not in (run_dir / NOTE).read_text()
    assert waiting(runs_dir, target) == []


def test_a_run_whose_database_is_down_keeps_its_verdict_and_says_so(real_run_with_db_down):
    run = real_run_with_db_down
    assert run.returncode == 0  # PASS, as if the database had been up
    tail = run.output[run.output.index("Overall verdict") :]
    assert "PASS" in tail.splitlines()[0]
    assert max(len(line) for line in tail.splitlines()) <= 80  # folded for 80 columns
    flat = tail.replace("\n", "")
    said = "DATABASE UPLOAD FAILED: this run is NOT in postgresql+psycopg://rig:***@127.0.0.1:9/rig"
    assert said in flat
    assert "rig db upload" in flat and "retries it" in flat
    note = json.loads((run.run_dir / NOTE).read_text())
    assert note["state"] == "failed" and "127.0.0.1" in note["error"]
    store = (run.run_dir / "results.jsonl").read_text()
    for said in (run.output, store, json.dumps(note)):
        assert "s3cret-pw" not in said  # the password: nowhere
    argv = json.loads(store.splitlines()[0])["argv"]
    assert DEAD_DB.replace("s3cret-pw", "***") in argv


def test_a_failed_upload_by_command_is_noted_without_the_password(real_run, tmp_path):
    run_dir = copy_run(real_run, tmp_path / "runs", "R-NOTE")
    with pytest.raises(DatabaseError) as caught:
        open_db(DEAD_DB)
    assert "s3cret-pw" not in str(caught.value) and "rig:***@127.0.0.1:9" in str(caught.value)
    code, out = cli("db", "upload", str(run_dir), "--db", DEAD_DB)
    assert code == 1 and "s3cret-pw" not in out and "rig:***@127.0.0.1:9" in out, out
    note = json.loads((run_dir / NOTE).read_text())
    assert note["state"] == "failed" and "rig:***@127.0.0.1:9" in note["error"]
    assert "s3cret-pw" not in json.dumps(note)


def test_the_default_database_is_an_sqlite_file_beside_the_runs_folder(tmp_path):
    target = resolve(None, tmp_path / "runs")
    assert target.source == "default" and target.url.database == str(tmp_path / "runs.sqlite")
