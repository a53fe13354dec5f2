"""The station watching its own readings while a plan runs.

A plan drives the bench towards the edges on purpose; the station file's limits say
where the edge of danger is. While a plan runs, every `period_s` of the run's time the
watchdog reads what the instruments themselves measure (each cell position, the
charger's and the load's current, each thermistor channel's programmed temperature) and
compares them with the station's absolute limits. A breach raises WatchdogTrip inside
the plan: it stops there, the safe state follows at once, and the plan is recorded as
aborted (not failed: the DUT was not measured; not passed). The currents are read at
every look, the cells one emulator at a time (a runaway cell is seen within as many
looks as there are emulators). The period is the station file's `watchdog.period_s`:
10 s by default, a few SCPI queries per look; a bench that wants a closer watch sets less.

It rides on the clock: time passes only in `clock.sleep`, so that is where it looks, in
the plan's own thread, on the same links the plan uses (no second thread talking to an
instrument in the middle of the plan's exchange). On a bench that is every `period_s`
of wall time; against simlab, of simulated time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rig.clock import Clock
from rig.config.station import Limits
from rig.station.roles import RoleNotFitted

DEFAULT_PERIOD_S = 10.0
CURRENT_MARGIN = 1.02  # a meter reading a hair over the limit is the meter, not a runaway


class WatchdogTrip(BaseException):
    """A reading beyond the station's absolute limits while a plan ran. A BaseException,
    like KeyboardInterrupt: a plan's `except Exception` must not swallow it."""

    def __init__(self, what: str, reading: float, limit: float, unit: str, bound: str):
        self.what, self.reading, self.limit, self.unit = what, reading, limit, unit
        super().__init__(
            f"watchdog: {what} read {reading:.4g} {unit}, {bound} the station's limit of "
            f"{limit:g} {unit}; the plan was stopped and the bench made safe"
        )


@dataclass
class Reading:
    what: str
    value: float
    unit: str
    low: float | None
    high: float | None


class Watchdog:
    def __init__(self, station: Any, limits: Limits, period_s: float = DEFAULT_PERIOD_S):
        self.station, self.limits, self.period_s = station, limits, period_s
        self.armed = False
        self.checks = 0
        self._last: float | None = None

    def arm(self, now: float) -> None:
        self.armed, self._last = True, now

    def disarm(self) -> None:
        self.armed = False

    def due(self, now: float) -> bool:
        return self.armed and (self._last is None or now - self._last >= self.period_s)

    def check(self, now: float) -> None:
        """Read the station and raise WatchdogTrip on the first breach."""
        self._last = now
        self.checks += 1
        for r in self.readings():
            if r.high is not None and r.value > r.high:
                raise WatchdogTrip(r.what, r.value, r.high, r.unit, "above")
            if r.low is not None and r.value < r.low:
                raise WatchdogTrip(r.what, r.value, r.low, r.unit, "below")

    def readings(self) -> list[Reading]:
        out: list[Reading] = []
        for role, read in (
            ("cells", self._cells),
            ("charger", self._charger),
            ("load", self._load),
            ("thermistors", self._thermistors),
        ):
            try:
                fitted = getattr(self.station, role)
            except RoleNotFitted:
                continue
            out += read(fitted)
        return out

    def _cells(self, cells: Any) -> list[Reading]:
        """One cell emulator per look, in turn: a 16-cell bench is four mainframes, and
        reading every channel at every look would cost more than the plan itself."""
        high = self.limits.cell_voltage.max
        if not cells.group_count:
            return []
        return [
            Reading(f"cell {position} ({ch.instrument}:{ch.channel})", volts, "V", None, high)
            for position, ch, volts in cells.read_group(self.checks % cells.group_count)
        ]

    def _charger(self, charger: Any) -> list[Reading]:
        # what it sources into the pack: a regenerative source wired as the load too
        # reads negative while it sinks, which the load's reading checks
        amps = max(charger.measure_current(), 0.0)
        limit = self.limits.charge_current.max * CURRENT_MARGIN
        return [Reading("charger current", amps, "A", None, limit)]

    def _load(self, load: Any) -> list[Reading]:
        amps = abs(load.measure_current())
        limit = self.limits.discharge_current.max * CURRENT_MARGIN
        return [Reading("load current", amps, "A", None, limit)]

    def _thermistors(self, therm: Any) -> list[Reading]:
        lim = self.limits.temperature
        out = []
        for ntc in therm.positions:
            celsius = therm.celsius_at(ntc, therm.resistance(ntc))
            out.append(Reading(f"NTC {ntc}", celsius, "°C", lim.min, lim.max))
        return out


class WatchedClock:
    """The run's clock with the watchdog and the interlock riding on it: each sleep of a
    plan that takes the run past the next check first reads the station; with an
    interlock, a sleep is cut into steps of its `poll_s` so the loop is read at least
    that often whatever the plan sleeps."""

    def __init__(self, clock: Clock, watchdog: Watchdog | None, interlock: Any = None):
        self._clock, self.watchdog, self.interlock = clock, watchdog, interlock

    @property
    def virtual(self) -> bool:
        return self._clock.virtual

    def now(self) -> float:
        return self._clock.now()

    def _look(self) -> None:
        now = self._clock.now()
        if self.watchdog is not None and self.watchdog.due(now):
            self.watchdog.check(now)
        if self.interlock is not None and self.interlock.due(now):
            self.interlock.check(now)

    def sleep(self, dt: float) -> None:
        self._look()
        lock = self.interlock
        if lock is None or not lock.armed or dt <= 0:
            self._clock.sleep(dt)
            return
        end = self._clock.now() + dt
        while (left := end - self._clock.now()) > 1e-9:
            self._clock.sleep(min(left, max(lock.until_due(self._clock.now()), 1e-6)))
            if lock.armed and lock.due(self._clock.now()):
                lock.check(self._clock.now())

    def __getattr__(self, name: str) -> Any:  # anything else a clock offers
        return getattr(self._clock, name)
