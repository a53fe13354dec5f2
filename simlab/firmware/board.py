"""The board itself: what it draws from the pack, and when it sleeps.

A BMS runs from the pack it guards, so it costs the pack a current of its own: the
microcontroller, the front end and the FET gate drive while it is awake, a fraction of
that asleep. The firmware falls asleep once the pack has been idle (no current through
its shunt above `idle_a`) and no host has talked to it for `sleep_after_s`; asleep it
opens its FETs, stops scanning and answers nothing, and it wakes when a charger appears
on P+ or a host talks to it (the first request wakes it and goes unanswered, so clients
resend). The bench sees all of it only as the current the cells source.

The FETs' heating is the bench's physics (`physics.fet.*`); the board reads its FET
temperature from there (its own sensor, reported after the NTCs if `fet_sensor`) and
protects on it (`fet_ot`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class BoardParams:
    """`firmware.board.*`: consumption and sleep."""

    active_current_a: float = 0.015  # drawn from the pack while awake
    sleep_current_a: float = 0.0001  # ... and asleep
    # Asleep after this long with the pack idle and no host traffic (0: never sleeps).
    sleep_after_s: float = 3600.0
    idle_a: float = 0.05  # |shunt current| at or below this counts as idle
    fet_sensor: bool = False  # the board reports its FET sensor after its NTCs

    def validate(self) -> None:
        if min(self.active_current_a, self.sleep_current_a, self.idle_a) < 0:
            raise ValueError("firmware.board currents must be >= 0")
        if self.sleep_after_s < 0:
            raise ValueError("firmware.board.sleep_after_s must be >= 0")


class Board:
    """The board's power state, in the lab's time."""

    def __init__(self, params: BoardParams):
        self.params = params
        self.asleep = False
        self.idle_since: float | None = 0.0  # pack idle and no host traffic since then

    def draw_a(self, running: bool, factor: float = 1.0) -> float:
        """What the board draws from the pack now (0 while it is unpowered)."""
        if not running:
            return 0.0
        p = self.params
        return (p.sleep_current_a if self.asleep else p.active_current_a) * factor

    def idle(self, current_a: float) -> bool:
        return abs(current_a) <= self.params.idle_a

    def activity(self, t: float) -> None:
        """Current flowed or a host talked at `t`: the idle timer starts again."""
        self.idle_since = t

    def due_to_sleep(self, t: float, never: bool = False) -> bool:
        """The idle timer has run out at `t` (and the board is awake)."""
        after = self.params.sleep_after_s
        if never or self.asleep or after <= 0 or self.idle_since is None:
            return False
        return t - self.idle_since >= after - 1e-9

    def sleep_at(self) -> float:
        """When the idle timer runs out (inf if it never will)."""
        after = self.params.sleep_after_s
        if self.asleep or after <= 0 or self.idle_since is None:
            return math.inf
        return self.idle_since + after
