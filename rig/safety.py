"""Limits checked before a byte is sent, and the one transition every exit path takes.

The safe state is a list of small actions (load off, charger off, cells to nominal ...)
registered by the station as it opens each role. `make_safe()` tries every one of them
even when an earlier one failed, and reports what failed, because a half-safe bench with
a live pack is the case that matters most.
"""

from __future__ import annotations

import atexit
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

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


class SafetyManager:
    def __init__(self) -> None:
        self._actions: list[SafeAction] = []
        self._lock = threading.RLock()
        self.history: list[tuple[str, list[SafeFailure]]] = []

    def register(self, name: str, action: Callable[[], None], priority: int = 50) -> None:
        with self._lock:
            self._actions.append(SafeAction(name, priority, action))
            self._actions.sort(key=lambda a: a.priority)

    def make_safe(self, reason: str) -> list[SafeFailure]:
        """Run every safe action; never raises, returns what failed."""
        failures: list[SafeFailure] = []
        with self._lock:
            for item in self._actions:
                try:
                    item.action()
                except BaseException as exc:  # a Ctrl-C mid-teardown must not skip the rest
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
            self.make_safe("process exit")

    def install_exit_guards(self) -> None:
        """Ctrl-C and SIGTERM unwind the test session (so teardown runs); atexit is the backstop."""
        atexit.register(self._at_exit)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")
