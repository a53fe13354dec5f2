"""Simulated SCPI instruments: real models' dialects over the lab's hardware objects.

``MODELS`` names every emulated model the way station files do; ``make_hardware``
builds the physical side, ``create_device`` the SCPI side bound to it.
"""

from __future__ import annotations

from collections.abc import Callable

from simlab.hardware import InstrumentHardware
from simlab.scpi.device import ScpiDevice
from simlab.scpi.errors import ScpiError
from simlab.scpi.models.ea_psb10000 import EaPSB10060_120
from simlab.scpi.models.fluke_5522a import Fluke5522A
from simlab.scpi.models.keysight_33500b import Keysight33522B
from simlab.scpi.models.keysight_34465a import Keysight34465A
from simlab.scpi.models.keysight_daq970a import KeysightDAQ970A
from simlab.scpi.models.keysight_e36234a import KeysightE36234A
from simlab.scpi.models.keysight_e36312a import KeysightE36312A
from simlab.scpi.models.keysight_el34143a import KeysightEL34143A
from simlab.scpi.models.keysight_n6705c import KeysightN6705C
from simlab.scpi.models.keysight_rp7900 import KeysightRP7952A
from simlab.scpi.models.ngi_n83624 import NgiN83624
from simlab.scpi.models.powertek_mc642 import PowertekMC642
from simlab.scpi.models.rigol_dg800 import RigolDG822
from simlab.scpi.models.rigol_dl3021 import RigolDL3021
from simlab.scpi.models.rigol_dp832 import RigolDP832
from simlab.scpi.models.rigol_ds1000z import RigolDS1104Z
from simlab.scpi.models.rigol_m300 import RigolM300
from simlab.scpi.models.siglent_sdl1020x import SiglentSDL1020X
from simlab.scpi.models.siglent_spd3303x import SiglentSPD3303X

MODELS: dict[str, type[ScpiDevice]] = {
    "Keysight E36234A": KeysightE36234A,
    "Keysight E36312A": KeysightE36312A,
    "Rigol DP832": RigolDP832,
    "Siglent SPD3303X": SiglentSPD3303X,
    "Rigol DL3021": RigolDL3021,
    "Siglent SDL1020X": SiglentSDL1020X,
    "Keysight EL34143A": KeysightEL34143A,
    "Keysight N6705C": KeysightN6705C,
    "NGI N83624": NgiN83624,
    # thermistor emulation, trip capture, short relay and fault insertion
    "Fluke 5522A": Fluke5522A,
    "Powertek MC642": PowertekMC642,
    "Keysight 34465A": Keysight34465A,
    "Rigol DS1104Z": RigolDS1104Z,
    "Keysight DAQ970A": KeysightDAQ970A,
    "Rigol M300": RigolM300,
    # current-sense emulation: a generator into the BMS's shunt input
    "Keysight 33522B": Keysight33522B,
    "Rigol DG822": RigolDG822,
    # regenerative two-quadrant sources: battery simulators, chargers and loads in one
    "Keysight RP7952A": KeysightRP7952A,
    "EA PSB 10060-120": EaPSB10060_120,
}

__all__ = ["MODELS", "ScpiDevice", "ScpiError", "create_device", "make_hardware"]


def _model_class(model: str) -> type[ScpiDevice]:
    try:
        return MODELS[model]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise ValueError(f"unknown SCPI model {model!r}; known: {known}") from None


def make_hardware(model: str, modules: list[str] | None = None) -> InstrumentHardware:
    """Empty hardware for ``model`` (``modules`` fills a mainframe's slots, N6705C only)."""
    return _model_class(model).build_hardware(modules)


def create_device(
    model: str, hardware: InstrumentHardware, serial: str, solve: Callable[[], None]
) -> ScpiDevice:
    """The SCPI side of ``model`` bound to ``hardware``; puts it in its power-on state."""
    return _model_class(model)(hardware, serial, solve)
