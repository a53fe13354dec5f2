"""The simulation core: bench physics + BMS firmware + virtual time, under the lab lock.

No I/O here. The servers (SCPI, UART, control) and the in-process helpers of `Lab` all
come through this object, and every public method takes the lab lock, so a server
request and a time step never interleave. Time moves only in `advance`; between calls
the state is frozen, which is what makes a run repeatable for a given seed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab.comms import BmsComms
from simlab.firmware import CATALOGUE, BmsStatus, Firmware, parse_defect
from simlab.firmware.diagnostics import afe_inputs
from simlab.params import flatten, get_path, nest, set_path, unknown_path
from simlab.physics import Bench
from simlab.physics.bench import SENSED
from simlab.physics.trace import Trace, TraceView

EPS = 1e-9
TRACE_RETENTION_S = 600.0  # how far back a digitizer's pre-trigger can reach
# The front end's comparators release a hair beyond where they trip (1 mA, far below any
# resolution), so a current that settles exactly on a threshold, or is found there to
# within the float precision of a µs-fast edge, is one state, not an endless flip.
COMPARATOR_HYSTERESIS_A = 1e-3
# At most this many scans are judged at once when skipping a quiet span (memory: one
# row of ADC noise each).
QUIET_BLOCK = 20_000
# Below this many elements numpy's per-call overhead outweighs its loops: plain Python.
_FEW = 64


def _scan_count(ts: float, horizon: float, period: float) -> int:
    """How many scans a span from `ts` to `horizon` holds, at most QUIET_BLOCK (one more
    where float rounding leaves the last a hair past `horizon`: the caller drops it)."""
    return min(int((horizon - ts) / period + EPS) + 1, QUIET_BLOCK)


class BenchSignal:
    """A traced bench quantity as a digitizer input sees it: `scale` volts per unit.

    `discharge_current` is the pack current with the sign turned (positive out of the
    pack), as a current probe clamped that way round would show it.
    """

    def __init__(self, world: World, quantity: str, scale: float):
        sign = -1.0 if quantity == "discharge_current" else 1.0
        base = "pack_current" if quantity == "discharge_current" else quantity
        if base not in (*world.bench.traces, SENSED):
            raise ValueError(f"no traced quantity {quantity!r}")
        self._world, self._base, self._gain = world, base, sign * scale

    def _trace(self) -> Trace | TraceView:
        return self._world.bench.signal(self._base)

    def now(self) -> float:
        return self._world.t

    def values(self, times: np.ndarray) -> np.ndarray:
        return self._gain * self._trace().values(times)

    def crossing(self, level: float, rising: bool, t_from: float, t_to: float) -> float | None:
        if self._gain == 0:
            return None
        flip = self._gain < 0
        return self._trace().crossing(level / self._gain, rising != flip, t_from, t_to)


class IdleSignal:
    """An input wired to nothing: 0 V, on the world's clock."""

    def __init__(self, world: World):
        self._world = world

    def now(self) -> float:
        return self._world.t

    def values(self, times: np.ndarray) -> np.ndarray:
        return np.zeros(np.shape(times))

    def crossing(self, level: float, rising: bool, t_from: float, t_to: float) -> float | None:
        return None


@dataclass(eq=False)
class Ticker:
    period: Callable[[], float]
    callback: Callable[[float], None]
    next_t: float

    def fire(self) -> None:
        t = self.next_t
        self.next_t = round(t + self.period(), 9)
        self.callback(t)


