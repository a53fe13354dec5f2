"""Benches and shared instruments as labgrid places: reserve, acquire, hold, release.

labgrid's coordinator (gRPC, labgrid 25 and later) keeps a lab's places: a bench, a
thermal chamber, a battery simulator, each with tags (`kind=chamber`). A place's lock
has no lease: it survives the client that took it, so a run reserves its place first
(a reservation expires about a minute after its last poll, and the coordinator's
scheduler hands places to waiting reservations in priority and age order), acquires it
once allocated, polls the reservation while it runs, and releases both on every exit
path; a run killed with SIGKILL leaves its place acquired, and that is what the next
client sees and reports.

To tell a lock held by a dead client from a busy bench, a run acquires under the name
`HOST:PID/USER` (labgrid's `host/user` with the rig's process ID beside the host): on the
same host the process can be looked up; `labgrid-client who` shows the same holder, and
the owner (the same user) releases it with `rig place release NAME` or labgrid's own
`labgrid-client release`.

labgrid has no stable Python client API: its command-line client's session object and
the coordinator's stub calls (which its own tools use) are used here, on an event loop
of their own in a thread, behind this module's few functions. labgrid is an optional
extra (`pip install 'bms-rig[lab]'`): a single bench never imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from rig.safety import SIGNALS

ENV_COORDINATOR = "LG_COORDINATOR"  # labgrid's own variable for the coordinator's address
POLL_S = 0.5  # while waiting for a place to be allocated
KEEPALIVE_S = 10.0  # while holding: a reservation expires 60 s after its last poll
CALL_TIMEOUT_S = 30.0
_TAG_KEY = re.compile(r"^[a-z][a-z0-9_]+$")
_PLACE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

T = TypeVar("T")


class PlaceError(Exception):
    """The coordinator refused or could not be reached; the message says which place."""


class PlaceUsageError(PlaceError):
    """`--place` or the coordinator's address is wrong, or labgrid is not installed."""


@dataclass(frozen=True)
class Wanted:
    """What `--place` asks for: a place by name, or any place whose tags match."""

    text: str
    name: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Wanted:
        text = text.strip()
        if "=" not in text:
            if not _PLACE_NAME.match(text):
                raise PlaceUsageError(f"--place {text!r}: not a place name")
            return cls(text, name=text)
        tags = []
        for pair in text.split(","):
            key, sep, value = pair.strip().partition("=")
            if not sep or not _TAG_KEY.match(key) or not value:
                raise PlaceUsageError(
                    f"--place {text!r}: a tag filter is key=value[,key=value], keys in "
                    "lower case (labgrid's rule: [a-z][a-z0-9_]+)"
                )
            tags.append((key, value))
        return cls(text, tags=tuple(sorted(tags)))

    @property
    def filter(self) -> dict[str, str]:
        """labgrid's reservation filter; its scheduler matches a place's name as a tag."""
        return {"name": self.name} if self.name else dict(self.tags)

    def matches(self, name: str, tags: dict[str, str]) -> bool:
        return all((tags | {"name": name}).get(k) == v for k, v in self.filter.items())


@dataclass(frozen=True)
class Holder:
    """Who holds a place, as labgrid stores it (`host/user`), read back."""

    text: str
    since: float  # the place's last change: when it was acquired

    @property
    def user(self) -> str:
        return self.text.rpartition("/")[2]

    @property
    def host(self) -> str:
        return self.text.rpartition("/")[0].partition(":")[0]

    @property
    def pid(self) -> int | None:
        host = self.text.rpartition("/")[0]
        _, sep, pid = host.partition(":")
        return int(pid) if sep and pid.isdigit() else None

    @property
    def alive(self) -> bool | None:
        """True/False when this host can tell (a rig on this host); None when it cannot."""
        if self.pid is None or self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        since = datetime.fromtimestamp(self.since).strftime("%Y-%m-%d %H:%M:%S")
        who = f"{self.user} on {self.host}" + (f" (process {self.pid})" if self.pid else "")
        text = f"held by {who} since {since}"
        alive = self.alive
        if alive is False:
            text += ": that process is gone, a dead client holds it"
        elif alive is None and self.pid is not None:
            text += " (another host: whether it still runs cannot be told from here)"
        return text


