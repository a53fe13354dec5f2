"""The bench's interlock loop, read on a digital input while the run goes on.

A safety cover's switch or an e-stop chain is wired to one line of a digital input port
(`interlock:` in the station file). The rig reads it before the first plan and before
each plan, when every output is off, and refuses to go on while it is open; and, like
the watchdog, it reads it as the run's time passes (`WatchedClock` cuts a plan's sleep
into steps of `poll_s`, so no sleep outlasts a poll). An open loop puts the bench in its
safe state at once, records why, and raises `InterlockOpen`, a KeyboardInterrupt: the
session ends as a Ctrl-C ends it (the plan `interrupted`, the run INTERRUPTED, the reason
in `run_end`), exit code 1 rather than 130, since no signal was sent.

This is the rig's watch on the loop, not the safety function: a bench's interlock must
also break the power path in hardware, and the rig cannot read the loop while a single
instrument exchange is under way or while it waits for an operator (who may have the
cover open to connect a harness: the loop is read again before the next plan).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rig.config.station import InterlockConfig


class InterlockOpen(KeyboardInterrupt):
    """The interlock loop read open: the bench was made safe and the run stops."""


class Interlock:
    def __init__(
        self,
        config: InterlockConfig,
        driver: Any,
        on_open: Callable[[str, float | None], None] | None = None,
    ):
        if not callable(getattr(driver, "read_digital", None)):
            raise TypeError(
                f"interlock.input: {config.input.instrument} has no digital input port "
                "(a Keysight DAQ970A with a DAQM907A module has two: s01, s02)"
            )
        self.config, self.driver = config, driver
        self.on_open = on_open  # the session: safe state first, then the record
        self.armed = False
        self.polls = 0
        self._last: float | None = None
        self.opened: str | None = None  # why, once it was found open

    @property
    def poll_s(self) -> float:
        return self.config.poll_s

    def arm(self, now: float) -> None:
        self.armed, self._last = True, now

    def disarm(self) -> None:
        self.armed = False

    def due(self, now: float) -> bool:
        return self.armed and (self._last is None or now - self._last >= self.poll_s - 1e-9)

    def until_due(self, now: float) -> float:
        """Run time left before the next poll (0: due now)."""
        if self._last is None:
            return 0.0
        return max(0.0, self._last + self.poll_s - now)

    def read(self) -> tuple[bool, int]:
        """(closed, the port's byte) as the input reads it now."""
        byte = self.driver.read_digital(self.config.input.channel)
        level = (byte >> self.config.line) & 1
        return level == self.config.safe_level, byte

    def check(self, now: float | None, where: str = "") -> None:
        """Read the loop; if it is open: safe state, record, raise InterlockOpen."""
        if now is not None:
            self._last = now
        self.polls += 1
        closed, byte = self.read()
        if closed:
            return
        cfg = self.config
        level = (byte >> cfg.line) & 1
        reason = (
            f"interlock open: {cfg.name} ({cfg.input} line {cfg.line} read {level}, "
            f"safe is {cfg.safe_level})" + (f" {where}" if where else "")
        )
        self.opened = reason
        self.armed = False
        if self.on_open is not None:
            self.on_open(reason, now)
        raise InterlockOpen(reason)
