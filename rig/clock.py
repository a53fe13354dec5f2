"""The only way rig code waits or reads time.

On a real bench time is the wall clock. Against simlab it is virtual: `sleep(dt)` asks the
simulation to advance by `dt` through its control channel and returns at once, so a
60 s release delay costs milliseconds and a run is repeatable for a given seed.
"""

from __future__ import annotations

import time
from typing import Protocol

from rig.simlink import SimControl


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale; only differences mean anything."""
        ...

    def sleep(self, dt: float) -> None: ...

    @property
    def virtual(self) -> bool: ...


class WallClock:
    """Real time, for a real bench."""

    virtual = False

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, dt: float) -> None:
        if dt < 0:
            raise ValueError(f"cannot sleep a negative time ({dt} s)")
        time.sleep(dt)


class VirtualClock:
    """Simulated time: reading it is free, sleeping advances the simulated lab."""

    virtual = True

    def __init__(self, control: SimControl):
        self._control = control
        self._t = control.time()

    def now(self) -> float:
        return self._t

    def sleep(self, dt: float) -> None:
        if dt < 0:
            raise ValueError(f"cannot sleep a negative time ({dt} s)")
        self._t = self._control.advance(dt)