@dataclass
class PlaceState:
    name: str
    tags: dict[str, str]
    comment: str
    holder: Holder | None
    reservation: str | None


def holder_name(pid: int | None = None) -> tuple[str, str]:
    """(host, user) as this process acquires: `HOST:PID` and the login name."""
    return f"{socket.gethostname()}:{pid or os.getpid()}", getpass.getuser()


def coordinator_address(option: str | None, lab_address: str | None) -> str:
    """--coordinator, else the lab file, else labgrid's LG_COORDINATOR."""
    address = option or lab_address or os.environ.get(ENV_COORDINATOR)
    if not address:
        raise PlaceUsageError(
            "--place needs labgrid's coordinator: give --coordinator HOST:PORT, "
            f"coordinator.address in the lab file, or {ENV_COORDINATOR}"
        )
    return address


class _Said(logging.Handler):
    """What labgrid logs (to the root logger) while a session starts, kept for the error."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class PlaceClient:
    """A labgrid client session, on the process's labgrid event loop (a thread)."""

    def __init__(self, address: str, pid: int | None = None):
        # gRPC's fork handlers crash a child forked (not vforked) while its threads are
        # busy, e.g. a server started under another user: 4 of 5 such children died of
        # SIGSEGV beside a session being read. Every child of the rig executes a program
        # at once and needs none of them. Read when grpc is first imported.
        os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
        try:
            import labgrid.remote.client  # noqa: F401  (labgrid is the optional extra)
        except ImportError:
            raise PlaceUsageError(
                "places need labgrid, which is not installed: pip install 'bms-rig[lab]'"
            ) from None
        self.address = address
        self.host, self.user = holder_name(pid)
        self._loop = _shared_loop()
        self._session = self._call(self._start())

    @property
    def name(self) -> str:
        """This client's name as labgrid records it (a place's holder)."""
        return f"{self.host}/{self.user}"

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT_S) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise PlaceError(
                f"coordinator {self.address} did not answer in {timeout:.0f} s"
            ) from None

    async def _start(self) -> Any:
        from labgrid.remote.client import ClientSession, Error
        from labgrid.util.proxy import proxymanager

        host, user = self.host, self.user

        class Session(ClientSession):  # type: ignore[misc]
            def __attrs_post_init__(self) -> None:
                super().__attrs_post_init__()
                # a connection of its own: gRPC shares one between channels to the same
                # address, and the coordinator takes a connection for one client
                import grpc
                from labgrid.remote.generated import labgrid_coordinator_pb2_grpc

                self.channel = grpc.aio.insecure_channel(
                    target=self.address, options=[("grpc.use_local_subchannel_pool", 1)]
                )
                self.stub = labgrid_coordinator_pb2_grpc.CoordinatorStub(self.channel)

            def gethostname(self) -> str:
                return host

            def getuser(self) -> str:
                return user

        address = proxymanager.get_grpc_address(self.address, default_port=20408)
        session = Session(address=address, loop=self._loop)
        said = _Said()  # labgrid logs why it could not connect; say it in the error instead
        logging.getLogger().addHandler(said)
        try:
            await session.start()
        except Error as exc:
            await session.close()
            why = "; ".join(said.messages) or str(exc)
            raise PlaceError(f"labgrid coordinator {self.address}: {why}") from None
        finally:
            logging.getLogger().removeHandler(said)
        return session

    async def _rpc(self, method: str, request: Any) -> Any:
        import grpc

        try:
            reply = await getattr(self._session.stub, method)(request)
            await self._session.sync_with_coordinator()
            return reply
        except grpc.aio.AioRpcError as exc:
            raise PlaceError(f"labgrid coordinator {self.address}: {exc.details()}") from None

    def rpc(self, method: str, **fields: Any) -> Any:
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb

        request = getattr(pb, f"{method}Request")(**fields)
        return self._call(self._rpc(method, request))

    def places(self) -> dict[str, PlaceState]:
        async def read() -> dict[str, PlaceState]:
            # a session whose stream to the coordinator ended answers no sync again (labgrid
            # waits for it for ever): say so at once
            if self._session.stopping.is_set() or not await self._session.sync_with_coordinator():
                raise PlaceError(f"labgrid coordinator {self.address}: the connection was lost")
            return {
                name: PlaceState(
                    name,
                    dict(p.tags),
                    p.comment,
                    Holder(p.acquired, p.changed) if p.acquired else None,
                    p.reservation,
                )
                for name, p in self._session.places.items()
            }

        return self._call(read())

    def add_place(self, name: str, tags: dict[str, str] | None = None, comment: str = "") -> None:
        """Create a place (what `labgrid-client -p NAME create; set-tags ...` does)."""
        self.rpc("AddPlace", name=name)
        if tags:
            self.rpc("SetPlaceTags", placename=name, tags=tags)
        if comment:
            self.rpc("SetPlaceComment", placename=name, comment=comment)

    def reserve(self, wanted: Wanted) -> str:
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb

        reply = self.rpc(
            "CreateReservation",
            filters={"main": pb.Reservation.Filter(filter=wanted.filter)},
            prio=0.0,
        )
        return str(reply.reservation.token)

    def poll(self, token: str) -> tuple[str, str | None]:
        """The reservation's state (waiting, allocated, acquired, expired, invalid) and
        the place allocated to it; each poll keeps it alive another minute."""
        from labgrid.remote.common import Reservation

        res = Reservation.from_pb2(self.rpc("PollReservation", token=token).reservation)
        places = res.allocations.get("main") or [None]
        return res.state.name, places[0]

    def cancel(self, token: str) -> None:
        self.rpc("CancelReservation", token=token)

    def reservations(self) -> dict[str, tuple[str, str]]:
        """Every reservation: token → (owner, state)."""
        from labgrid.remote.common import Reservation

        reply = self.rpc("GetReservations")
        found = (Reservation.from_pb2(r) for r in reply.reservations)
        return {r.token: (r.owner, r.state.name) for r in found}

    def acquire(self, place: str) -> None:
        self.rpc("AcquirePlace", placename=place)

    def release(self, place: str, holder: str | None = None) -> None:
        """Release `place`; with `holder`, only if that client still holds it (atomic)."""
        if holder is None:
            self.rpc("ReleasePlace", placename=place)
        else:
            self.rpc("ReleasePlace", placename=place, fromuser=holder)

    def close(self) -> None:
        async def stop() -> None:
            with contextlib.suppress(Exception):
                await self._session.stop()
            with contextlib.suppress(Exception):
                await self._session.close()

        with contextlib.suppress(Exception):
            self._call(stop(), timeout=10)


