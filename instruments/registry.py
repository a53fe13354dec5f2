"""Station-file model names -> the one table of what the rig knows about each model.

One line per model: the driver class and the station role it fills. A station file
names a model by this key; adding a model is adding its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from instruments.cell_emulators.keysight_n6705c import KeysightN6705C
from instruments.cell_emulators.ngi_n83624 import NgiN83624
from instruments.digitizers.keysight_34465a import Keysight34465A
from instruments.digitizers.rigol_ds1000z import RigolDS1104Z
from instruments.loads.keysight_el34143a import KeysightEL34143A
from instruments.loads.rigol_dl3021 import RigolDL3021
from instruments.loads.siglent_sdl1020x import SiglentSDL1020X
from instruments.power_supplies.keysight_e36234a import KeysightE36234A
from instruments.power_supplies.keysight_e36312a import KeysightE36312A
from instruments.power_supplies.rigol_dp832 import RigolDP832
from instruments.power_supplies.siglent_spd3303x import SiglentSPD3303X
from instruments.scpi import DEFAULT_TIMEOUT_MS, ScpiInstrument, TranscriptEntry
from instruments.switches.keysight_daq970a import KeysightDAQ970A
from instruments.switches.rigol_m300 import RigolM300
from instruments.thermistors.fluke_5522a import Fluke5522A
from instruments.thermistors.powertek_mc642 import PowertekMC642


@dataclass(frozen=True)
class Model:
    """What a station-file model name stands for."""

    driver: type[ScpiInstrument]
    role: str  # power_supply | electronic_load | cell_emulator | thermistor_emulator |
    # digitizer | switch


MODELS: dict[str, Model] = {
    "Keysight E36234A": Model(KeysightE36234A, "power_supply"),
    "Keysight E36312A": Model(KeysightE36312A, "power_supply"),
    "Rigol DP832": Model(RigolDP832, "power_supply"),
    "Siglent SPD3303X": Model(SiglentSPD3303X, "power_supply"),
    "Rigol DL3021": Model(RigolDL3021, "electronic_load"),
    "Siglent SDL1020X": Model(SiglentSDL1020X, "electronic_load"),
    "Keysight EL34143A": Model(KeysightEL34143A, "electronic_load"),
    "Keysight N6705C": Model(KeysightN6705C, "cell_emulator"),
    "NGI N83624": Model(NgiN83624, "cell_emulator"),
    "Fluke 5522A": Model(Fluke5522A, "thermistor_emulator"),
    "Powertek MC642": Model(PowertekMC642, "thermistor_emulator"),
    "Keysight 34465A": Model(Keysight34465A, "digitizer"),
    "Rigol DS1104Z": Model(RigolDS1104Z, "digitizer"),
    "Keysight DAQ970A": Model(KeysightDAQ970A, "switch"),
    "Rigol M300": Model(RigolM300, "switch"),
}


def model(name: str) -> Model:
    """The table line for a station-file model name."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown instrument model {name!r}; known: {sorted(MODELS)}") from None


def driver_for(name: str) -> type[ScpiInstrument]:
    """The driver class for a station-file model name."""
    return model(name).driver


def role_of(name: str) -> str:
    """The station role a model fills (power_supply, electronic_load, cell_emulator, ...)."""
    return model(name).role


def open_instrument(
    model_name: str,
    resource: str,
    name: str,
    transcript: list[TranscriptEntry] | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    accuracy: Any = None,
    **kwargs: Any,
) -> ScpiInstrument:
    """Open `resource` (any VISA resource string) with the driver for `model_name`.

    `accuracy` is the station file's certificate block for this instrument (quantity ->
    entries); it replaces the datasheet figures quantity by quantity.
    """
    cls = driver_for(model_name)
    return cls(
        resource, name=name, transcript=transcript, timeout=timeout_ms, accuracy=accuracy, **kwargs
    )
