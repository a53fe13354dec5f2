"""A laboratory's servers started on this machine: PostgreSQL and labgrid's coordinator.

For the lab layer's tests, its benchmark, and for trying the lab layer out on one PC.
Both are the real programs, on loopback only. PostgreSQL comes from the system's
binaries where present (`pg_config --bindir`, /usr/lib/postgresql/*/bin), else from the
`pgserver` package, which ships them in its wheel. PostgreSQL refuses to run as root, so
under root (CI, containers) the server runs as the unprivileged user `nobody`, its data
in a folder that user owns. The coordinator listens on port 0 and says which port it got,
as labgrid's own tests start it.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READY_TIMEOUT_S = 60.0


class LocalServerError(Exception):
    """A local server could not be found or started; the message says why."""


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def postgres_bindir() -> Path | None:
    """Where initdb and postgres are: $RIG_PG_BINDIR, pg_config, the Debian layout, the
    pgserver package, or PATH; None if nowhere."""
    candidates: list[Path] = []
    if os.environ.get("RIG_PG_BINDIR"):
        candidates.append(Path(os.environ["RIG_PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    candidates += [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key)[::-1]
    ]
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "pginstall" / "bin")
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    return None


def free_port() -> int:
    """A TCP port nobody listens on now (PostgreSQL cannot be told to take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPostgres:
    """A throwaway PostgreSQL server on 127.0.0.1 with one database and one password user.

    `durable=False` turns fsync off (tests); the benchmark keeps PostgreSQL's defaults.
    `stop()` then `start()` again brings the same server back on the same port, for
    tests of a database that was down.
    """

    def __init__(self, database: str = "rig", user: str = "rig", durable: bool = False):
        bindir = postgres_bindir()
        if bindir is None:
            raise LocalServerError(
                "no PostgreSQL server binaries: install the system's postgresql package, or "
                "pgserver (pip), or set RIG_PG_BINDIR"
            )
        self.bindir = bindir
        self.database = database
        self.user = user
        self.password = secrets.token_urlsafe(12)
        self.durable = durable
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="rig-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._as: tuple[int, int] | None = None
        if os.geteuid() == 0:  # postgres will not run as root
            nobody = pwd.getpwnam("nobody")
            self._as = (nobody.pw_uid, nobody.pw_gid)
            os.chown(self.folder, *self._as)
            for folder in [bindir, *bindir.parents]:
                if not folder.stat().st_mode & 0o001:
                    raise LocalServerError(
                        f"the server runs as 'nobody' (PostgreSQL refuses root), who cannot "
                        f"enter {folder} to reach {bindir}: install the system's postgresql "
                        "package, or set RIG_PG_BINDIR to binaries it can reach"
                    )
        self._initdb()

    def url(self, password: bool = True) -> str:
        secret = f":{self.password}" if password else ""
        return f"postgresql://{self.user}{secret}@127.0.0.1:{self.port}/{self.database}"

    def _run_as(self) -> dict[str, object]:
        if self._as is None:
            return {}
        return {"user": self._as[0], "group": self._as[1], "extra_groups": []}

    def _initdb(self) -> None:
        pwfile = self.folder / "pw"
        pwfile.write_text(self.password + "\n")
        if self._as is not None:
            os.chown(pwfile, *self._as)
        out = subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                self.user,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self._run_as(),  # type: ignore[arg-type]
        )
        pwfile.unlink()
        if out.returncode != 0:
            raise LocalServerError(f"initdb failed: {out.stderr.strip() or out.stdout.strip()}")

    def start(self) -> LocalPostgres:
        """Start the server; on its first start, a port another process took between
        `free_port()` and the server's bind is traded for a new one (up to 5 times)."""
        for attempt in range(5):
            try:
                return self._start()
            except LocalServerError as exc:
                taken = "could not create any TCP/IP sockets" in str(exc)
                if not taken or getattr(self, "_created", False) or attempt == 4:
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start(self) -> LocalPostgres:
        settings = ["-c", "listen_addresses=127.0.0.1"]
        settings += ["-c", f"unix_socket_directories={self.folder}"]
        if not self.durable:
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
        settings += ["-c", "full_page_writes=off"] if not self.durable else []
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    *settings,
                ],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a terminal's Ctrl-C is for the tests, not for it
                **self._run_as(),  # type: ignore[arg-type]
            )
        self._wait_ready()
        if not getattr(self, "_created", False):
            self._create_database()
        return self

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise LocalServerError(f"postgres exited: {self._tail()}")
            try:
                psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise LocalServerError(f"postgres not ready: {self._tail()}") from None
                time.sleep(0.05)  # real time: waiting for a server process to come up

    def _dsn(self, database: str) -> str:
        return (
            f"host=127.0.0.1 port={self.port} user={self.user} password={self.password} "
            f"dbname={database}"
        )

    def _create_database(self) -> None:
        self.create_database(self.database)
        self._created = True

    def create_database(self, name: str) -> str:
        """Another empty database on this server (one per test); its URL."""
        import psycopg

        if not re.match(r"^[a-z_][a-z0-9_]*$", name):
            raise ValueError(f"not a plain database name: {name!r}")
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url().rpartition("/")[0] + "/" + name

    def _tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-1500:]
        return ""

    def stop(self) -> None:
        """Fast shutdown (SIGINT: sessions cut, data kept), then kill if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalCoordinator:
    """labgrid's gRPC coordinator on 127.0.0.1, port 0, in a folder of its own (it keeps
    its places in places.yaml in its working directory)."""

    def __init__(self) -> None:
        exe = shutil.which("labgrid-coordinator") or str(
            Path(sys.executable).with_name("labgrid-coordinator")
        )
        if not Path(exe).is_file():
            raise LocalServerError("labgrid-coordinator not found: pip install 'bms-rig[lab]'")
        self.folder = Path(tempfile.mkdtemp(prefix="rig-coordinator-"))
        self.log = self.folder / "coordinator.log"
        with self.log.open("ab") as log:  # it prints every request: a pipe would fill up
            self._proc = subprocess.Popen(
                [exe, "--listen", "127.0.0.1:0"],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not (found := re.search(r"listening on (\S+):(\d+)", self._read_log())):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                text = self._read_log()[-1500:]
                self.close()
                raise LocalServerError(f"labgrid-coordinator did not start: {text}")
            time.sleep(0.02)  # real time: waiting for a server process to come up
        self.address = f"127.0.0.1:{found[2]}"

    def _read_log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")
        return ""

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalCoordinator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
