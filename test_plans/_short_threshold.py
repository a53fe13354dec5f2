"""Short-circuit threshold: pulses of rising prospective current, each captured.

A short circuit's trip time says how fast the BMS acts once it sees a short; its
threshold says from which current it calls one. On a current-sense emulation bench the
prospective current is the generator's level on the shunt input, so it can be set: each
probe is one pulse of the emulated current, `pulse_s` long (twice the slowest acceptable
delay by default), while the load keeps its small test current through the FETs. The
digitizer records both in one acquisition, triggered on the pulse's leading edge:

- the level is what the shunt carries in all: the generator's pulse, through its
  attenuator and the shunt, plus the test current the load draws through it (read on the
  load), with both instruments' accuracy (the generator chain's is far better than a
  scope's few per cent of full scale); the sense input's
  plateau in the record (what the BMS's shunt input saw) is its read-back, kept beside it,
  and a plateau that disagrees with the level by more than both accuracies together is an
  error of the bench, never a value;
- the response is the load's current at the end of the pulse in the same record: below
  the trip fraction of the test current, the BMS opened its FET within the window; still
  flowing, it did not call this level a short.

The threshold is bracketed by the ramp and bisection every other threshold uses
(`rig.measure.search_threshold`): between tripped probes the short circuit's own
recovery is awaited (or the spec's recovery procedure runs). The lower discharge levels
cannot act on a pulse: each probe is shorter than their shortest acceptable delay, and
a pulse as long as one of them is refused before anything is sent (`NotIsolated`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dut_drivers.base import BmsLink
from instruments.accuracy import Accuracy
from rig.clock import Clock
from rig.config import DutSpec
from rig.measure import search_threshold, wait_for
from rig.plugin.fixtures import Ready, Recorder
from rig.station import Station
from rig.station.fitness import pack_volts
from test_plans import _trip
from test_plans._isolation import NotIsolated
from test_plans._power_path import PowerPath
from test_plans._search import record_search
from test_plans._trip import Side

PROBE = "discharge_current"  # the load's lead, in the same acquisition
GIVE_UP_S = 0.05  # after the record should have completed: the pulse never came
LOWER = ("discharge_oc1", "discharge_oc2")  # slower levels a pulse must stay shorter than


class CaptureFailed(Exception):
    """A probe's record never completed: the pulse did not reach the trigger."""


class PulseMismatch(Exception):
    """The sense input saw another level than the generator was set to: the bench's
    attenuator, shunt wiring or calibration is not what the station file says."""


class ShortPulses:
    """The search's stimulus: one pulse of emulated discharge current per level, read
    back from the sense input's record; the response is the load's current at the end
    of the same record."""

    quantity = "emulated_short_current"
    unit = "A"

    def __init__(
        self, station: Station, spec: DutSpec, clock: Clock, width_s: float, real_a: float
    ):
        self.station, self.spec, self.clock, self.width_s = station, spec, clock, width_s
        self.real_a = real_a  # the test current the load draws through the shunt
        self.shunt, self.digitizer = station.shunt, station.digitizer
        self.test_current = spec.test_conditions.discharge_test_current_a
        self.load_after = math.nan  # the load's current at the end of the last pulse
        self.plateaus: list[tuple[float, float]] = []  # (level, the sense input's plateau)
        self.pulses = 0

    @property
    def instrument(self) -> str:
        return self.shunt.name

    def apply(self, level: float) -> float:
        """One pulse of `level` A; its plateau on the sense input checked against it.
        Returns the current the shunt carried: the pulse and the load's test current."""
        cap = self.spec.test_conditions.capture
        dig = self.digitizer
        settings = dig.arm(
            -level / 2,  # the sense input reads + charging: the pulse falls through it
            rising=False,
            sample_interval_s=cap.sample_interval_s,
            points=cap.points,
            pretrigger_points=cap.pretrigger_points,
            full_scale=1.25 * level,
            also={PROBE: 4 * self.test_current},
        )
        dt = settings.sample_interval_s
        after = (settings.points - settings.pretrigger_points) * dt
        if after < 1.1 * self.width_s:
            dig.abort()
            raise ValueError(
                f"{dig.name}: a record of {after:.3g} s after the trigger is shorter than "
                f"the {self.width_s:.3g} s pulse (test_conditions.capture: more points)"
            )
        self.clock.sleep(settings.pretrigger_points * dt)
        self.shunt.pulse(level, self.width_s, "discharge")
        self.pulses += 1
        t_fired = self.clock.now()
        self.clock.sleep(after)
        while not dig.complete():
            if self.clock.now() - t_fired > after + GIVE_UP_S:
                dig.abort()
                raise CaptureFailed(
                    f"{dig.name}: no trigger at {level / 2:g} A on the sense input after a "
                    f"{level:g} A pulse from {self.shunt.name}"
                )
            self.clock.sleep(GIVE_UP_S / 10)
        sense = dig.fetch()
        load = dig.fetch(quantity=PROBE)
        t = np.asarray(sense.times_s, dtype=float)
        w = self.width_s
        plateau = (t >= 0.2 * w) & (t <= 0.8 * w)
        end = (t >= 0.85 * w) & (t <= 0.95 * w)
        values = -np.asarray(sense.values, dtype=float)
        self.load_after = float(np.mean(np.abs(np.asarray(load.values, dtype=float)[end])))
        seen = float(np.median(values[plateau]))
        self.plateaus.append((level, seen))
        gain = dig.accuracy("voltage_meas")
        allowed = gain.limit(seen * dig.scale) / dig.scale + self.shunt.accuracy(
            level, "discharge"
        ).limit(level)
        if abs(seen - level) > allowed:
            raise PulseMismatch(
                f"{dig.name} saw {seen:.4g} A on the sense input for a {level:g} A pulse from "
                f"{self.shunt.name} (both accuracies together allow {allowed:.3g} A): check "
                f"the attenuator and wiring.shunt in the station file"
            )
        return level + self.real_a

    def band(self, value: float) -> Accuracy:
        """The shunt current's accuracy at `value`: the generator's level through the
        attenuator and the shunt (`station.shunt.accuracy`), and the load's read-back of
        its test current."""
        pulse = self.shunt.accuracy(value - self.real_a, "discharge")
        load = self.station.load.accuracy("current_meas", self.real_a)
        return Accuracy(
            pulse.pct,
            pulse.offset + load.limit(self.real_a),
            math.inf,
            f"{pulse.source}; with the test current's read-back, {load.source}",
        )

    def observe(self) -> float:
        return self.load_after


