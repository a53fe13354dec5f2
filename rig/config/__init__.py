"""Station and DUT-spec files: loaded from YAML, validated, with errors naming file and field."""

from rig.config.errors import ConfigError
from rig.config.loader import load_spec, load_station
from rig.config.spec import DutSpec
from rig.config.station import ChannelRef, StationConfig

__all__ = ["ChannelRef", "ConfigError", "DutSpec", "StationConfig", "load_spec", "load_station"]
