"""The lab view: every bench (labgrid place) with who holds it, since when, and its run.

Where the lab keeps its benches and shared instruments as places on labgrid's
coordinator (the lab file's `coordinator:`, `rig panel --coordinator`, or labgrid's own
`LG_COORDINATOR`), the panel lists them through `rig.lab.places`: each place's tags and
comment, and its holder as a run acquires it, `HOST:PID/USER`, with the dead-client
test of `rig place list` (a holder on this host whose process is gone).

A place's run is told from the holder: a run of this machine whose `run_start` names
the same host and process, or a run in the results database that recorded holding this
place as this holder (a killed run, uploaded later). A finished run only counts if it
began after the place was taken (a process ID is used again, in time). Its live view is
this panel's own where the run folder is here, else the panel of the holder's host, at
the lab's panel port (`panel.port` in the lab file, else 8765): a lab where every bench
PC serves `rig panel` on one port and binds it where the others can reach it.

Without a coordinator there is no lab view: `places()` is None and the page hides it.
"""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from rig.panel.history import RUN_ID, RunHistory, RunInfo

if TYPE_CHECKING:
    from rig.lab.places import Holder, PlaceClient, PlaceState

DEFAULT_PORT = 8765  # `rig panel`'s, and the lab's unless its lab file says otherwise
CACHE_S = 2.0  # one look at the coordinator serves every browser asking within this time
RETRY_S = 10.0  # after the coordinator failed, asked again after this
SLACK_S = 2.0  # a run's start against the place's acquisition (one host, one clock)
HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*$")


class LabView(Protocol):
    def places(self) -> list[dict[str, Any]] | None:
        """Every place as the page shows it, or None when the lab has no coordinator."""
        ...

    def problem(self) -> str | None:
        """Why the places cannot be shown now (said to the browser: no address in it)."""
        ...

    def close(self) -> None: ...


class NoLab:
    def places(self) -> list[dict[str, Any]] | None:
        return None

    def problem(self) -> str | None:
        return None

    def close(self) -> None:
        pass


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_holding(runs: list[RunInfo], place: str, holder: Holder) -> RunInfo | None:
    """The run (newest first) that holds `place` as `holder`, if one is known."""
    for run in runs:
        if run.holders:
            mine = (place, holder.text) in run.holders
        else:
            mine = bool(run.host) and run.host == holder.host and run.pid == holder.pid
        if mine and (not run.ended or (run.started or 0.0) >= holder.since - SLACK_S):
            return run
    return None


class CoordinatorView:
    """labgrid's places, read through one client session kept open (and opened again
    after the coordinator was lost)."""

    def __init__(
        self,
        address: str,
        history: RunHistory,
        peer_port: int = DEFAULT_PORT,
        say: Callable[[str], None] = _say,
    ) -> None:
        self.address = address
        self.history = history
        self.peer_port = peer_port
        self.say = say
        self._client: PlaceClient | None = None
        self._retry_at = 0.0
        self._problem: str | None = None
        self._shown: list[dict[str, Any]] = []
        self._shown_at = -CACHE_S
        self._lock = threading.Lock()

    def places(self) -> list[dict[str, Any]] | None:
        with self._lock:
            if time.monotonic() - self._shown_at >= CACHE_S:
                states = self._read()
                runs = self.history.runs() if states else []
                self._shown = [self._place(s, runs) for _, s in sorted((states or {}).items())]
                self._shown_at = time.monotonic()
            return self._shown

    def problem(self) -> str | None:
        return self._problem

    def _read(self) -> dict[str, PlaceState] | None:
        from rig.lab.places import PlaceClient, PlaceError

        try:
            if self._client is None:
                if time.monotonic() < self._retry_at:
                    return None
                self._client = PlaceClient(self.address)
            states = self._client.places()
        except PlaceError as exc:
            if self._problem is None:
                self.say(f"lab view: {exc}; asking again every {RETRY_S:.0f} s")
            self._problem = "the labgrid coordinator cannot be reached"
            self._retry_at = time.monotonic() + RETRY_S
            if self._client is not None:
                self._client.close()
                self._client = None
            return None
        if self._problem is not None:
            self.say(f"lab view: the coordinator {self.address} answers again")
        self._problem = None
        return states

    def _place(self, state: PlaceState, runs: list[RunInfo]) -> dict[str, Any]:
        """What the page shows of a place: strings from the coordinator go out as data
        (the page sets them as text); the one URL is built here from checked parts."""
        shown: dict[str, Any] = {
            "name": state.name,
            "tags": dict(state.tags),
            "comment": state.comment,
            "state": "reserved" if state.reservation else "free",
            "holder": None,
            "user": None,
            "host": None,
            "pid": None,
            "since": None,
            "run_id": None,
            "here": False,
            "panel_url": None,
        }
        holder = state.holder
        if holder is None:
            return shown
        alive = holder.alive
        shown.update(
            state="dead" if alive is False else "held",
            holder=holder.text,
            user=holder.user,
            host=holder.host,
            pid=holder.pid,
            since=holder.since,
        )
        run = run_holding(runs, state.name, holder)
        if run is not None:
            shown.update(run_id=run.run_id, here=run.here)
        if (
            not shown["here"]
            and holder.host != socket.gethostname()
            and HOSTNAME.match(holder.host)
        ):
            url = f"http://{holder.host}:{int(self.peer_port)}/"
            if run is not None and RUN_ID.match(run.run_id):
                url += f"#run={quote(run.run_id)}"
            shown["panel_url"] = url
        return shown

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