class World:
    def __init__(self, bench: Bench, firmware: Firmware, lock: threading.RLock | None = None):
        if bench.cell_count != firmware.cell_count:
            raise ValueError(
                f"bench has {bench.cell_count} cells but firmware expects {firmware.cell_count}"
            )
        self.bench = bench
        self.firmware = firmware
        self.lock = lock or threading.RLock()
        self.comms = BmsComms()  # how the BMS behaves on its wire (`bms.*`)
        self._tickers: list[Ticker] = []  # periodic work in virtual time (CAN broadcasts)
        self.t = 0.0
        # Every write to the hardware marks a change or solves (`simlab.changes`), as a
        # served lab's do (set by the lab): an advance then starts on the last solution
        # where it stands. False (code that writes the hardware directly, simlab's
        # tests): an advance solves first.
        self.writes_marked = False
        # link faults (simlab.faults), set by the lab; the BMS servers ask them
        self.link_faults: Any = None
        self._apply_fets()

    # -- circuit and time --------------------------------------------------------------

    def solve(self) -> None:
        """Re-solve the circuit: what a change made from simlab's own side (a relay, the
        safe state, a reboot, a test) calls after writing the hardware."""
        with self.lock:
            self.bench.solve()

    def refresh(self) -> None:
        """Bring the solution up to date (SCPI devices call this after a setting and
        before a measurement): a no-op unless a change was marked since the last solve
        (`simlab.changes`)."""
        with self.lock:
            self.bench.refresh()

    def _apply_fets(self, force: bool = True) -> None:
        """Make the bench FETs follow the firmware's gate drive; re-solve if anything moved.

        A welded FET (a hardware defect) conducts whatever the firmware drives and reports.
        """
        bench, fw = self.bench, self.firmware
        conducting = (
            fw.charge_fet or fw.defects.welded("charge"),
            fw.discharge_fet or fw.defects.welded("discharge"),
        )
        changed = (bench.charge_fet, bench.discharge_fet) != conducting
        bench.charge_fet, bench.discharge_fet = conducting
        bleed = dict.fromkeys(fw.bleeding(), fw.params.balance.bleed_ohm)
        if bleed != bench.bleed_ohm:
            bench.bleed_ohm, changed = bleed, True
        draw = fw.draw_a()
        if draw != bench.board_draw_a:
            bench.board_draw_a, changed = draw, True
        bench.fet_r_factor = fw.defects.fet_r_factor() if fw.defects.active else 1.0
        if changed or force:
            bench.solve()

    def _sensed(self, cells_v: list[float]) -> list[float]:
        """Cell voltages as the BMS's front end sees them at its connector: open sense
        leads (fault relays) floating, and miswiring applied."""
        sensed = afe_inputs(cells_v, self.bench.open_leads())
        for a, b in self.firmware.defects.wiring_swaps():
            sensed[a - 1], sensed[b - 1] = sensed[b - 1], sensed[a - 1]
        return sensed

    def _run_until(self, t1: float) -> None:
        """Integrate up to `t1` at the present (already solved) operating point."""
        seg = t1 - self.t
        if seg > 0:
            current = self.bench.state.pack_current_a
            self.bench.step(seg)
            self.firmware.integrate(current, seg)
            self.t = t1
            self.bench.t = t1

    def advance(self, dt: object) -> float:
        """Let `dt` virtual seconds pass, running every firmware scan due in that span."""
        if isinstance(dt, bool) or not isinstance(dt, int | float) or not math.isfinite(dt):
            raise ValueError(f"dt must be a finite number of seconds, got {dt!r}")
        if dt < 0:
            raise ValueError(f"dt must be >= 0, got {dt}")
        with self.lock:
            t_end = round(self.t + float(dt), 9)
            fw = self.firmware
            if self.writes_marked:  # a change since the last solve was marked, or solved
                self.bench.settle()
            else:  # setpoints may have been written since the last solve
                self.bench.solve()
            ticked = False  # a ticker's callback may write anything
            while True:
                ts = fw.next_scan_t
                hardware = self._next_hardware_event(min(ts, t_end))
                if hardware is not None:  # the front end and the short loop act between scans
                    t_hw, act = hardware
                    self._run_until(t_hw)
                    act()
                    continue
                tick = min(self._tickers, key=lambda k: k.next_t, default=None)
                if tick is not None and tick.next_t < ts - EPS and tick.next_t <= t_end + EPS:
                    self._run_until(tick.next_t)
                    tick.fire()  # after any scan at the same instant: it reports that scan
                    ticked = True
                    continue
                if ts > t_end + EPS:
                    break
                if self._skip_quiet_scans(ts, t_end):
                    continue
                self._run_until(ts)
                state = self.bench.solve() if self.bench.lfp_cells else self.bench.state
                fw.fet_c = self.bench.fet_temperature_c()
                fw.scan(
                    ts,
                    self._sensed(state.cells_v),
                    self.bench.sensed_current().value(ts),
                    supply_v=self.bench.board_supply_v(),
                    ntc_ohms=self._ntc_ohms(),
                    charger_present=state.charger_present,
                    open_leads=self.bench.open_leads(),
                )
                self._apply_fets(force=False)
            self._run_until(t_end)
            self.t = self.bench.t = t_end
            if ticked:
                self.bench.solve()
            else:
                self.bench.settle()  # the last solve stands unless time moved something
            for trace in (*self.bench.traces.values(), *self.bench.extra_traces):
                trace.prune(self.t - TRACE_RETENTION_S)
            return self.t

    def _skip_quiet_scans(self, ts: float, t_end: float) -> bool:
        """Take as done the scans from `ts` on that would change nothing (a quiet span).

        An hour of charging is 36 000 scans; while the bench holds still (no hardware
        event, the current constant, no ticker due, every cell emulated) most of them
        only confirm what the last one found. The firmware judges each with the noise it
        would have drawn and skips those that would change nothing; the last scan before
        anything can look (the end of the advance, a ticker) always runs.

        Most calls find no span (a plan's short steps leave room for one or two scans, or
        the current is still moving), so the cheap refusals come first: the span's
        length, then the current's steadiness, and only then the scan times and the
        hardware events through the span.
        """
        fw, bench = self.firmware, self.bench
        if bench.lfp_cells or not (fw.running or fw.asleep):
            return False
        horizon = t_end
        tick = min((k.next_t for k in self._tickers), default=None)
        if tick is not None:
            horizon = min(horizon, tick)
        period = fw.params.scan_period_s
        if _scan_count(ts, horizon, period) < 3:
            return False
        trace = bench.sensed_current()
        steady = trace.steady
        if steady is None or steady.t0 > ts + EPS:
            return False
        times = self._scan_times(ts, horizon, period)
        if len(times) < 3 or self._next_hardware_event(times[-1]) is not None:
            return False
        state = bench.state
        fw.fet_c = bench.fet_temperature_c()
        skipped = fw.quiet_scans(
            times,
            self._sensed(state.cells_v),
            trace.value(ts),
            bench.board_supply_v(),
            self._ntc_ohms(),
            state.charger_present,
            open_leads=bench.open_leads(),
            fet_c=bench.fet_temperature_after(np.asarray(times) - self.t, state.pack_current_a),
        )
        return skipped > 0

    @staticmethod
    def _scan_times(ts: float, horizon: float, period: float) -> list[float]:
        """The scan times from `ts` up to `horizon`, as the firmware schedules them
        (each the last plus the period, rounded to 1 ns), at most QUIET_BLOCK."""
        n = _scan_count(ts, horizon, period)
        if n < 1:
            return []
        if round(period, 9) == period and round(ts, 9) == ts:
            # both on the ns grid: each rounded sum is the grid point the iteration
            # reaches. numpy's rounding (scale, round half to even, unscale) in plain
            # Python for the few times a plan's step holds, numpy's own for long spans
            if n <= _FEW:
                times = [round((ts + i * period) * 1e9) / 1e9 for i in range(n)]
            else:
                times = np.round(ts + np.arange(n) * period, 9).tolist()
        else:
            times = [ts]
            for _ in range(n - 1):
                times.append(round(times[-1] + period, 9))
        while times and times[-1] > horizon + EPS:
            times.pop()
        return times

    def every(self, period: Callable[[], float], callback: Callable[[float], None]) -> Ticker:
        """Call `callback(t)` at t = period, 2 x period, ... of virtual time, as time is
        advanced (a CAN node's broadcasts); `period` is read again after each call."""
        with self.lock:
            first = round((math.floor(self.t / period() + EPS) + 1) * period(), 9)
            ticker = Ticker(period, callback, first)
            self._tickers.append(ticker)
            return ticker

    def at(self, t: float, callback: Callable[[float], None]) -> Ticker:
        """Call `callback(t)` once, when time is advanced to `t` (or past it; at the next
        advance if `t` has already gone by): a scheduled event such as a fault."""
        with self.lock:
            ticker = Ticker(lambda: math.inf, callback, max(round(float(t), 9), self.t))
            self._tickers.append(ticker)
            return ticker

    def cancel(self, ticker: Ticker) -> None:
        with self.lock:
            if ticker in self._tickers:
                self._tickers.remove(ticker)

    def ntc_line_ohms(self, n: int) -> float:
        """The resistance BMS NTC input `n` sees now (what a meter across it reads)."""
        with self.lock:
            ohms = self._ntc_ohms()
            return ohms[n - 1] if 1 <= n <= len(ohms) else float("inf")

    def place_temperature(self, place: str) -> float:
        """A thermocouple's temperature: on the BMS's FETs, or the bench's air."""
        with self.lock:
            if place == "fets":
                self.firmware.ambient_c = self.bench.params.temperature_c
                return self.firmware.fet_temperature()
            return self.bench.params.temperature_c

    def _ntc_ohms(self) -> list[float]:
        ntc, bench = self.firmware.params.ntc, self.bench
        ohms = bench.ntc_ohms(ntc.count, ntc.ohms_at(bench.params.temperature_c))
        on_fets = bench.params.fet.ntc
        if on_fets and on_fets not in bench.ntc_channels and on_fets <= len(ohms):
            ohms[on_fets - 1] = ntc.ohms_at(bench.fet_temperature_c())  # on the heatsink
        return ohms

    # -- hardware events between scans -----------------------------------------------------

    def _next_hardware_event(self, horizon: float) -> tuple[float, Callable[[], None]] | None:
        """The earliest thing the hardware does at or before `horizon`: the short relay's
        contacts meeting, or a front-end comparator starting, stopping, or tripping.

        A front-end protection trips once the discharge current has stayed at or above
        its threshold for its delay, to the instant; the current comes from the traced
        pack current, so an RL rise crosses the threshold exactly where the law says.
        """
        events: list[tuple[float, Callable[[], None]]] = []
        bench, fw = self.bench, self.firmware
        closes = bench.short_closes_at()
        if closes is not None and closes <= horizon + EPS:
            events.append((closes, self.solve))
        regulates = bench.response_ends_at()
        if regulates is not None and regulates <= horizon + EPS:
            events.append((regulates, self.solve))
        protections = fw.afe_protections()
        if not protections:
            return min(events, key=lambda e: e[0], default=None)
        trace = bench.sensed_current()
        now = self.t
        at_now = trace.value(now)  # every comparator sees the same current
        # a current held constant since before now crosses nothing (what `crossing` finds
        # at once, after its own search): most looks between a plan's scans
        steady = trace.steady
        still = steady is not None and steady.t0 < now
        for prot in protections:
            threshold, delay = fw.afe_setting(prot.row.name)
            level = -threshold  # pack current: discharge is negative
            st = prot.state
            if st.afe_since is None:
                if at_now <= level:
                    events.append((now, self._afe_start(prot, now)))
                    continue
                if still:
                    continue
                t_in = trace.crossing(level, False, now, horizon)
                if t_in is not None:
                    events.append((t_in, self._afe_start(prot, t_in)))
                continue
            t_trip = st.afe_since + delay
            release = level + COMPARATOR_HYSTERESIS_A + 1e-6 * abs(level)
            if at_now > release:
                events.append((now, self._afe_stop(prot)))
                continue
            t_out = trace.crossing(release, True, now, min(t_trip, horizon))
            if t_out is not None and t_out < t_trip - EPS:
                events.append((t_out, self._afe_stop(prot)))
            elif t_trip <= horizon + EPS:
                events.append((max(t_trip, now), self._afe_trip(prot)))
        return min(events, key=lambda e: e[0], default=None)

    def _afe_start(self, prot: Any, t: float) -> Callable[[], None]:
        def start() -> None:
            prot.state.afe_since = t

        return start

    def _afe_stop(self, prot: Any) -> Callable[[], None]:
        def stop() -> None:
            prot.state.afe_since = None

        return stop

    def _afe_trip(self, prot: Any) -> Callable[[], None]:
        def trip() -> None:
            value = -self.bench.sensed_current().value(self.t)
            self.firmware.afe_trip(prot.row.name, self.t, value)
            self._apply_fets(force=False)

        return trip

    # -- parameters --------------------------------------------------------------------

    def parameters(self) -> dict[str, object]:
        with self.lock:
            out = {f"firmware.{k}": v for k, v in self.firmware.parameters().items()}
            out.update({f"physics.{k}": v for k, v in self.bench.parameters().items()})
            out.update({f"bms.{k}": v for k, v in flatten(self.comms).items()})
            return out

    def _route(self, path: object) -> tuple[str, str]:
        if not isinstance(path, str):
            raise ValueError(f"path must be a string, got {path!r}")
        head, _, rest = path.partition(".")
        if head not in ("firmware", "physics", "bms") or not rest:
            raise unknown_path(path, list(self.parameters()))
        return head, rest

    def get(self, path: object) -> object:
        head, rest = self._route(path)
        with self.lock:
            if head == "firmware":
                return self.firmware.get_param(rest)
            if head == "bms":
                return self._comms_path(rest, get_path, self.comms, rest)
            return self.bench.get_param(rest)

    def set(self, path: object, value: object) -> object:
        """Set a parameter; KeyError for an unknown path, ValueError for a bad value."""
        head, rest = self._route(path)
        with self.lock:
            if head == "firmware":
                old = self.firmware.set_param(rest, value, self.t)
            elif head == "bms":
                return self._comms_path(rest, set_path, self.comms, rest, value)
            else:
                old = self.bench.set_param(rest, value)
            self._apply_fets()
            return old

    def _comms_path(self, path: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except KeyError:
            valid = [f"bms.{p}" for p in flatten(self.comms)]
            raise unknown_path(f"bms.{path}", valid) from None

    # -- defects -----------------------------------------------------------------------

    def add_defect(self, spec: object) -> str:
        if not isinstance(spec, str):
            raise ValueError(f"defect spec must be a string, got {spec!r}")
        defect = parse_defect(spec)
        with self.lock:
            self.firmware.add_defect(defect)
            self._apply_fets()
        return defect.spec()

    def clear_defects(self) -> None:
        with self.lock:
            self.firmware.defects.clear()
            self._apply_fets()

    def defects(self) -> dict[str, Any]:
        with self.lock:
            return {
                "available": {k.name: k.description for k in CATALOGUE.values()},
                "parameters": {k.name: dict(k.defaults) for k in CATALOGUE.values()},
                "active": [d.spec() for d in self.firmware.defects.active],
            }

    # -- the BMS side (UART server) ----------------------------------------------------

    def bms_status(self) -> BmsStatus:
        with self.lock:
            return self.firmware.status()

    def bms_powered(self) -> bool:
        """A host's request has arrived: whether the board answers it. An unpowered or
        booting BMS answers nothing; a sleeping one wakes on it and answers the next
        (the request that woke it goes unanswered, as clients expect and resend). Every
        request starts the board's idle timer again."""
        with self.lock:
            fw = self.firmware
            if fw.wake(self.t, "host request"):
                self._apply_fets()
                return False
            return fw.answering

    def bms_broadcasting(self) -> bool:
        """Whether the board is awake, running and has measured (a CAN node's
        broadcasts): no traffic."""
        with self.lock:
            return self.firmware.answering

    def host_traffic(self) -> None:
        """A frame from the host that answers nothing (an inverter's keep-alive): it
        wakes a sleeping board and starts its idle timer again."""
        with self.lock:
            if self.firmware.wake(self.t, "host traffic"):
                self._apply_fets()

    def fet_control(self, disable_charge: bool, disable_discharge: bool) -> None:
        """The host's FET-control write: takes effect at once, not at the next scan."""
        with self.lock:
            self.firmware.sw_disable_charge = disable_charge
            self.firmware.sw_disable_discharge = disable_discharge
            self._apply_fets()

    # -- ground truth ------------------------------------------------------------------

    def truth(self) -> dict[str, Any]:
        with self.lock:
            fw, st = self.firmware, self.bench.state
            return {
                "t": self.t,
                "firmware": nest(fw.parameters()),
                "physics": nest(self.bench.parameters()),
                "bms": nest(flatten(self.comms)),
                "defects": [d.spec() for d in fw.defects.active],
                "state": {
                    "charge_fet": fw.charge_fet,
                    "discharge_fet": fw.discharge_fet,
                    "charge_fet_conducts": self.bench.charge_fet,
                    "discharge_fet_conducts": self.bench.discharge_fet,
                    "bms_running": fw.running,
                    "asleep": fw.asleep,
                    "board_draw_a": fw.draw_a(),
                    "open_leads_found": sorted(fw.open_found),
                    "ntc_faulted": sorted(fw.ntc_faulted),
                    "protections": fw.active_protections(),
                    "protection_bits": fw.protection_bits,
                    "balance_bits": fw.balance_bits,
                    "bleeding": sorted(fw.bleeding()),
                    "cells_v": list(st.cells_v),
                    "readings_v": list(fw.readings),
                    "pack_v": st.pack_v,
                    "current_a": st.pack_current_a,
                    "charger_a": st.charge_a,
                    "load_a": st.load_a,
                    "temperatures_c": list(fw.temps_c),
                    "short_closed": self.bench.short_closed(),
                    "short_a": st.short_a,
                    "shunt_c": round(self.bench.shunt_temperature_c(), 6),
                    "fet_c": round(self.bench.fet_temperature_c(), 6),
                    "soc": fw.soc,
                    "remaining_ah": fw.remaining_ah,
                    "cycles": fw.cycles,
                    "last_scan_t": fw.last_scan_t,
                    "next_scan_t": fw.next_scan_t,
                },
            }

    def events(self, since: object = 0) -> tuple[list[dict[str, object]], int]:
        """Events from index `since` on, and the index to ask from next time."""
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise ValueError(f"since must be an integer >= 0, got {since!r}")
        with self.lock:
            log = self.firmware.events
            return [dict(e) for e in log[since:]], len(log)
