"""`rig panel`: the token, the address, and uvicorn serving the app until Ctrl-C."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from rig.config import ConfigError
from rig.config.lab import LabConfig, PanelSection
from rig.panel.app import Panel, create_app
from rig.panel.history import RunsFolder
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


def make_panel(runs_dir: Path, stations_dir: Path, specs_dir: Path, token: str, bind: str) -> Panel:
    return Panel(
        history=RunsFolder(runs_dir),
        launcher=Launcher(runs_dir, stations_dir, specs_dir),
        token=token,
        bind=bind,
    )


def serve(panel: Panel, sock: socket.socket) -> None:
    import uvicorn

    config = uvicorn.Config(
        create_app(panel), log_level="warning", access_log=False, timeout_graceful_shutdown=2
    )
    uvicorn.Server(config).run(sockets=[sock])
