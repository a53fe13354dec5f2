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

    @property
    def shared(self) -> bool:
        """One regenerative source is both the charger and the load: it drives one path
        at a time."""
        w = self.station.config.wiring
        return w.charger is not None and w.charger == w.load

    def start(self, highest_pack_v: float) -> None:
        """Start the test current; the charger's CV stays above the highest pack voltage
        the stimulus will reach, so only the BMS can stop the current.

        On a source that is both charger and load, starting this path takes the source
        from the path that had it; stopping this one gives it back (a plan that checks
        the other path at a trip finds its own path as it left it)."""
        self._start(highest_pack_v)
        if self.shared:
            stack = self.station.shared_paths
            stack[:] = [e for e in stack if e[0] is not self] + [(self, highest_pack_v)]

    def _start(self, highest_pack_v: float) -> None:
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
        if self.shared:
            stack = self.station.shared_paths
            stack[:] = [e for e in stack if e[0] is not self]
            if stack:  # the path this one took the source from, as it was
                previous, highest = stack[-1]
                previous._start(highest)


def open_pack(station: Station, amps: float | None = None) -> None:
    """Where a battery simulator stands in for the pack, open its limits to `amps` (None:
    all the station allows, a short's supply) before a stimulus drives that much through
    it; its safe state keeps them low."""
    if station.config.wiring.pack is not None:
        pack = station.pack
        pack.carry(pack.max_current_a if amps is None else amps)


def pack_ceiling(station: Station, spec: DutSpec) -> float:
    """The pack voltage a charger's CV should sit above: the emulated cells' setpoints,
    or for a real module (whose voltage moves with its charge) every cell just below its
    over-voltage release, where no cell protection trips."""
    if station.config.wiring.cells:
        return station.cells.pack_setpoint()
    return spec.dut.cell_count * spec.protections.cell_ov.release_v.low
