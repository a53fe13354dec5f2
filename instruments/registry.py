"""Station-file model names → driver classes and the role each model fills."""

from __future__ import annotations

from typing import Any

from instruments.cell_emulators.keysight_n6705c import KeysightN6705C
from instruments.loads.rigol_dl3021 import RigolDL3021
from instruments.power_supplies.keysight_e36234a import KeysightE36234A
from instruments.scpi import DEFAULT_TIMEOUT_MS, ScpiInstrument, TranscriptEntry

MODELS: dict[str, type[ScpiInstrument]] = {
    "Keysight E36234A": KeysightE36234A,
    "Rigol DL3021": RigolDL3021,
    "Keysight N6705C": KeysightN6705C,
}

ROLE_OF: dict[str, str] = {
    "Keysight E36234A": "power_supply",
    "Rigol DL3021": "electronic_load",
    "Keysight N6705C": "cell_emulator",
}


def driver_for(model: str) -> type[ScpiInstrument]:
    """The driver class for a station-file model name."""
    try:
        return MODELS[model]
    except KeyError:
        raise KeyError(f"unknown instrument model {model!r}; known: {sorted(MODELS)}") from None


def open_instrument(
    model: str,
    resource: str,
    name: str,
    transcript: list[TranscriptEntry] | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    accuracy: Any = None,
    **kwargs: Any,
) -> ScpiInstrument:
    """Open `resource` (any VISA resource string) with the driver for `model`.

    `accuracy` is the station file's certificate block for this instrument (quantity ->
    entries); it replaces the datasheet figures quantity by quantity.
    """
    cls = driver_for(model)
    return cls(
        resource, name=name, transcript=transcript, timeout=timeout_ms, accuracy=accuracy, **kwargs
    )
