"""A run folder into the results database: idempotent by run ID, never lost, never quiet.

The run folder is the primary record; the database is filled from its store, read by the
same loader the reports use and judged by the same `summarize_records`, so the database
holds the verdict the console and the report gave. A run is written whole in one
transaction, keyed by its run ID and the SHA-256 of its store: the same store uploaded
again writes nothing; a store that has grown since (a run uploaded while still running)
replaces what was there; a run whose process was killed is uploaded as the store left
it, INCOMPLETE. Two uploads of one run at once are serialised (a PostgreSQL advisory lock
on the run ID; SQLite's write lock), so neither sees half of the other.

Every run that should reach a database carries a note in its folder, `db-upload.json`:
`pending` from the moment the run starts, `failed` (with the error) when an upload did
not go through, `uploaded` once it did. The next upload to the same database, at the end
of the next run or by `rig db upload`, takes up every `pending` or `failed` run of the
runs folder whose process is no longer running, so a run killed halfway or uploaded while
the database was down gets there without anyone remembering it. A failed upload never
changes a run's verdict or exit code; it is printed after the summary, in red, with what
to do, and the note in the folder says it too.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports.load import ReportError, RunData, load_run
from rig.lab.db import Database, DatabaseError, DbTarget, describe, hold_lock, lock_key

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Connection

NOTE = "db-upload.json"
PROJECTED = {"measurement", "instrument"}  # kept whole in their own tables' `record`


class NotARun(Exception):
    """The folder holds no results store."""


@dataclass
class Uploaded:
    run_id: str
    action: str  # added | replaced | unchanged
    verdict: str
    complete: bool
    measurements: int
    seconds: float


# -- the store as rows -------------------------------------------------------------------


def _when(epoch: Any = None, iso: Any = None) -> datetime | None:
    if isinstance(epoch, int | float) and not isinstance(epoch, bool) and math.isfinite(epoch):
        return datetime.fromtimestamp(epoch, UTC)
    if isinstance(iso, str) and iso:
        with contextlib.suppress(ValueError):
            found = datetime.fromisoformat(iso)
            return found if found.tzinfo else found.replace(tzinfo=UTC)
    return None


def _num(x: Any) -> float | None:
    if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x):
        return float(x)
    return None


def _int(x: Any) -> int | None:
    return x if isinstance(x, int) and not isinstance(x, bool) else None


def _str(x: Any) -> str:
    return "" if x is None else str(x)


def _list(x: Any) -> list[Any]:
    if isinstance(x, list):
        return x
    return [] if x in (None, "") else [x]


def run_row(run: RunData, uploaded_from: str) -> dict[str, Any]:
    summary = run.summary
    start = run.first("run_start") or {}
    end = summary.run_end or {}
    dut = run.last("dut") or {}
    return {
        "run_id": run.run_id,
        "host": _str(start.get("host")),
        "operator": _str(start.get("tested_by")),
        "laboratory": _str(start.get("laboratory")),
        "station": _str(start.get("station")),
        "station_file": _str(start.get("station_file")),
        "station_description": _str(start.get("station_description")),
        "location": _str(start.get("location")),
        "places": [r for r in run.of_type("place")],
        "spec_file": _str(start.get("spec_file")),
        "dut_name": _str(start.get("dut_name")),
        "dut_model": _str(dut.get("model") or dut.get("hardware")),
        "dut_hardware": _str(dut.get("hardware")),
        "dut_serial": _str(dut.get("serial")),
        "dut_firmware": _str(dut.get("firmware")),
        "dut_manufacturer": _str(dut.get("manufacturer")),
        "dut_protocol": _str(dut.get("protocol")),
        "dut_production_date": _str(dut.get("production_date")),
        "dut_cell_count": _int(dut.get("cell_count")),
        "simulated": bool(start.get("simulated")),
        "seed": _int(start.get("seed")),
        "sim_defects": _list(start.get("sim_defects")),
        "sim_sets": _list(start.get("sim_sets")),
        "started": _when(start.get("started"), start.get("at")),
        "ended": _when(end.get("ended"), end.get("at")) if end else None,
        "verdict": str(summary.verdict),
        "reasons": list(summary.reasons),
        "exit_code": _int(end.get("exit_code")),
        "complete": summary.complete and not run.damage,
        "torn": run.torn,
        "damaged_lines": len(run.damage),
        "counts": summary.counts(),
        "store_digest": run.digest,
        "store_records": len(run.records),
        "uploaded_at": datetime.now(UTC),
        "uploaded_from": uploaded_from,
    }


def plan_rows(run: RunData) -> list[dict[str, Any]]:
    starts: dict[str, dict[str, Any]] = {}
    durations: dict[str, float] = {}
    for r in run.records:
        if r.get("type") == "test_start" and "test" in r:
            starts.setdefault(r["test"], r)
        elif r.get("type") == "test_result" and _num(r.get("duration_s")) is not None:
            durations[r["test"]] = durations.get(r["test"], 0.0) + float(r["duration_s"])
    rows = []
    for position, plan in enumerate(run.summary.plans):
        start = starts.get(plan.test, {})
        protection = start.get("protection") or ""
        if isinstance(protection, list):
            protection = ", ".join(str(p) for p in protection)
        rows.append(
            {
                "position": position,
                "test": plan.test,
                "protection": str(protection),
                "clauses": _list(start.get("clause")),
                "outcome": plan.outcome,
                "reason": plan.reason,
                "duration_s": durations.get(plan.test),
                "started": _when(None, start.get("at")),
            }
        )
    return rows


def measurement_row(position: int, m: dict[str, Any]) -> dict[str, Any]:
    bracket = m.get("bracket") if isinstance(m.get("bracket"), list) else []
    return {
        "position": position,
        "test": _str(m.get("test")),
        "name": _str(m.get("name")),
        "value": _num(m.get("value")),
        "unit": _str(m.get("unit")),
        "low": _num(m.get("low")),
        "high": _num(m.get("high")),
        "comparison": _str(m.get("comparison")),
        "bracket_low": _num(bracket[0]) if len(bracket) == 2 else None,
        "bracket_high": _num(bracket[1]) if len(bracket) == 2 else None,
        "resolution": _num(m.get("resolution")),
        "uncertainty": _num(m.get("uncertainty")),
        "coverage_factor": _num(m.get("coverage_factor")),
        "decision_rule": _str(m.get("decision_rule")),
        "verdict": _str(m.get("verdict") or "fail"),  # as summarize_records reads it
        "evidence": _str(m.get("evidence")),
        "instrument": _str(m.get("instrument")),
        "nominal": _num(m.get("nominal")),
        "clauses": _list(m.get("clause")),
        "waveform": _str(m.get("waveform")),
        "taken": _when(m.get("timestamp"), m.get("at")),
        "record": m,
    }


def instrument_row(r: dict[str, Any]) -> dict[str, Any]:
    identity = _str(r.get("identity"))
    fields = [f.strip() for f in identity.split(",")]
    expected = _str(r.get("serial_expected") or r.get("serial"))
    expired = r.get("calibration_expired")
    return {
        "name": _str(r.get("name")),
        "role": _str(r.get("role")),
        "model": _str(r.get("model")),
        "serial": fields[2] if len(fields) >= 3 and fields[2] else expected,
        "serial_expected": expected,
        "identity": identity,
        "resource": _str(r.get("resource")),
        "calibration_due": _str(r.get("calibration_due")),
        "calibration_expired": expired if isinstance(expired, bool) else None,
        "record": r,
    }


# -- writing -----------------------------------------------------------------------------


def upload(db: Database, run_dir: Path) -> Uploaded:
    """Write one run folder's store into the database; see the module docstring."""
    began = time.perf_counter()
    try:
        run = load_run(run_dir)
    except ReportError as exc:
        raise NotARun(str(exc)) from None
    origin = f"{socket.gethostname()}:{os.path.abspath(run_dir)}"
    row = run_row(run, origin)
    try:
        with db.begin() as conn, conn.begin():
            action = _write(conn, run, row)
    except DatabaseError:
        raise
    except Exception as exc:
        raise db.error(f"cannot upload {run.run_id}", exc) from None
    return Uploaded(
        run.run_id,
        action,
        row["verdict"],
        row["complete"],
        len(run.of_type("measurement")),
        time.perf_counter() - began,
    )


