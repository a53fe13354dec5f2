"""The station: instruments opened from the station file, presented to plans as roles."""

from rig.station.roles import Cells, Charger, Load, RoleNotFitted
from rig.station.station import Station

__all__ = ["Cells", "Charger", "Load", "RoleNotFitted", "Station"]
