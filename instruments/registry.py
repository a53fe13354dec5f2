"""Station-file model names -> the one table of what the rig knows about each model.

One line per model: the driver class and the station role it fills. A station file
names a model by this key; adding a model is adding its line.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from instruments.scpi import DEFAULT_TIMEOUT_MS, ScpiInstrument, TranscriptEntry


@dataclass(frozen=True)
class Model:
    """What a station-file model name stands for.

    The driver is named as `module:Class` and imported the first time it is used: a run
    pays only for the models its station has (some build on PyMeasure packages whose
    import pulls in pandas, most of a second).
    """

    driver_path: str
    role: str  # power_supply | electronic_load | cell_emulator | thermistor_emulator |
    # digitizer | switch | function_generator | battery_simulator

    @property
    def driver(self) -> type[ScpiInstrument]:
        module, _, cls = self.driver_path.partition(":")
        return getattr(importlib.import_module(module), cls)


MODELS: dict[str, Model] = {
    "Keysight E36234A": Model(
        "instruments.power_supplies.keysight_e36234a:KeysightE36234A", "power_supply"
    ),
    "Keysight E36312A": Model(
        "instruments.power_supplies.keysight_e36312a:KeysightE36312A", "power_supply"
    ),
    "Rigol DP832": Model("instruments.power_supplies.rigol_dp832:RigolDP832", "power_supply"),
    "Siglent SPD3303X": Model(
        "instruments.power_supplies.siglent_spd3303x:SiglentSPD3303X", "power_supply"
    ),
    "Rigol DL3021": Model("instruments.loads.rigol_dl3021:RigolDL3021", "electronic_load"),
    "Siglent SDL1020X": Model(
        "instruments.loads.siglent_sdl1020x:SiglentSDL1020X", "electronic_load"
    ),
    "Keysight EL34143A": Model(
        "instruments.loads.keysight_el34143a:KeysightEL34143A", "electronic_load"
    ),
    "Keysight N6705C": Model(
        "instruments.cell_emulators.keysight_n6705c:KeysightN6705C", "cell_emulator"
    ),
    "NGI N83624": Model("instruments.cell_emulators.ngi_n83624:NgiN83624", "cell_emulator"),
    "Fluke 5522A": Model("instruments.thermistors.fluke_5522a:Fluke5522A", "thermistor_emulator"),
    "Powertek MC642": Model(
        "instruments.thermistors.powertek_mc642:PowertekMC642", "thermistor_emulator"
    ),
    "Keysight 34465A": Model("instruments.digitizers.keysight_34465a:Keysight34465A", "digitizer"),
    "Rigol DS1104Z": Model("instruments.digitizers.rigol_ds1000z:RigolDS1104Z", "digitizer"),
    "Keysight DAQ970A": Model("instruments.switches.keysight_daq970a:KeysightDAQ970A", "switch"),
    "Rigol M300": Model("instruments.switches.rigol_m300:RigolM300", "switch"),
    "Keysight 33522B": Model(
        "instruments.generators.keysight_33500b:Keysight33522B", "function_generator"
    ),
    "Rigol DG822": Model("instruments.generators.rigol_dg800:RigolDG822", "function_generator"),
    "Keysight RP7952A": Model(
        "instruments.battery_simulators.keysight_rp7900:KeysightRP7952A", "battery_simulator"
    ),
    "EA PSB 10060-120": Model(
        "instruments.battery_simulators.ea_psb10000:EaPSB10060_120", "battery_simulator"
    ),
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
