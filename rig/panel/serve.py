"""`rig panel`: the token, the address, the history and lab view it reads, and uvicorn
serving the app until Ctrl-C."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
from pathlib import Path

from rig.config import ConfigError
from rig.config.lab import LabConfig, PanelSection
from rig.lab.db import DbTarget
from rig.panel.app import Panel, create_app
from rig.panel.db_history import DatabaseHistory
from rig.panel.history import RunHistory, RunsFolder
from rig.panel.lab import DEFAULT_PORT, CoordinatorView, LabView, NoLab
from rig.panel.launcher import Launcher
from rig.panel.security import new_token


def panel_token(section: PanelSection | None, lab: LabConfig | None) -> tuple[str, str]:
    """(token, where it came from); a new one when the lab file names none."""
    source = lab.source if lab is not None and lab.source is not None else Path("lab file")
    if section is not None and section.token_env is not None:
        token = os.environ.get(section.token_env, "").strip()
        if not token:
            raise ConfigError(
                source, [("panel.token_env", f"${section.token_env} is not set or empty")]
            )
        return token, f"${section.token_env}"
    if section is not None and section.token_file is not None:
        try:
            token = section.token_file.read_text().strip().splitlines()[0].strip()
        except (OSError, IndexError):
            token = ""
        if not token:
            raise ConfigError(source, [("panel.token_file", "missing, unreadable or empty")])
        return token, "the lab file's panel.token_file"
    return new_token(), ""


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)  # from here a client can connect; the server accepts once it is up
    return sock


def make_panel(
    runs_dir: Path,
    stations_dir: Path,
    specs_dir: Path,
    token: str,
    bind: str,
    db: DbTarget | None = None,
    coordinator: str | None = None,
    peer_port: int = DEFAULT_PORT,
) -> Panel:
    """The panel's parts: the history from the database `db` (the runs folder alone
    without one), the lab view from the labgrid `coordinator` (none without one)."""
    folder = RunsFolder(runs_dir)
    history: RunHistory = folder if db is None else DatabaseHistory(db, folder)
    lab: LabView = (
        NoLab() if coordinator is None else CoordinatorView(coordinator, history, peer_port)
    )
    return Panel(
        history=history,
        launcher=Launcher(runs_dir, stations_dir, specs_dir),
        token=token,
        bind=bind,
        lab=lab,
    )


def lab_sources(
    lab: LabConfig | None, runs_dir: Path, db: str | None, no_db: bool, coordinator: str | None
) -> tuple[DbTarget | None, str | None]:
    """The database and coordinator `rig panel` reads, resolved as `rig run` resolves
    them: `--db`, `$RIG_DB_URL`, the lab file, else the SQLite file beside the runs
    folder; `--coordinator`, the lab file, else `$LG_COORDINATOR`, else none. Raises
    DatabaseUsageError or PlaceUsageError for a wrong URL or a coordinator without
    labgrid (exit 2)."""
    from rig.lab.db import resolve
    from rig.lab.places import ENV_COORDINATOR, PlaceUsageError

    target = None
    if not no_db:
        section = lab.database if lab else None
        target = resolve(
            db,
            runs_dir,
            section.url if section else None,
            section.password_env if section else None,
            f"lab file {lab.source}" if lab else "lab file",
        )
    address = (
        coordinator
        or (lab.coordinator.address if lab and lab.coordinator else None)
        or os.environ.get(ENV_COORDINATOR)
        or None
    )
    if address is not None and importlib.util.find_spec("labgrid") is None:
        raise PlaceUsageError(
            f"the lab view needs labgrid to read the coordinator {address}: "
            "pip install 'bms-rig[lab]'"
        )
    return target, address


def serve(panel: Panel, sock: socket.socket) -> None:
    import uvicorn

    config = uvicorn.Config(
        create_app(panel), log_level="warning", access_log=False, timeout_graceful_shutdown=2
    )
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises Ctrl-C again once it stopped
        uvicorn.Server(config).run(sockets=[sock])