_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()


def _shared_loop() -> asyncio.AbstractEventLoop:
    """One event loop, in a daemon thread, for every client of this process: gRPC's
    asyncio layer serves one loop per process, not one per client."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="rig-labgrid", daemon=True).start()
            _LOOP = loop
        return _LOOP


@dataclass
class Held:
    """A place this run holds."""

    wanted: Wanted
    token: str
    place: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    waited_s: float = 0.0
    acquired_at: float = 0.0

    def record(self, holder: str) -> dict[str, Any]:
        return {
            "type": "place",
            "place": self.place,
            "asked": self.wanted.text,
            "tags": self.tags,
            "holder": holder,
            "reservation": self.token,
            "waited_s": round(self.waited_s, 3),
            "acquired": datetime.fromtimestamp(self.acquired_at).astimezone().isoformat(),
        }


class Holding:
    """The places of one run: reserved and acquired in a fixed order (so two runs that
    want the same two places never each hold one and wait for the other), their
    reservations polled while the run goes on, all released by `release()`."""

    def __init__(self, client: PlaceClient, say: Callable[[str], None]):
        self.client = client
        self.say = say
        self.held: list[Held] = []
        self.warnings: list[str] = []
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None

    def take(self, wanted: list[Wanted]) -> None:
        """Wait for and acquire every place asked for; on any error or interrupt, give
        back what was taken."""
        try:
            for w in sorted(wanted, key=lambda w: w.text):
                self._take(w)
        except BaseException:
            with SIGNALS.deferred(reraise=False):
                self.release()
            raise
        self._keeper = threading.Thread(target=self._keep, name="rig-place-keeper", daemon=True)
        self._keeper.start()

    def _take(self, wanted: Wanted) -> None:
        began = time.monotonic()
        token = self.client.reserve(wanted)
        held = Held(wanted, token)
        self.held.append(held)
        told: set[str] = set()
        while True:
            state, place = self.client.poll(token)
            if state == "allocated" and place:
                break
            if state in ("expired", "invalid"):
                raise PlaceError(f"reservation for {wanted.text} became {state}")
            self._tell_wait(wanted, told)
            time.sleep(POLL_S)  # real time: waiting for the coordinator to allocate a place
        self.client.acquire(place)
        held.place = place
        held.tags = self.client.places().get(place, PlaceState(place, {}, "", None, None)).tags
        held.waited_s = time.monotonic() - began
        held.acquired_at = time.time()
        waited = f" after waiting {held.waited_s:.1f} s" if told else ""
        self.say(f"place {place} acquired{waited} (reservation {token})")

    def _tell_wait(self, wanted: Wanted, told: set[str]) -> None:
        """Say once what the run waits for, and again whenever the holders change."""
        places = self.client.places()
        matching = [p for p in places.values() if wanted.matches(p.name, p.tags)]
        if not matching:
            raise PlaceError(f"no place matches {wanted.text} on {self.client.address}")
        lines = []
        for p in sorted(matching, key=lambda p: p.name):
            if p.holder is not None:
                lines.append(f"{p.name} {p.holder.describe()}")
            elif p.reservation:
                lines.append(f"{p.name} reserved for another client")
        key = "; ".join(lines)
        if key and key not in told:
            told.add(key)
            self.say(f"waiting for {wanted.text}: " + key)
            if any("a dead client holds it" in line for line in lines):
                self.say(
                    "  its owner can release it with: rig place release NAME "
                    "(after checking the bench is safe)"
                )

    def _keep(self) -> None:
        """Poll every reservation while the run goes on; note a place taken from us."""
        while not self._stop.wait(KEEPALIVE_S):  # real time: labgrid's lease is wall time
            for held in list(self.held):
                try:
                    self.client.poll(held.token)
                    state = self.client.places().get(held.place)
                except PlaceError as exc:
                    self._warn(f"place {held.place}: could not poll the coordinator: {exc}")
                    continue
                holder = state.holder if state is not None else None
                if state is not None and (holder is None or holder.text != self.client.name):
                    self._warn(f"place {held.place} is no longer held by this run ({holder})")

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)
            self.say(text)

    def records(self) -> list[dict[str, Any]]:
        return [h.record(self.client.name) for h in self.held if h.place]

    def release(self) -> list[str]:
        """Release every place and cancel every reservation; each step tried, problems
        returned (and said)."""
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join(timeout=KEEPALIVE_S + CALL_TIMEOUT_S)
        problems = []
        for held in reversed(self.held):
            # the reservation first: the coordinator hands a released place to the next
            # reservation at once only if none of ours still points at it (else at its
            # next scheduling pass, up to 15 s later)
            with contextlib.suppress(PlaceError):
                self.client.cancel(held.token)
            if held.place:
                try:
                    self.client.release(held.place, holder=self.client.name)
                    self.say(f"place {held.place} released")
                except PlaceError as exc:
                    problems.append(f"place {held.place} not released: {exc}")
        self.held.clear()
        for problem in problems:
            self.say(problem)
        return problems


def release_for_owner(client: PlaceClient, place: str, force: bool = False) -> Holder | None:
    """Release a place held by one of this user's clients: a run that was killed, or one
    on another host (`force`). Its reservation goes too (a reservation whose place is
    acquired never expires, and would keep the place from the next one for a minute).
    The release is conditional on the same holder still holding it. Returns the holder
    released, None if the place was free."""
    state = client.places().get(place)
    if state is None:
        raise PlaceError(f"no place {place} on {client.address}")
    holder = state.holder
    if holder is None:
        return None
    if holder.user != client.user:
        raise PlaceError(
            f"{place} is {holder.describe()}; only its owner ({holder.user}) may release it"
        )
    alive = holder.alive
    if alive is True and not force:
        raise PlaceError(
            f"{place} is {holder.describe()}, and that process is still running: stop it "
            "(Ctrl-C or SIGTERM releases the place), or add --force"
        )
    if alive is None and not force:
        raise PlaceError(
            f"{place} is {holder.describe()}: run this on that host, or add --force once you "
            "know it is not running"
        )
    for token, (owner, _state) in client.reservations().items():
        if owner == holder.text:
            with contextlib.suppress(PlaceError):
                client.cancel(token)
    client.release(place, holder=holder.text)
    return holder
