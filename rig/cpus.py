"""Where a simulated run's processes run: the rig and its simlab on one CPU, the live
report printer on the others.

The rig and simlab take turns: the rig sends a command and waits for the answer, simlab
answers and waits for the next one, about 30 000 times in the default run. Left to the
kernel, the two tend to sit on different CPUs, and every turn then wakes a process on
the other CPU: on a 2-core virtual machine that wake-up costs more than simlab's whole
handling of the command (`bench/scpi_server_rate.py`: 96 µs a query across CPUs, 52 µs
on one). On one CPU the turns cost less and the other CPUs are left whole to the live
printer, which lays out the report's chapters while the plans run. When the plans are
over, every process of the run gets every CPU back for the report's last steps.

Only for a simulated station and only on Linux with two CPUs or more; `RIG_CPUS=off`
leaves every placement to the kernel (e.g. to compare, or on a machine shared in a way
this cannot see). The CPU chosen is the one with the most idle time since the rig
started, so two runs started side by side tend to take different CPUs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

OFF = ("off", "0", "no", "false")
_STAT = Path("/proc/stat")


def _idle_ticks() -> dict[int, int]:
    """Idle and iowait ticks of each CPU since boot (`/proc/stat`); empty if unreadable."""
    ticks: dict[int, int] = {}
    try:
        text = _STAT.read_text()
    except OSError:
        return ticks
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name.startswith("cpu") and name[3:].isdigit():
            fields = rest.split()
            if len(fields) >= 5:
                ticks[int(name[3:])] = int(fields[3]) + int(fields[4])
    return ticks


_AT_IMPORT = _idle_ticks()  # the first reading of the window the choice looks at


def least_busy(allowed: set[int], before: dict[int, int], after: dict[int, int]) -> int:
    """The allowed CPU that was idle longest between two readings (lowest number on a
    tie, or when the readings say nothing)."""
    return max(sorted(allowed), key=lambda cpu: after.get(cpu, 0) - before.get(cpu, 0))


def _tasks(pid: int | None) -> list[int]:
    """Every thread of process `pid` (None: this process); affinity is per thread."""
    folder = Path("/proc/self/task" if pid is None else f"/proc/{pid}/task")
    try:
        return [int(p.name) for p in folder.iterdir()]
    except OSError:
        return [] if pid is not None else [0]


def _set(tasks: list[int], cpus: set[int]) -> None:
    for tid in tasks:
        with contextlib.suppress(OSError):  # a thread that just ended
            os.sched_setaffinity(tid, cpus)


class Placement:
    """The run's CPUs: `session` for the rig and simlab, `others` for the live printer.

    The processes boot with every CPU (three processes loading their modules at once);
    `pin()` then places them for the plans: this process (every thread, and every thread
    or process started from it afterwards) and `together` on the session CPU, `apart` on
    the others. `release()` gives every CPU back to all of them; it is safe to call twice
    or without `pin()`.
    """

    def __init__(self, session: int, allowed: set[int]):
        self.session = session
        self.allowed = set(allowed)
        self.others = self.allowed - {session}
        self._placed: list[int | None] = []  # None: this process

    @classmethod
    def choose(cls) -> Placement | None:
        """The placement for a simulated run here, or None (kernel's choice)."""
        if os.environ.get("RIG_CPUS", "").strip().lower() in OFF:
            return None
        if not hasattr(os, "sched_setaffinity"):
            return None
        try:
            allowed = os.sched_getaffinity(0)
        except OSError:
            return None
        if len(allowed) < 2:
            return None
        return cls(least_busy(allowed, _AT_IMPORT, _idle_ticks()), allowed)

    def pin(self, together: Sequence[int] = (), apart: Sequence[int] = ()) -> None:
        """This process and `together` on the session CPU, `apart` on the others."""
        for pid in [None, *together]:
            _set(_tasks(pid), {self.session})
            self._placed.append(pid)
        for pid in apart:
            _set(_tasks(pid), self.others)
            self._placed.append(pid)

    def release(self) -> None:
        """Every CPU again, for this process and the processes placed."""
        placed, self._placed = self._placed, []
        for pid in placed:
            _set(_tasks(pid), self.allowed)
