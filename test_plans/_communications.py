"""Communications: who the BMS says it is, the configuration it holds, how its link keeps time.

Everything here is the BMS's own word over its protocol (`evidence: dut`), judged on its
own:

- identity: the fields its protocol carries must come back filled; its cell count must
  be the spec's; fields the spec names (model, firmware, ...) must match;
- configuration (where the protocol can read it): each value the spec states for a
  protection (threshold, release, delays) is compared with what the BMS holds, within
  the spec's tolerance for that unit, or half the register's step where the BMS holds
  only coded settings (JBD's short-circuit and second over-current level); one
  measurement per value;
- link timing, taken where it happens: a request/reply BMS (UART) by the duration of
  each exchange as the host saw it, the longest of `polls` status polls judged; a
  broadcasting BMS (CAN) by the bus timestamps of its status broadcasts, their mean
  period and their longest gap.

Whether a CAN BMS that falls silent is noticed in time is a property of the rig's link,
proven in the rig's own tests (tests/dut_drivers/pylontech): a plan cannot make a BMS on
a bench stop talking.
"""

from __future__ import annotations

import itertools
import math
import statistics

from dut_drivers.base import BmsLink, DutIdentity, LinkTiming, ProtectionSetting
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import Communications, Limit
from rig.measure import Component, rectangular
from rig.plugin.fixtures import Recorder

# What a spec calls a protection, and the name a BMS's configuration uses for it.
CONFIG_NAMES = {"discharge_oc1": "discharge_oc"}
# Spec field suffix -> unit.
FIELD_UNITS = {"_v": "V", "_a": "A", "_c": "°C"}
IDENTITY_FIELDS = ("model", "hardware", "firmware", "serial", "manufacturer", "production_date")
# Timestamps of a broadcast on the wire: socketcand and SocketCAN stamp to the µs.
TIMESTAMP_RESOLUTION_S = 1e-6


def settings(spec: DutSpec) -> Communications:
    if spec.communications is None:
        raise LookupError("the spec has no communications section")
    return spec.communications


def identity(dut: BmsLink, spec: DutSpec, record: Recorder) -> DutIdentity:
    c = settings(spec)
    ident = dut.identity()
    carried = [f for f in IDENTITY_FIELDS if f not in ident.not_reported]
    empty = [f for f in carried if not str(getattr(ident, f) or "").strip()]
    shown = {f: getattr(ident, f) for f in IDENTITY_FIELDS}
    record(
        "identity_fields_missing",
        float(len(empty)),
        "fields",
        low=0.0,
        high=0.0,
        comparison="EQ",
        exact=True,
        clause=c.clause,
        evidence="dut",
        instrument="dut",
        context={"identity": shown, "not_reported": list(ident.not_reported)},
        note=(f"empty: {', '.join(empty)}; " if empty else "")
        + "; ".join(f"{f} {shown[f]!r}" for f in carried)
        + (f" (not carried: {', '.join(ident.not_reported)})" if ident.not_reported else ""),
    )
    if ident.cell_count:
        record(
            "identity_cell_count",
            float(ident.cell_count),
            "cells",
            low=float(spec.dut.cell_count),
            high=float(spec.dut.cell_count),
            comparison="EQ",
            exact=True,
            clause=c.clause,
            evidence="dut",
            instrument="dut",
            note=f"BMS reports {ident.cell_count} cells; spec {spec.dut.cell_count}",
        )
    for field, expected in c.identity.items():
        got = str(getattr(ident, field) or "")
        record.flag(
            f"identity_{field}",
            got == expected,
            clause=c.clause,
            instrument="dut",
            note=f"BMS reports {field} {got!r}; spec {expected!r}",
        )
    return ident


def _spec_values(spec: DutSpec) -> list[tuple[str, str, str, Limit]]:
    """(spec protection, spec field, setting field, limit) for every value the spec states."""
    out = []
    for name in type(spec.protections).model_fields:
        protection = getattr(spec.protections, name)
        if protection is None:
            continue
        for field in type(protection).model_fields:
            limit = getattr(protection, field)
            if not isinstance(limit, Limit):
                continue
            if field.startswith("threshold_"):
                target = "threshold"
            elif field == "release_delay_s":
                target = "release_delay_s"
            elif field.startswith("release_"):
                target = "release"
            elif field == "delay_s":
                target = "delay_s"
            else:
                continue
            out.append((name, field, target, limit))
    return out


def _unit(field: str) -> str:
    if field.endswith("_s"):
        return "s"
    for suffix, unit in FIELD_UNITS.items():
        if field.endswith(suffix):
            return unit
    raise LookupError(f"no unit for {field}")


