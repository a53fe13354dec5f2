"""Which results database, and a connection to it with its schema at the newest migration.

The database is named by a URL: `--db URL`, else the environment variable `RIG_DB_URL`,
else `database.url` in the lab file, else an SQLite file beside the runs folder
(`runs.sqlite` for `runs/`): one bench needs nothing set up. A laboratory names a
PostgreSQL server (`postgresql://user@host/db`, driven by psycopg 3). A password is best
kept out of the URL: libpq's own `PGPASSWORD` or `~/.pgpass`, or the environment
variable the lab file names in `database.password_env`. Wherever it came from, it is
never printed, logged or written into a run folder: every URL shown is shown without
it, and every error is scrubbed of it.

A database older than this rig is brought to the newest schema by the alembic migrations
in `rig/lab/migrations` the first time it is opened, under a lock (a PostgreSQL advisory
lock, which ends with the session that held it, so a station killed mid-migration holds
nothing; SQLite's own write lock), so two stations starting at once migrate it once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlalchemy is imported when a database is opened, not with the CLI
    from sqlalchemy import URL, Connection, Engine

ENV_URL = "RIG_DB_URL"
SUFFIX = ".sqlite"
CONNECT_TIMEOUT_S = 5  # a database that does not answer fails the upload, not the run
SQLITE_BUSY_S = 30  # another station writing the same SQLite file: wait for it this long
MIGRATION_LOCK = 0x626D_7372_6967_0001  # PostgreSQL advisory lock key for migrations


class DatabaseError(Exception):
    """The database could not be reached, read or written; the message holds no secret."""


class DatabaseUsageError(DatabaseError):
    """The URL or the lab file's database section is wrong: nothing was tried."""


@dataclass(frozen=True)
class DbTarget:
    """A results database: its URL (with any password) and where the URL came from.

    The default SQLite file needs no parsing, so a plain run does not import SQLAlchemy
    before its plans start (the end-of-run upload opens it in a thread meanwhile)."""

    text: str  # the URL as SQLAlchemy takes it
    source: str  # "--db", "RIG_DB_URL", "lab file …", "default"
    parsed: URL | None = None

    @property
    def url(self) -> URL:
        if self.parsed is not None:
            return self.parsed
        from sqlalchemy import make_url

        return make_url(self.text)

    @property
    def password(self) -> str | None:
        return None if self.parsed is None else self.parsed.password

    @property
    def shown(self) -> str:
        """The URL as it may be printed and stored: the password replaced by ***."""
        if self.parsed is None:
            return self.text
        return self.parsed.render_as_string(hide_password=True)

    @property
    def is_postgresql(self) -> bool:
        return self.text.startswith("postgresql")

    def scrub(self, text: str) -> str:
        """`text` with the password taken out, wherever an error message put it."""
        password = self.password
        return text.replace(str(password), "***") if password else text


def _target(url: URL, source: str) -> DbTarget:
    return DbTarget(url.render_as_string(hide_password=False), source, url)


def default_path(runs_dir: Path) -> Path:
    """The one-bench database: an SQLite file beside the runs folder (runs/ → runs.sqlite)."""
    runs_dir = Path(os.path.abspath(runs_dir))
    return runs_dir.with_name(runs_dir.name + SUFFIX)


