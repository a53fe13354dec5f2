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

from dut_drivers.base import BmsLink, DutIdentity, ProtectionSetting
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import Communications, ConfigTolerance, Limit
from rig.measure import Component, rectangular
from rig.plugin.fixtures import Recorder

# What a spec calls a protection, and the name a BMS's configuration uses for it.
CONFIG_NAMES = {"discharge_oc1": "discharge_oc"}
# Spec field (by its name) -> (ProtectionSetting field, tolerance field, unit).
FIELD_UNITS = {"_v": ("voltage_v", "V"), "_a": ("current_a", "A"), "_c": ("temperature_c", "°C")}
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


def _tolerance(tol: ConfigTolerance, field: str) -> tuple[float, str]:
    if field.endswith("_s"):
        return tol.time_s, "s"
    for suffix, (name, unit) in FIELD_UNITS.items():
        if field.endswith(suffix):
            return getattr(tol, name), unit
    raise LookupError(f"no tolerance for {field}")


def configuration(dut: BmsLink, spec: DutSpec, record: Recorder) -> None:
    """Each protection value the spec states, against what the BMS holds."""
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
        tol, unit = _tolerance(c.config_tolerance, field)
        # a coded setting (an AFE table) is right when it is the code nearest the spec
        tol = max(tol, step / 2)
        record(
            f"config_{name}_{field}",
            float(value),
            unit,
            low=limit.nominal - tol,
            high=limit.nominal + tol,
            nominal=limit.nominal,
            clause=c.clause,
            evidence="dut",
            instrument="dut",
            context={
                "spec_field": f"protections.{name}.{field}",
                "tolerance": tol,
                "code_step": step or None,
                "not_held": not_held,
            },
            note=f"BMS holds {value:g} {unit}; spec nominal {limit.nominal:g} {unit} ± {tol:g}"
            + (f" (held in coded steps of {step:g} {unit}: half a step)" if step else ""),
        )


def _timing_budget(resolution: float, samples: list[float]) -> list[Component]:
    budget = [rectangular("timestamp resolution", resolution / 2, f"{resolution:g} s stamps")]
    if len(samples) > 1:
        spread = statistics.stdev(samples) / math.sqrt(len(samples))
        budget.append(Component("scatter of the intervals (type A)", spread, f"n = {len(samples)}"))
    return budget


def link_timing(dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder) -> None:
    c = settings(spec)
    start = dut.link_timing()
    if start.kind == "request_reply":
        for _ in range(c.polls):
            dut.read_status()
            clock.sleep(spec.test_conditions.poll_period_s)
        times = list(dut.link_timing().since(start.total))
        worst = max(times) if times else None
        record(
            "link_response_time",
            worst,
            "s",
            low=c.response_time_s.low,
            high=c.response_time_s.high,
            nominal=c.response_time_s.nominal,
            clause=c.clause,
            evidence="dut",
            instrument="dut",
            context={
                "exchanges": len(times),
                "polls": c.polls,
                "mean_s": statistics.fmean(times) if times else None,
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
        budget=[rectangular("timestamp resolution", TIMESTAMP_RESOLUTION_S)] if gaps else [],
        evidence="dut",
        instrument="dut",
        context=context,
        note=f"longest of {len(gaps)} intervals between status broadcasts",
    )
