"""The control channel: virtual time, parameters, defects and ground truth over TCP.

A real bench has no such port; simlab has it so a test run can move time and inject
faults. JSON lines on 127.0.0.1: one request object per line, one reply per line,
`{"ok": true, ...}` or `{"ok": false, "error": "..."}`. The rig calls it many times a
second (every poll of a trip-time measurement advances time), so it is lean: Nagle off,
one thread per connection, no work besides the request itself.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
from collections.abc import Callable
from typing import Any

from simlab.world import World

Handler = Callable[[World, dict[str, Any]], dict[str, Any]]


def _field(req: dict[str, Any], name: str) -> Any:
    if name not in req:
        raise ValueError(f"{req['op']!r} needs {name!r}")
    return req[name]


def _set(w: World, r: dict[str, Any]) -> dict[str, Any]:
    return {"old": w.set(_field(r, "path"), _field(r, "value"))}


def _events(w: World, r: dict[str, Any]) -> dict[str, Any]:
    events, nxt = w.events(r.get("since", 0))
    return {"events": events, "next": nxt}


def _defect(w: World, r: dict[str, Any]) -> dict[str, Any]:
    return {"active": w.add_defect(_field(r, "spec"))}


def _clear_defects(w: World, r: dict[str, Any]) -> dict[str, Any]:
    w.clear_defects()
    return {}


OPS: dict[str, Handler] = {
    "ping": lambda w, r: {"pong": True},
    "time": lambda w, r: {"t": w.t},
    "advance": lambda w, r: {"t": w.advance(_field(r, "dt"))},
    "set": _set,
    "get": lambda w, r: {"value": w.get(_field(r, "path"))},
    "params": lambda w, r: {"params": w.parameters()},
    "defect": _defect,
    "clear_defects": _clear_defects,
    "defects": lambda w, r: w.defects(),
    "truth": lambda w, r: w.truth(),
    "events": _events,
}


def dispatch(world: World, line: bytes, ops: dict[str, Handler] | None = None) -> dict[str, Any]:
    """One request line → one reply object. Never raises."""
    ops = OPS if ops is None else ops
    try:
        req = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return {"ok": False, "error": f"request is not JSON: {exc}"}
    if not isinstance(req, dict) or "op" not in req:
        return {"ok": False, "error": 'request must be a JSON object with an "op"'}
    handler = ops.get(req["op"]) if isinstance(req["op"], str) else None
    if handler is None:
        return {"ok": False, "error": f"unknown op {req['op']!r}; ops: {', '.join(ops)}"}
    try:
        return {"ok": True, **handler(world, req)}
    except KeyError as exc:
        return {"ok": False, "error": str(exc.args[0]) if exc.args else repr(exc)}
    except (ValueError, TypeError) as exc:
        return {"ok": False, "error": str(exc)}


class _Connection(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.connections.add(self.request)

    def handle(self) -> None:
        for line in self.rfile:
            if not line.strip():
                continue
            reply = dispatch(self.server.world, line, self.server.ops)
            self.wfile.write(json.dumps(reply).encode() + b"\n")

    def finish(self) -> None:
        self.server.connections.discard(self.request)
        with contextlib.suppress(OSError):
            super().finish()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], world: World, ops: dict[str, Handler]):
        self.world = world
        self.ops = ops
        self.connections: set[socket.socket] = set()
        super().__init__(address, _Connection)


class ControlServer:
    """The control channel for one World. `.address` is "127.0.0.1:PORT".

    `ops` adds operations beyond the World's own (the Lab adds what needs its servers).
    """

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        port: int = 0,
        ops: dict[str, Handler] | None = None,
    ):
        self._server = _Server((host, port), world, {**OPS, **(ops or {})})
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def address(self) -> str:
        return f"{self._server.server_address[0]}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=2)
            self._thread = None
        for conn in list(self._server.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
