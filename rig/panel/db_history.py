"""The run history from the results database, the runs folder filling its gaps.

Where a results database is configured (`rig run`'s own resolution: `--db`, `RIG_DB_URL`,
the lab file's `database:`, else the SQLite file beside the runs folder), the panel lists
past runs from it (`rig.lab.queries.runs`): every bench's runs, with the DUT's serial as
it reported it. A run is in the database only once uploaded, at its end, so the runs of
this machine's runs folder that are not there yet (running, or waiting for an upload that
failed) come from the folder, and so does the whole list while the database cannot be
reached. A run's files (live store, plots, reports) are served only where its folder is
on this machine: the runs folder, or the folder it was uploaded from on this host.

Nothing of the database reaches a browser but the rows' shown fields: not its URL (which
may name a user, and for SQLite is a path), not a password, not a folder. What failed is
said on the panel's console, scrubbed of the password; the page hears only that the
database could not be reached and that the runs folder is shown instead.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rig.lab.db import Database, DatabaseError, DbTarget
from rig.panel.history import RUN_ID, STORE, RunInfo, RunsFolder, reports_in

RETRY_S = 30.0  # after a failure the folder is shown; the database is asked again after this
EXTRA = ("dut_name", "host", "uploaded_from", "places")  # what the panel needs beyond `rig db runs`


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class DatabaseHistory:
    """Past runs from the results database, newest first; the runs folder for the rest."""

    def __init__(
        self, target: DbTarget, folder: RunsFolder, say: Callable[[str], None] = _say
    ) -> None:
        self.target = target
        self.folder = folder
        self.say = say
        self.kind = "postgresql" if target.is_postgresql else "sqlite"
        self._db: Database | None = None
        self._state = "not opened"  # ok | none yet | unreachable
        self._retry_at = 0.0
        self._lock = threading.Lock()
        # run ID -> its folder on this machine, or None: none here (as last listed)
        self._where: dict[str, Path | None] = {}

    # -- the database, opened when first asked and again after a failure ----------------

    def _database(self) -> Database | None:
        with self._lock:
            if time.monotonic() < self._retry_at:
                return None
            if self._db is not None:
                return self._db
            if (
                self.target.source == "default"
                and not Path(self.target.url.database or "").exists()
            ):
                self._state = "none yet"  # no run has been uploaded: nothing to create here
                return None
            try:
                self._db = Database(self.target)
            except DatabaseError as exc:
                self._failed(str(exc))
                return None
            self._answered()
            return self._db

    def _answered(self) -> None:
        if self._state == "unreachable":
            self.say("history: the results database answers again")
        self._state = "ok"

    def _failed(self, message: str) -> None:
        """Said on the console once per outage (the message holds no password)."""
        if self._state != "unreachable":
            self.say(f"history: {message}; showing the runs folder until it answers")
        self._state = "unreachable"
        self._retry_at = time.monotonic() + RETRY_S

    def _query(self, ask: Callable[[Database], Any]) -> Any:
        """`ask(db)`, or None when the database is not there or fails."""
        db = self._database()
        if db is None:
            return None
        try:
            answer = ask(db)
        except DatabaseError as exc:
            failure = str(exc)
        except Exception as exc:  # SQLAlchemy's and the driver's errors
            if not type(exc).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3")):
                raise
            failure = str(db.error("query failed", exc))
        else:
            self._answered()
            return answer
        with self._lock:
            self._failed(failure)
        return None

    def status(self) -> dict[str, Any]:
        self._database()
        source = "database" if self._state == "ok" else "runs folder"
        return {"source": source, "database": self.kind, "state": self._state}

    # -- the history -----------------------------------------------------------------------

    def runs(self, limit: int = 200) -> list[RunInfo]:
        from rig.lab.queries import RunFilter, runs

        local = self.folder.runs(limit)
        rows = self._query(lambda db: runs(db, RunFilter(), limit, extra=EXTRA))
        if rows is None:
            return local
        here = {info.run_id: info for info in local}
        listed = [self._info(row, here.get(row["run_id"])) for row in rows]
        stored = {info.run_id for info in listed}
        listed += [info for info in local if info.run_id not in stored]
        listed.sort(key=lambda info: (info.started or 0.0, info.run_id), reverse=True)
        return listed[:limit]

    def _info(self, row: dict[str, Any], local: RunInfo | None) -> RunInfo:
        run_id = str(row["run_id"])
        folder = self._folder(run_id, row.get("uploaded_from"))
        started: datetime | None = row.get("started")
        verdict = str(row["verdict"]) if row.get("verdict") else None
        complete = bool(row.get("complete"))
        if local is not None and not complete and local.verdict is not None:
            # uploaded before its end (`rig db upload` of a running run), ended since
            verdict, complete = local.verdict, True
        holders = frozenset(
            (str(p.get("place")), str(p.get("holder")))
            for p in row.get("places") or []
            if isinstance(p, dict)
        )
        return RunInfo(
            run_id=run_id,
            started=started.timestamp() if started is not None else None,
            station=str(row.get("station") or ""),
            dut=str(row.get("dut_name") or row.get("dut_model") or ""),
            tested_by=str(row.get("operator") or ""),
            verdict=verdict,
            reports=reports_in(folder),
            serial=str(row.get("dut_serial") or ""),
            here=folder is not None,
            complete=complete,
            host=str(row.get("host") or ""),
            pid=local.pid if local is not None else None,
            holders=holders,
        )

    def run_dir(self, run_id: str) -> Path | None:
        if not RUN_ID.match(run_id):
            return None
        if run_id in self._where:  # listed: the database was asked then
            return self._folder(run_id, None)
        from rig.lab.queries import uploaded_from

        return self._folder(run_id, self._query(lambda db: uploaded_from(db, run_id)))

    def _folder(self, run_id: str, origin: str | None) -> Path | None:
        """The run's folder on this machine: in the runs folder, or where it was uploaded
        from if that was this host and the folder still holds this run's store."""
        found = self.folder.run_dir(run_id)
        if found is not None:
            return found
        cached = self._where.get(run_id)
        if cached is not None and (cached / STORE).is_file():
            return cached
        folder = None
        host, _, path = (origin or "").partition(":")
        if path and host == socket.gethostname() and _store_run_id(Path(path)) == run_id:
            folder = Path(path)
        if origin is not None or folder is not None:
            self._where[run_id] = folder
        return folder

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _store_run_id(folder: Path) -> str | None:
    """The run ID its store's first record names (None: no store there)."""
    with contextlib.suppress(OSError, ValueError), (folder / STORE).open("rb") as f:
        first = json.loads(f.readline())
        if isinstance(first, dict) and first.get("type") == "run_start":
            return str(first.get("run_id"))
    return None
