"""The table-driven protection engine.

A protection is a row: which JBD status bit it reports, what it watches (every cell
reading, the pack reading, the charge or discharge current, the NTC temperatures),
whether it trips above or below its threshold, which FET it opens, who acts on it (the
firmware at its scans, or the analogue front end in hardware) and how it recovers.

Delay semantics of a scan-based protection, as a scan-based BMS behaves: a condition is
first seen at a scan; the protection trips at the first scan where (scan time − first-
seen time) ≥ delay; a scan that does not meet the condition resets the timer. Release
works the same way with the release threshold and release delay ("level" recovery), or
after a recovery time from the trip ("timer"), or once the charger has been gone for the
release delay ("charger_removed"). A latching protection never releases by itself; only
a power cycle of the board clears it.

Front-end (AFE) protections — the short circuit and the second discharge over-current
level — trip in hardware, independently of the scan: the simulation core finds the
instant the current has exceeded the threshold for the delay and calls `afe_trip`; the
firmware reports the flag at its next scan and releases it by its recovery rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Literal

from simlab.firmware.defects import DefectSet

EPS = 1e-9  # readings and times are decimal quantities stored in binary floats

Source = Literal[
    "cell",
    "pack",
    "charge_current",
    "discharge_current",
    "temperature",
    "cell_spread",  # the highest cell reading minus the lowest (imbalance)
    "fet_temperature",  # the board's own sensor on its FETs
    "open_wire",  # 1 for each sense lead the front end's open-wire check finds open
    "ntc_fault",  # 1 for each NTC input read beyond its curve's range (open or shorted)
]
Recovery = Literal["level", "timer", "charger_removed"]


@dataclass
class ProtectionParams:
    """A voltage protection, addressable as `firmware.<name>.<field>` (V, s)."""

    threshold_v: float
    delay_s: float
    release_v: float
    release_delay_s: float = 0.0
    latching: bool = False

    @property
    def threshold(self) -> float:
        return self.threshold_v

    @property
    def release(self) -> float:
        return self.release_v


@dataclass
class CurrentParams:
    """A discharge over-current or short-circuit protection (A, s): released a recovery
    time (`release_delay_s`) after the trip unless latching."""

    threshold_a: float
    delay_s: float
    release_delay_s: float = 32.0
    latching: bool = False

    @property
    def threshold(self) -> float:
        return self.threshold_a

    @property
    def release(self) -> float:
        return 0.0


@dataclass
class ChargeCurrentParams(CurrentParams):
    """Charge over-current: `recovery` "delay" (auto after release_delay_s) or
    "charger_removed" (once no charger has been seen for release_delay_s)."""

    recovery: str = "delay"


@dataclass
class TemperatureParams:
    """A temperature protection (°C, s), released past `release_c` (the hysteresis)."""

    threshold_c: float
    delay_s: float
    release_c: float
    release_delay_s: float = 2.0
    latching: bool = False

    @property
    def threshold(self) -> float:
        return self.threshold_c

    @property
    def release(self) -> float:
        return self.release_c


@dataclass
class FaultParams:
    """A fault the board diagnoses on its own wiring and sensors (an open sense lead, an
    NTC line open or shorted): it acts once the fault has been seen for `delay_s` and
    releases once it has been gone for `release_delay_s`."""

    delay_s: float = 1.0
    release_delay_s: float = 1.0
    latching: bool = False

    @property
    def threshold(self) -> float:
        return 0.5  # the condition's value is 1 (seen) or 0 (not)

    @property
    def release(self) -> float:
        return 0.5


Params = ProtectionParams | CurrentParams | TemperatureParams | FaultParams


@dataclass(frozen=True)
class ProtectionRow:
    name: str
    bit: int  # JBD protection-status bit (PROTECTION_BITS[bit] is the reported name)
    source: Source
    over: bool  # True: trips at/above threshold; False: at/below
    fet: Literal["charge", "discharge", "both"]
    defaults: Params
    engine: Literal["scan", "afe"] = "scan"
    recovery: Recovery = "level"

    @property
    def reported(self) -> str:
        return PROTECTION_BITS[self.bit]


# A 16S LFP board of the JBD class with a BQ769x0-style front end, sized to the bench:
# cell limits as LFP packs set them, the pack limits inside N x the cell limits (3.60 /
# 2.60 V a cell) so the pack protects before any single cell does; OCC 8 A / 2 s and
# OCD1 20 A / 1 s in the firmware (32 s recovery, the JBD default); OCD2 30 A / 200 ms
# and SCD 150 A / 200 µs in the front end (recovery 32 s and 5 s); temperatures per the
# LFP practice of the BQ76952 defaults: charge 0..50 °C, discharge -20..60 °C, 5 °C
# hysteresis, 2 s delays.
TABLE: list[ProtectionRow] = [
    ProtectionRow("cell_ov", 0, "cell", True, "charge", ProtectionParams(3.650, 2.0, 3.400)),
    ProtectionRow("cell_uv", 1, "cell", False, "discharge", ProtectionParams(2.500, 2.0, 2.900)),
    ProtectionRow("pack_ov", 2, "pack", True, "charge", ProtectionParams(57.60, 2.0, 54.40)),
    ProtectionRow("pack_uv", 3, "pack", False, "discharge", ProtectionParams(41.60, 2.0, 46.40)),
    ProtectionRow(
        "charge_ot", 4, "temperature", True, "charge", TemperatureParams(50.0, 2.0, 45.0)
    ),
    ProtectionRow("charge_ut", 5, "temperature", False, "charge", TemperatureParams(0.0, 2.0, 5.0)),
    ProtectionRow(
        "discharge_ot", 6, "temperature", True, "discharge", TemperatureParams(60.0, 2.0, 55.0)
    ),
    ProtectionRow(
        "discharge_ut",
        7,
        "temperature",
        False,
        "discharge",
        TemperatureParams(-20.0, 2.0, -15.0),
    ),
    ProtectionRow(
        "charge_oc",
        8,
        "charge_current",
        True,
        "charge",
        ChargeCurrentParams(8.0, 2.0, 32.0),
        recovery="timer",
    ),
    ProtectionRow(
        "discharge_oc1",
        9,
        "discharge_current",
        True,
        "discharge",
        CurrentParams(20.0, 1.0, 32.0),
        recovery="timer",
    ),
    ProtectionRow(
        "discharge_oc2",
        9,
        "discharge_current",
        True,
        "discharge",
        CurrentParams(30.0, 0.2, 32.0),
        engine="afe",
        recovery="timer",
    ),
    ProtectionRow(
        "short_circuit",
        10,
        "discharge_current",
        True,
        "discharge",
        CurrentParams(150.0, 200e-6, 5.0),
        engine="afe",
        recovery="timer",
    ),
    # Beyond JBD's thirteen bits (Daly and JK report these; a JBD board acts on them
    # without a bit to say so): cells drifted apart (charging stops until the spread
    # falls back), the board's own FETs too hot (both paths cut), and the faults it
    # diagnoses on its inputs: an open sense lead or an NTC line open or shorted, each
    # cutting both paths, as a reading it cannot trust protects nothing.
    ProtectionRow(
        "cell_imbalance", 13, "cell_spread", True, "charge", ProtectionParams(0.500, 5.0, 0.300)
    ),
    ProtectionRow(
        "fet_ot", 14, "fet_temperature", True, "both", TemperatureParams(90.0, 2.0, 70.0)
    ),
    ProtectionRow("sense_wire_open", 15, "open_wire", True, "both", FaultParams(1.0, 1.0)),
    ProtectionRow("temp_sensor_fault", 16, "ntc_fault", True, "both", FaultParams(1.0, 1.0)),
]

ROWS: dict[str, ProtectionRow] = {row.name: row for row in TABLE}

# JBD bit order of every status bit, including those no row implements.
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
    # not in JBD's protocol (its servers send the thirteen above only)
    "cell_imbalance",
    "fet_ot",
    "sense_wire_open",
    "temp_sensor_fault",
]
JBD_BITS = 13  # JBD's protection status word carries bits 0..12


@dataclass
class ProtectionState:
    active: bool = False
    first_seen: float | None = None  # scan time the trip condition was first seen
    release_seen: float | None = None  # scan time the release condition was first seen
    tripped_at: float | None = None
    afe_since: float | None = None  # front end: since when the comparator has seen it


_READING = itemgetter(1)  # of a (channel, reading) pair


@dataclass
class Protection:
    row: ProtectionRow
    params: Params
    state: ProtectionState = field(default_factory=ProtectionState)

    def recovery(self) -> Recovery:
        if isinstance(self.params, ChargeCurrentParams) and self.params.recovery != "delay":
            return "charger_removed"
        return self.row.recovery

    def threshold(self, defects: DefectSet) -> float:
        offset = defects.threshold_offset(self.row.name) if defects.active else 0.0
        return self.params.threshold + offset

    def delay(self, defects: DefectSet) -> float:
        return self.params.delay_s * defects.delay_factor(self.row.name)

    def evaluate(
        self,
        t: float,
        values: list[tuple[int | None, float]],
        defects: DefectSet,
        charger_present: bool = False,
    ) -> dict[str, object] | None:
        """Run one scan at time `t` on (channel, reading) pairs; return an event or None."""
        row, p, st = self.row, self.params, self.state
        if not values or (row.engine == "afe" and not st.active):
            st.first_seen = None  # the front end's trip is found between scans
            return None
        threshold = self.threshold(defects)
        if len(values) == 1:
            channel, value = values[0]
        else:
            pick = max if row.over else min
            channel, value = pick(values, key=_READING)
        tripping = value >= threshold - EPS if row.over else value <= threshold + EPS

        if not st.active:
            if not tripping:
                st.first_seen = None
                return None
            if st.first_seen is None:
                st.first_seen = t
            if t - st.first_seen >= self.delay(defects) - EPS:
                self._trip(t)
                return _event(t, "trip", row.name, channel, value)
            return None
        release = threshold if defects.no_hysteresis(row.name) else p.release
        past_release = value < release - EPS if row.over else value > release + EPS
        return self._release(t, channel, value, past_release, defects, charger_present)

    def _trip(self, t: float) -> None:
        st = self.state
        st.active, st.first_seen, st.release_seen, st.tripped_at = True, None, None, t
        st.afe_since = None

    def _release(
        self,
        t: float,
        channel: int | None,
        value: float,
        past_release: bool,
        defects: DefectSet,
        charger_present: bool,
    ) -> dict[str, object] | None:
        row, p, st = self.row, self.params, self.state
        if p.latching or defects.latches(row.name) or defects.blocks_release(row.name):
            st.release_seen = None
            return None
        mode = self.recovery()
        if mode == "timer":
            assert st.tripped_at is not None
            if t - st.tripped_at < p.release_delay_s - EPS:
                return None
        else:
            releasing = past_release if mode == "level" else not charger_present
            if not releasing:
                st.release_seen = None
                return None
            if st.release_seen is None:
                st.release_seen = t
            if t - st.release_seen < p.release_delay_s - EPS:
                return None
        st.active, st.release_seen, st.tripped_at = False, None, None
        return _event(t, "release", row.name, channel, value)

    def afe_trip(self, t: float, value: float) -> dict[str, object]:
        """The front end has seen the condition for its delay: open the FET now."""
        self._trip(t)
        return _event(t, "trip", self.row.name, None, value)


def _event(t: float, kind: str, name: str, cell: int | None, value: float) -> dict[str, object]:
    return {"t": t, "kind": kind, "protection": name, "cell": cell, "value": round(value, 6)}
