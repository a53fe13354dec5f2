"""The table-driven protection engine.

A protection is a row: which JBD status bit it sets, what it watches (every cell reading
or the pack reading), whether it trips above or below its threshold, and which FET it
opens. New protections (over-current, temperature) plug in as rows with their own source.

Delay semantics, as a scan-based BMS behaves: a condition is first seen at a scan; the
protection trips at the first scan where (scan time − first-seen time) ≥ delay; a scan
that does not meet the condition resets the timer. Release works the same way with the
release threshold and release delay. A latching protection never releases by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from simlab.firmware.defects import DefectSet

EPS = 1e-9  # readings and times are decimal quantities stored in binary floats


@dataclass
class ProtectionParams:
    """Tunable per protection, addressable as `firmware.<name>.<field>`."""

    threshold_v: float
    delay_s: float
    release_v: float
    release_delay_s: float = 0.0
    latching: bool = False


@dataclass(frozen=True)
class ProtectionRow:
    name: str
    bit: int  # JBD protection-status bit
    source: Literal["cell", "pack"]
    over: bool  # True: trips at/above threshold; False: at/below
    fet: Literal["charge", "discharge"]
    defaults: ProtectionParams


# JBD-class 16S LFP board defaults. The pack limits sit inside N x the cell limits
# (3.60 / 2.60 V a cell), as a pack configured to protect before any single cell does.
TABLE: list[ProtectionRow] = [
    ProtectionRow("cell_ov", 0, "cell", True, "charge", ProtectionParams(3.650, 2.0, 3.400)),
    ProtectionRow("cell_uv", 1, "cell", False, "discharge", ProtectionParams(2.500, 2.0, 2.900)),
    ProtectionRow("pack_ov", 2, "pack", True, "charge", ProtectionParams(57.60, 2.0, 54.40)),
    ProtectionRow("pack_uv", 3, "pack", False, "discharge", ProtectionParams(41.60, 2.0, 46.40)),
]

# JBD bit order of every status bit, including those no row implements yet.
PROTECTION_BITS: list[str] = [
    "cell_ov",
    "cell_uv",
    "pack_ov",
    "pack_uv",
    "charge_ot",
    "charge_ut",
    "discharge_ot",
    "discharge_ut",
    "charge_oc",
    "discharge_oc",
    "short_circuit",
    "afe_error",
    "fet_lock",
]


@dataclass
class ProtectionState:
    active: bool = False
    first_seen: float | None = None  # scan time the trip condition was first seen
    release_seen: float | None = None  # scan time the release condition was first seen


@dataclass
class Protection:
    row: ProtectionRow
    params: ProtectionParams
    state: ProtectionState = field(default_factory=ProtectionState)

    def evaluate(
        self, t: float, values: list[tuple[int | None, float]], defects: DefectSet
    ) -> dict[str, object] | None:
        """Run one scan at time `t` on (cell, reading) pairs; return an event or None."""
        row, p, st = self.row, self.params, self.state
        if not values:
            st.first_seen = None
            return None
        threshold = p.threshold_v + defects.threshold_offset(row.name)
        if row.over:
            cell, value = max(values, key=lambda cv: cv[1])
            tripping = value >= threshold - EPS
            releasing = value < p.release_v - EPS
        else:
            cell, value = min(values, key=lambda cv: cv[1])
            tripping = value <= threshold + EPS
            releasing = value > p.release_v + EPS

        if not st.active:
            if not tripping:
                st.first_seen = None
                return None
            if st.first_seen is None:
                st.first_seen = t
            delay = p.delay_s * defects.delay_factor(row.name)
            if t - st.first_seen >= delay - EPS:
                st.active, st.first_seen, st.release_seen = True, None, None
                return _event(t, "trip", row.name, cell, value)
            return None

        if not releasing or p.latching or defects.blocks_release(row.name):
            st.release_seen = None
            return None
        if st.release_seen is None:
            st.release_seen = t
        if t - st.release_seen >= p.release_delay_s - EPS:
            st.active, st.release_seen = False, None
            return _event(t, "release", row.name, cell, value)
        return None


def _event(t: float, kind: str, name: str, cell: int | None, value: float) -> dict[str, object]:
    return {"t": t, "kind": kind, "protection": name, "cell": cell, "value": round(value, 6)}
