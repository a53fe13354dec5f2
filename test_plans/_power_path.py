"""The evidence of a trip: a small test current through the path the protection must cut.

A charge protection (over-voltage, charge over-current, charge temperature) is seen as the
charger's current stopping; a discharge protection as the load's current stopping. The
plan drives a small current through that path before the stimulus, so a BMS that only
*says* it opened its FET (a welded FET) is caught: the instruments still see current.
"""

from __future__ import annotations

from typing import Literal

from rig.config import DutSpec
from rig.station import Station

Path = Literal["charge", "discharge"]


class PowerPath:
    def __init__(
        self, station: Station, spec: DutSpec, path: Path, headroom_v: float | None = None
    ):
        tc = spec.test_conditions
        self.station, self.path = station, path
        self.current_a = (
            tc.charge_test_current_a if path == "charge" else tc.discharge_test_current_a
        )
        self.trip_below_a = tc.trip_current_fraction * self.current_a
        # the charger's CV above the pack (a charge-current stimulus needs more, see
        # `test_conditions.current.charge_headroom_v`)
        self.headroom_v = tc.charge_headroom_v if headroom_v is None else headroom_v
        self._pack_max = station.config.limits.pack_voltage.max

    @property
    def instrument(self) -> str:
        role = self.station.charger if self.path == "charge" else self.station.load
        return role.name

    @property
    def label(self) -> str:
        return "charger current" if self.path == "charge" else "load current"

    def start(self, highest_pack_v: float) -> None:
        """Start the test current; the charger's CV stays above the highest pack voltage
        the stimulus will reach, so only the BMS can stop the current."""
        if self.path == "charge":
            charger = self.station.charger
            charger.set_current_limit(self.current_a)
            charger.set_voltage(min(highest_pack_v + self.headroom_v, self._pack_max))
            charger.on()
        else:
            load = self.station.load
            load.set_current(self.current_a)
            load.on()

    def read(self) -> float:
        """The path's current as the instrument measures it (A, magnitude)."""
        if self.path == "charge":
            return abs(self.station.charger.measure_current())
        return abs(self.station.load.measure_current())

    def interrupted(self, amps: float) -> bool:
        return amps < self.trip_below_a

    def flowing(self, amps: float) -> bool:
        return not self.interrupted(amps)

    def stop(self) -> None:
        if self.path == "charge":
            self.station.charger.off()
        else:
            self.station.load.off()