def _write(conn: Connection, run: RunData, row: dict[str, Any]) -> str:
    from sqlalchemy import delete, insert, select

    from rig.lab.schema import Instrument, Measurement, Plan, Record, Run

    hold_lock(conn, lock_key(row["run_id"]))
    found = conn.execute(
        select(Run.c.id, Run.c.store_digest, Run.c.host).where(Run.c.run_id == row["run_id"])
    ).first()
    action = "added"
    if found is not None:
        if found.store_digest == row["store_digest"]:
            return "unchanged"
        if found.host and row["host"] and found.host != row["host"]:
            raise DatabaseError(
                f"run ID {row['run_id']} is already in the database from host {found.host}, "
                f"and this run came from {row['host']}: two runs share one ID; nothing written"
            )
        for table in (Measurement, Plan, Instrument, Record):
            conn.execute(delete(table).where(table.c.run_pk == found.id))
        conn.execute(delete(Run).where(Run.c.id == found.id))
        action = "replaced"
    run_pk = conn.execute(insert(Run).returning(Run.c.id), row).scalar_one()
    plans = [{**p, "run_pk": run_pk} for p in plan_rows(run)]
    plan_pk: dict[str, int] = {}
    if plans:
        result = conn.execute(
            insert(Plan).returning(Plan.c.id, Plan.c.test, sort_by_parameter_order=True), plans
        )
        plan_pk = {test: pk for pk, test in result}
    measurements, instruments, others = [], [], []
    for position, r in enumerate(run.records):
        kind = r.get("type")
        if kind == "measurement":
            m = measurement_row(position, r)
            measurements.append({**m, "run_pk": run_pk, "plan_pk": plan_pk.get(m["test"])})
        elif kind == "instrument":
            instruments.append({**instrument_row(r), "run_pk": run_pk})
        else:
            others.append(
                {
                    "run_pk": run_pk,
                    "position": position,
                    "type": _str(kind),
                    "test": _str(r.get("test")),
                    "record": r,
                }
            )
    for table, rows in ((Measurement, measurements), (Instrument, instruments), (Record, others)):
        if rows:
            conn.execute(insert(table), rows)
    return action


