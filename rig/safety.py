"""Limits checked before a byte is sent, and the one transition every exit path takes.

The safe state is a list of small actions (load off, charger off, cells to nominal ...)
registered by the station as it opens each role. `make_safe()` tries every one of them
even when an earlier one failed, and reports what failed, because a half-safe bench with
a live pack is the case that matters most. A Ctrl-C or SIGTERM during the sequence waits
for its end (`SIGNALS`), so an interrupt never leaves the bench half-safe.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)


class LimitError(Exception):
    """A request beyond the station's absolute limits; nothing was sent."""

    def __init__(self, role: str, quantity: str, value: float, low: float, high: float, unit: str):
        self.role, self.quantity, self.value = role, quantity, value
        self.low, self.high, self.unit = low, high, unit
        super().__init__(
            f"{role}: {quantity} {value:g} {unit} is outside the station limit "
            f"[{low:g}, {high:g}] {unit}; not sent"
        )


def check_limit(role: str, quantity: str, value: float, low: float, high: float, unit: str) -> None:
    if not low <= value <= high:
        raise LimitError(role, quantity, value, low, high, unit)


@dataclass(frozen=True)
class SafeFailure:
    action: str
    error: str


class SafeStateError(Exception):
    def __init__(self, failures: list[SafeFailure]):
        self.failures = failures
        listed = "; ".join(f"{f.action}: {f.error}" for f in failures)
        super().__init__(f"station not fully safe, {len(failures)} step(s) failed: {listed}")


@dataclass(frozen=True)
class SafeAction:
    name: str
    priority: int  # lower runs first: remove energy (load, charger, short) before cells
    action: Callable[[], None]


class SignalGuard:
    """SIGINT and SIGTERM for the whole process: an interrupt, except where it must wait.

    Outside `deferred()` a signal raises KeyboardInterrupt where the program is, so the
    test session unwinds and its teardown runs. Inside, it is only noted, and raised when
    the outermost `deferred()` block ends: the safe-state sequence and the last records
    of a run are never cut short, by a second Ctrl-C either. `received` keeps every
    signal of the run in order, so the run can be told as interrupted, and by what.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: list[signal.Signals] = []
        self._depth = 0
        self._pending: signal.Signals | None = None
        self._lock = threading.Lock()  # never taken by the handler itself
        self._previous: dict[int, Any] = {}
        self.on_deferred: Callable[[signal.Signals], None] | None = None

    @property
    def installed(self) -> bool:
        return bool(self._previous)

    @property
    def first(self) -> signal.Signals | None:
        return self.received[0] if self.received else None

    def install(self) -> bool:
        """Take over SIGINT and SIGTERM (main thread only); False if already done or not
        possible, so only the installer uninstalls."""
        if self.installed or threading.current_thread() is not threading.main_thread():
            return False
        self.received.clear()
        self._pending = None
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return True

    def uninstall(self) -> None:
        self._depth = 0
        previous, self._previous = self._previous, {}
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        sig = signal.Signals(signum)
        self.received.append(sig)
        if self._depth > 0:
            if self._pending is None:
                self._pending = sig
            if self.on_deferred is not None:
                self.on_deferred(sig)
            return
        raise KeyboardInterrupt(f"signal {sig.name}")

    def hold(self) -> None:
        """From now on SIGINT and SIGTERM are ignored: the process is writing its last
        words (the run's summary and exit status) and ends by itself. Ignored, not just
        deferred: the interpreter's shutdown puts back the default handler of a signal
        that has a Python one, and a signal then would kill the finished process."""
        if threading.current_thread() is not threading.main_thread():
            return
        with self._lock:
            self._depth += 1
        for sig in self.SIGNALS:
            previous = signal.signal(sig, signal.SIG_IGN)
            self._previous.setdefault(sig, previous)

    @contextlib.contextmanager
    def deferred(self, reraise: bool = True) -> Iterator[None]:
        """Hold signals off for the block; the first one held is raised at its end."""
        with self._lock:
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                outermost = self._depth == 0
                pending = self._pending if outermost else None
                if outermost:
                    self._pending = None
            if pending is not None and reraise:
                raise KeyboardInterrupt(f"signal {pending.name} (held until the block ended)")


SIGNALS = SignalGuard()


class SafetyManager:
    def __init__(self) -> None:
        self._actions: list[SafeAction] = []
        self._lock = threading.RLock()
        self.history: list[tuple[str, list[SafeFailure]]] = []

    def register(self, name: str, action: Callable[[], None], priority: int = 50) -> None:
        with self._lock:
            self._actions.append(SafeAction(name, priority, action))
            self._actions.sort(key=lambda a: a.priority)

    def make_safe(self, reason: str, reraise_signal: bool = True) -> list[SafeFailure]:
        """Run every safe action and return what failed.

        A signal that arrives meanwhile waits until every action has been tried, and is
        then raised as KeyboardInterrupt (unless `reraise_signal` is False, for the end
        of a run that is stopping anyway). Nothing else escapes.
        """
        failures: list[SafeFailure] = []
        with SIGNALS.deferred(reraise=reraise_signal), self._lock:
            for item in self._actions:
                try:
                    item.action()
                except BaseException as exc:  # whatever one step does, the rest still run
                    failures.append(SafeFailure(item.name, f"{type(exc).__name__}: {exc}"))
                    log.error("safe state: %s failed: %s", item.name, exc)
            self.history.append((reason, failures))
        return failures

    def clear(self) -> None:
        """Forget every action, e.g. once the instruments are closed after a final make_safe."""
        with self._lock:
            self._actions.clear()
        atexit.unregister(self._at_exit)

    def _at_exit(self) -> None:
        if self._actions:
            self.make_safe("process exit", reraise_signal=False)

    def install_exit_guards(self) -> None:
        """atexit is the backstop; signals are the process-wide `SIGNALS` guard's job."""
        atexit.register(self._at_exit)
