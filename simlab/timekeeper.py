"""Who moves the lab's time: the wall clock, or a client driving it.

A lab served for people and outside tools runs free: a thread advances the simulation
with the wall clock (or a stated multiple of it), so a BMS tool sees a live pack. A
client that measures in virtual time (the rig's `VirtualClock`) takes over with its
first `advance`, or says so with `{"op": "mode", "mode": "driven"}`; from then on time
moves only when told, so its run is repeatable. `{"op": "mode", "mode": "wall"}` hands
the lab back to the wall clock.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from simlab.world import World

TICK_S = 0.02  # a fifth of the default firmware scan period


class Timekeeper:
    def __init__(self, world: World, speed: float | None = None, tick_s: float = TICK_S):
        self.world = world
        self.speed = 1.0 if speed is None else float(speed)
        self.tick_s = tick_s
        self._driven = speed is None
        self._lock = threading.Lock()  # a free-run step never lands after drive() returns
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def mode(self) -> str:
        return "driven" if self._driven else "wall"

    def describe(self) -> str:
        return "driven" if self._driven else f"wall x{self.speed:g}"

    def start(self) -> None:
        if not self._driven:
            self._start_thread()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2)

    def drive(self) -> None:
        """Hand time to the client: from now on it moves only in `advance`."""
        with self._lock:
            self._driven = True

    def run_free(self, speed: float | None = None) -> None:
        """Hand time back to the wall clock."""
        with self._lock:
            if speed is not None:
                if not speed > 0:
                    raise ValueError(f"speed must be > 0, got {speed!r}")
                self.speed = float(speed)
            was_driven, self._driven = self._driven, False
        if was_driven or self._thread is None:
            self._start_thread()

    def _start_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="simlab-wall-clock", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.tick_s):
            now = time.monotonic()
            with self._lock:
                if self._driven:
                    return
                self.world.advance((now - last) * self.speed)
            last = now

    # -- control-channel operations ------------------------------------------------------

    def op_advance(self, world: World, request: dict[str, Any]) -> dict[str, Any]:
        if "dt" not in request:
            raise ValueError("'advance' needs 'dt'")
        self.drive()
        return {"t": world.advance(request["dt"])}

    def op_mode(self, world: World, request: dict[str, Any]) -> dict[str, Any]:
        mode = request.get("mode")
        if mode == "driven":
            self.drive()
        elif mode == "wall":
            speed = request.get("speed")
            if speed is not None and (
                isinstance(speed, bool) or not isinstance(speed, int | float)
            ):
                raise ValueError(f"speed must be a number, got {speed!r}")
            self.run_free(speed)
        elif mode is not None:
            raise ValueError(f"mode must be 'driven' or 'wall', got {mode!r}")
        return {"mode": self.mode, "speed": self.speed, "t": world.t}