# -- the note in the run folder ----------------------------------------------------------


def write_note(run_dir: Path, state: str, target: DbTarget, **extra: Any) -> None:
    """`db-upload.json` in the run folder, replaced whole (never half-written)."""
    note = {
        "state": state,
        "database": target.shown,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        **extra,
    }
    path = run_dir / NOTE
    tmp = path.with_name(f".{NOTE}.{os.getpid()}")
    tmp.write_text(json.dumps(note, indent=1) + "\n")
    os.replace(tmp, path)


def read_note(run_dir: Path) -> dict[str, Any] | None:
    try:
        note = json.loads((run_dir / NOTE).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return note if isinstance(note, dict) else None


def _running(note: dict[str, Any]) -> bool:
    """The run that wrote the note is still running on this host (so not for us to take)."""
    pid = note.get("pid")
    if note.get("host") != socket.gethostname() or not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return b"rig" in cmdline


def waiting(runs_dir: Path, target: DbTarget, exclude: Path | None = None) -> list[Path]:
    """Run folders under `runs_dir` whose upload to this database is pending or failed and
    whose process is gone (killed, or ended while the database was down)."""
    found = []
    for note_path in sorted(Path(runs_dir).glob(f"*/{NOTE}")):
        run_dir = note_path.parent
        if exclude is not None and run_dir.resolve() == exclude.resolve():
            continue
        if not (run_dir / "results.jsonl").is_file():
            continue  # killed before its store was opened: nothing ran, nothing to upload
        note = read_note(run_dir)
        if note is None or note.get("state") not in ("pending", "failed"):
            continue
        if note.get("database") != target.shown or _running(note):
            continue
        found.append(run_dir)
    return found


def upload_noted(db: Database, run_dir: Path) -> Uploaded:
    """Upload and write the outcome into the run folder's note (the error scrubbed)."""
    try:
        done = upload(db, run_dir)
    except DatabaseError as exc:
        write_note(run_dir, "failed", db.target, error=str(exc))
        raise
    write_note(
        run_dir,
        "uploaded",
        db.target,
        run_id=done.run_id,
        action=done.action,
        verdict=done.verdict,
    )
    return done


# -- at the end of `rig run` -------------------------------------------------------------


class RunUpload:
    """The end-of-run upload of one `rig run`.

    Made before the plans start: the note says `pending`, and a thread opens the database
    (imports, connects, migrates a new one) while the lab boots and the plans run, so the
    end of the run only writes its rows. `finish` never raises and never changes the
    verdict: what failed is printed and noted.
    """

    def __init__(self, target: DbTarget, run_dir: Path):
        self.target = target
        self.run_dir = run_dir
        self.db: Database | None = None
        self.error: BaseException | None = None
        run_dir.mkdir(parents=True, exist_ok=True)
        write_note(run_dir, "pending", target)
        self._thread = threading.Thread(target=self._open, name="rig-db-open", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            self.db = Database(self.target)
        except BaseException as exc:  # held for finish(), which says it
            self.error = exc

    def finish(self, console: Console) -> bool:
        """Upload the run (and any earlier run still waiting); True if this run is in."""
        self._thread.join()
        if not (self.run_dir / "results.jsonl").exists():
            self._discard()
            if self.db is not None:
                self.db.close()
            return True
        try:
            db = self.db or Database(self.target)  # the database may be back by now
        except Exception as exc:
            return self._failed(console, exc)
        try:
            try:
                done = upload_noted(db, self.run_dir)
            except Exception as exc:
                return self._failed(console, exc)
            console.print(
                f"database: run {done.run_id} {done.action} ({done.measurements} measurements, "
                f"{done.seconds:.2f} s) in {self.target.shown}",
                overflow="fold",
                highlight=False,
                markup=False,
            )
            self._catch_up(console, db)
            return True
        finally:
            db.close()

    def _catch_up(self, console: Console, db: Database) -> None:
        for run_dir in waiting(self.run_dir.parent, self.target, exclude=self.run_dir):
            try:
                done = upload_noted(db, run_dir)
            except Exception as exc:
                console.print(
                    f"database: earlier run {run_dir.name} still not uploaded: {describe(exc)}",
                    style="bold red",
                    overflow="fold",
                    markup=False,
                )
                continue
            console.print(
                f"database: earlier run {done.run_id} {done.action} as well ({done.verdict}"
                + ("" if done.complete else ", incomplete")
                + ")",
                overflow="fold",
                highlight=False,
                markup=False,
            )

    def _failed(self, console: Console, exc: BaseException) -> bool:
        message = self.target.scrub(str(exc) if isinstance(exc, DatabaseError) else describe(exc))
        with contextlib.suppress(OSError):
            write_note(self.run_dir, "failed", self.target, error=message)
        console.print(
            f"\nDATABASE UPLOAD FAILED: this run is NOT in {self.target.shown}\n"
            f"  {message}\n"
            f"  The verdict above stands and the run folder holds every result "
            f"({self.run_dir}/{NOTE} says this too).\n"
            f"  The next upload to this database retries it, or now: rig db upload {self.run_dir}",
            style="bold red",
            overflow="fold",
            highlight=False,
            markup=False,
        )
        return False

    def _discard(self) -> None:
        """No run happened (a usage error): no note, and no empty folder left behind."""
        with contextlib.suppress(OSError):
            (self.run_dir / NOTE).unlink()
        with contextlib.suppress(OSError):
            self.run_dir.rmdir()