def configuration(dut: BmsLink, spec: DutSpec, record: Recorder) -> None:
    """Each protection value the spec states, against what the BMS holds.

    A held setting is exact (digital, in the BMS's memory), so it is judged by the simple
    rule against the spec's own band, widened by half the BMS's coding step: a register
    that counts whole seconds can hold no delay nearer a 1.5..2.5 s band than 1.0 s, and
    a coded AFE setting's nearest code may lie up to half a step outside the band. A time
    is never judged below zero.
    """
    c = settings(spec)
    config = dut.read_protection_config()
    values = []
    for name, field, target, limit in _spec_values(spec):
        setting: ProtectionSetting | None = config.settings.get(CONFIG_NAMES.get(name, name))
        held = None if setting is None else getattr(setting, target)
        step = 0.0 if setting is None else setting.steps.get(target, 0.0)
        values.append((name, field, limit, held, step))
    not_held = [f"{name}.{field}" for name, field, _, value, _ in values if value is None]
    for name, field, limit, value, step in values:
        if value is None:
            continue  # the BMS holds no such setting: named in each record's context
        unit = _unit(field)
        low, high = limit.low - step / 2, limit.high + step / 2
        if unit == "s":
            low = max(low, 0.0)
        widened = f"; band widened by half its {step:g} {unit} step" if step else ""
        record(
            f"config_{name}_{field}",
            float(value),
            unit,
            low=low,
            high=high,
            nominal=limit.nominal,
            clause=c.clause,
            evidence="dut",
            instrument="dut",
            exact=True,
            context={
                "spec_field": f"protections.{name}.{field}",
                "spec_band": [limit.low, limit.high],
                "code_step": step or None,
                "not_held": not_held,
            },
            note=f"BMS holds {value:g} {unit}; spec {limit.low:g}..{limit.high:g} {unit}" + widened,
        )


def _timing_budget(resolution: float, samples: list[float]) -> list[Component]:
    budget = [rectangular("timestamp resolution", resolution / 2, f"{resolution:g} s stamps")]
    if len(samples) > 1:
        spread = statistics.stdev(samples) / math.sqrt(len(samples))
        budget.append(
            Component(
                "scatter of the intervals",
                spread,
                f"measured: standard deviation of the mean, n = {len(samples)} (type A)",
            )
        )
    return budget


def _host_budget(timing: LinkTiming) -> list[Component]:
    """An exchange is timed on this host's clock: its end is stamped when the reader
    wakes after the reply's last byte, up to the host's wake-up latency late (measured
    by the link on idle waits, its longest taken), to the clock's resolution."""
    late = max(timing.host_latency_s, default=0.0)
    waits = len(timing.host_latency_s)
    return [
        rectangular(
            "host wake-up latency", late, f"measured: longest of {waits} idle waits on the line"
        ),
        rectangular(
            "host clock resolution",
            timing.clock_resolution_s / 2,
            f"{timing.clock_resolution_s:g} s monotonic clock",
        ),
    ]


def link_timing(dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder) -> None:
    c = settings(spec)
    start = dut.link_timing()
    if start.kind == "request_reply":
        for _ in range(c.polls):
            dut.read_status()
            clock.sleep(spec.test_conditions.poll_period_s)
        timing = dut.link_timing()
        times = list(timing.since(start.total))
        worst = max(times) if times else None
        record(
            "link_response_time",
            worst,
            "s",
            low=None,
            high=c.response_time_s.high,
            comparison="LE",  # no reply comes before its request: only the upper limit judges
            nominal=c.response_time_s.nominal,
            clause=c.clause,
            budget=_host_budget(timing) if times else [],
            evidence="dut",
            instrument="dut",
            context={
                "exchanges": len(times),
                "polls": c.polls,
                "mean_s": statistics.fmean(times) if times else None,
                "host_latency_s": list(timing.host_latency_s),
            },
            note=f"longest of {len(times)} exchanges in {c.polls} status polls"
            + (f"; mean {statistics.fmean(times) * 1000:.3g} ms" if times else ": none timed"),
        )
        return
    period = c.broadcast_period_s.nominal
    # Status reads keep the link alive (keep-alive) and drain the bus as broadcasts come.
    for _ in range(c.broadcasts + 1):
        clock.sleep(period)
        dut.read_status()
    stamps = list(dut.link_timing().since(start.total))
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    mean = statistics.fmean(gaps) if gaps else None
    context = {"broadcasts": len(stamps), "intervals": [round(g, 6) for g in gaps]}
    record(
        "can_broadcast_period",
        mean,
        "s",
        low=c.broadcast_period_s.low,
        high=c.broadcast_period_s.high,
        nominal=period,
        clause=c.clause,
        budget=_timing_budget(TIMESTAMP_RESOLUTION_S, gaps) if gaps else [],
        evidence="dut",
        instrument="dut",
        context=context,
        note=f"mean of {len(gaps)} intervals between status broadcasts (bus timestamps)",
    )
    record(
        "can_broadcast_gap",
        max(gaps) if gaps else None,
        "s",
        low=c.broadcast_gap_s.low,
        high=c.broadcast_gap_s.high,
        nominal=c.broadcast_gap_s.nominal,
        clause=c.clause,
        budget=[
            rectangular(
                "timestamp resolution",
                TIMESTAMP_RESOLUTION_S,
                f"{TIMESTAMP_RESOLUTION_S:g} s bus timestamps (socketcand, SocketCAN)",
            )
        ]
        if gaps
        else [],
        evidence="dut",
        instrument="dut",
        context=context,
        note=f"longest of {len(gaps)} intervals between status broadcasts",
    )