@dataclass(frozen=True)
class Probed:
    """What saw the response: the digitizer's probe on the load's lead."""

    instrument: str
    label: str = "load current (probe)"


def threshold(
    side: Side,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
) -> None:
    p, tc = side.spec(spec), spec.test_conditions
    sc = tc.short_circuit
    width = sc.pulse_s or tc.dwell_factor * p.delay_s.high
    for name in LOWER:  # isolation by time: no pulse outlasts a slower level's delay
        lower = getattr(spec.protections, name)
        if lower is not None and width >= lower.delay_s.low:
            raise NotIsolated(
                f"short_circuit: a {width:g} s pulse is as long as {name}'s shortest "
                f"acceptable delay ({lower.delay_s.low:g} s): it could act on the pulse "
                f"(test_conditions.short_circuit.pulse_s)"
            )
    path = PowerPath(station, spec, "discharge")
    real = path.current_a  # the shunt carries the test current beside each pulse
    start = p.threshold_a.low - sc.search_margin_a - real
    stop = p.threshold_a.high + sc.search_margin_a - real
    station.shunt.check(stop, "discharge")  # LimitError before anything is sent
    context: dict[str, object] = {
        "path": "discharge",
        "stimulus": "current-sense emulation",
        "pulse_s": width,
        "digitizer": station.digitizer.name,
        "isolated_from": [n for n in LOWER if getattr(spec.protections, n) is not None],
        "isolation": "by time: each pulse shorter than the lower levels' shortest delays",
    }
    path.start(pack_volts(spec))
    if not _trip.baseline_flows(path, record, side, p, context, "threshold", "A"):
        return
    stim = ShortPulses(station, spec, clock, width, path.read())
    rec = spec.recovery
    release = (p.release_delay_s.high if p.release_delay_s else 0.0) + tc.settle_s

    def rearm() -> bool:
        """The short circuit's own recovery, then the test current flowing again."""
        flows = lambda: path.flowing(path.read())  # noqa: E731
        if wait_for(clock, flows, release + rec.release_timeout_s, rec.poll_s) is not None:
            return True
        if not ready.recover("re-arm during the short-circuit threshold search"):
            return False
        path.start(pack_volts(spec))
        return path.flowing(path.read())

    result = search_threshold(
        clock,
        stim.apply,
        stim.observe,
        path.interrupted,
        start,
        stop,
        sc.coarse_step_a,
        sc.threshold_step_a,
        tc.poll_period_s,
        rearm,
    )
    seen = Probed(f"{station.digitizer.name} ({PROBE})")
    record_search(
        record, f"{side.protection}_threshold", result, p.threshold_a, p.clause, stim, seen,
        "short_circuit_threshold",
        {
            **context,
            "pulses": stim.pulses,
            "sense_plateaus_a": stim.plateaus,
            "test_current_a": stim.real_a,
        },
    )  # fmt: skip
    if result.above is not None:
        rearm()  # leave the DUT recovered by its own rule
