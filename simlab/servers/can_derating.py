"""What the simulated CAN BMS asks of its inverter: the derating table and the lost link.

A BMS on an inverter's CAN bus broadcasts the charge and discharge currents it allows
(0x351). It lowers them with temperature (cold cells take little charge, hot ones
little of anything) and state of charge (a full pack takes little charge, an empty one
gives little), asking for the lower of the two; a tripped path asks for 0 A whatever the
table says. Each band is [low, high): (charge A, discharge A), on every valid NTC
reading (the lowest limit of any wins).

The inverter's keep-alive (0x305) says it is listening. Once none has come for
`bms.can.keepalive_timeout_s` of the lab's time, the BMS asks for no charge current and
raises its internal-communication warning (0x359 byte 3 bit 3), until keep-alives come
again. The defects `derating_ignored` and `lost_link_unsignalled` are the firmware that
skips either.
"""

from __future__ import annotations

from dataclasses import dataclass

from simlab.firmware.diagnostics import NTC_INVALID_C

Band = tuple[float, float, float, float]  # low, high, charge A, discharge A

# The table of a 100 A LFP pack (the default spec's `inverter_limits`).
BY_TEMPERATURE: tuple[Band, ...] = (
    (-40.0, 0.0, 0.0, 20.0),
    (0.0, 10.0, 10.0, 100.0),
    (10.0, 45.0, 50.0, 100.0),
    (45.0, 50.0, 20.0, 100.0),
    (50.0, 55.0, 0.0, 50.0),
    (55.0, 121.0, 0.0, 0.0),
)
BY_SOC: tuple[Band, ...] = (
    (0.0, 10.0, 50.0, 20.0),
    (10.0, 90.0, 50.0, 100.0),
    (90.0, 101.0, 20.0, 100.0),
)


def _lookup(table: tuple[Band, ...], value: float) -> tuple[float, float]:
    for low, high, charge, discharge in table:
        if low <= value < high:
            return charge, discharge
    return 0.0, 0.0  # beyond the table: nothing allowed


@dataclass
class LinkWatch:
    """When the inverter was last heard (lab time)."""

    last_heard: float = 0.0

    def lost(self, t: float, timeout_s: float) -> bool:
        return timeout_s > 0 and t - self.last_heard >= timeout_s


def limits(
    status: object,
    charge_max_a: float,
    discharge_max_a: float,
    derate: bool,
    link_lost: bool,
) -> tuple[float, float, bool]:
    """(charge A, discharge A, warn internal comm) the BMS asks for now."""
    charge = charge_max_a if status.charge_fet else 0.0  # type: ignore[attr-defined]
    discharge = discharge_max_a if status.discharge_fet else 0.0  # type: ignore[attr-defined]
    if derate:
        temps = [t for t in status.temps_c if t != NTC_INVALID_C]  # type: ignore[attr-defined]
        for t in temps:
            c, d = _lookup(BY_TEMPERATURE, t)
            charge, discharge = min(charge, c), min(discharge, d)
        c, d = _lookup(BY_SOC, float(status.soc_pct))  # type: ignore[attr-defined]
        charge, discharge = min(charge, c), min(discharge, d)
    if link_lost:
        charge = 0.0
    return charge, discharge, link_lost