def parse_url(text: str, source: str) -> URL:
    """A URL from the command line, the environment or the lab file; a plain path is an
    SQLite file. `postgresql://` means psycopg 3 (SQLAlchemy's own default is psycopg2)."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    text = text.strip()
    if not text:
        raise DatabaseUsageError(f"{source}: the database URL is empty")
    if "://" not in text:
        return make_url("sqlite:///" + os.path.abspath(text))
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise DatabaseUsageError(
            f"{source}: not a database URL (expected postgresql://user@host/db or "
            "sqlite:///path/file.sqlite)"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        if importlib.util.find_spec("psycopg") is None:
            raise DatabaseUsageError(
                f"{source}: PostgreSQL needs psycopg 3, which is not installed: "
                "pip install 'bms-rig[lab]'"
            )
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url
    shown = url.render_as_string(hide_password=True)
    raise DatabaseUsageError(
        f"{source}: {shown}: bms-rig stores results in PostgreSQL (postgresql://, psycopg 3) "
        "or SQLite (sqlite:///file)"
    )


def resolve(
    option: str | None,
    runs_dir: Path,
    lab_url: str | None = None,
    lab_password_env: str | None = None,
    lab_source: str = "lab file",
) -> DbTarget:
    """The database a command uses: --db, else RIG_DB_URL, else the lab file, else the
    SQLite file beside the runs folder."""
    if option:
        target = _target(parse_url(option, "--db"), "--db")
    elif os.environ.get(ENV_URL):
        target = _target(parse_url(os.environ[ENV_URL], ENV_URL), ENV_URL)
    elif lab_url:
        target = _target(parse_url(lab_url, f"{lab_source}: database.url"), lab_source)
    else:
        return DbTarget("sqlite:///" + str(default_path(runs_dir)), "default")
    if lab_password_env and target.password is None and target.is_postgresql:
        password = os.environ.get(lab_password_env)
        if password is None:
            raise DatabaseUsageError(
                f"{lab_source}: database.password_env names {lab_password_env}, which is not "
                "set in the environment"
            )
        target = _target(target.url.set(password=password), target.source)
    return target


def engine_for(target: DbTarget) -> Engine:
    """An engine that fails fast on a silent server and, on SQLite, waits for another
    writer, runs in WAL mode (readers never block the writer) and takes the write lock
    at BEGIN when asked (`immediate`), so two uploads never interleave."""
    from sqlalchemy import create_engine, event

    if target.is_postgresql:
        return create_engine(
            target.url,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "bms-rig"},
            pool_pre_ping=True,
        )
    path = target.url.database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(target.url, connect_args={"timeout": SQLITE_BUSY_S})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions begun below, DDL included
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def lock_key(text: str) -> int:
    """A signed 64-bit advisory-lock key for `text` (a run ID)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def hold_lock(conn: Connection, key: int) -> None:
    """Serialise writers for the rest of this transaction: a PostgreSQL transaction-level
    advisory lock (released at commit, rollback or the session's end, so a killed
    uploader holds nothing); on SQLite the transaction's BEGIN IMMEDIATE already did."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy import text

        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


class Database:
    """An open results database with its schema at `rig.lab.schema.HEAD`."""

    def __init__(self, target: DbTarget):
        self.target = target
        self.engine = engine_for(target)
        try:
            self._ensure_schema()
        except DatabaseError:
            self.engine.dispose()
            raise
        except Exception as exc:
            self.engine.dispose()
            raise self.error("cannot open", exc) from None

    def error(self, what: str, exc: BaseException) -> DatabaseError:
        """A DatabaseError naming the database (without its password) and the cause."""
        return DatabaseError(self.target.scrub(f"{self.target.shown}: {what}: {describe(exc)}"))

    def begin(self) -> Any:
        """A writing transaction: serialised against other writers on SQLite."""
        return self.engine.connect().execution_options(immediate=True)

    def revision(self, conn: Connection) -> str | None:
        from sqlalchemy import inspect, text

        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def _ensure_schema(self) -> None:
        from rig.lab.schema import HEAD

        with self.engine.connect() as conn:
            if self.revision(conn) == HEAD:
                return
        with self.begin() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                hold_lock(conn, MIGRATION_LOCK)
            revision = self.revision(conn)  # again, under the lock: another may have done it
            if revision != HEAD:
                migrate(conn, revision)

    def close(self) -> None:
        self.engine.dispose()


def migrate(conn: Connection, revision: str | None) -> None:
    """Run the migrations from `revision` to the newest, on this connection's transaction."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = conn
    if revision is not None:
        try:
            ScriptDirectory.from_config(config).get_revision(revision)
        except CommandError:
            raise DatabaseError(
                f"the database's schema is at revision {revision}, which this bms-rig does not "
                "know (a newer bms-rig made it): upgrade bms-rig on this station"
            ) from None
    command.upgrade(config, "head")


def describe(exc: BaseException) -> str:
    """The cause in one line: the driver's own message, not SQLAlchemy's SQL and parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip() or type(exc).__name__
    first = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return first if len(first) <= 400 else first[:397] + "..."
