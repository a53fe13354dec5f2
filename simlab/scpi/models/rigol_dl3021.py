"""Rigol DL3021 DC electronic load: 150 V / 40 A / 200 W, one input.

Mode is set by ``:SOUR:FUNC CURR|VOLT|RES|POW`` and read back as ``CC|CV|CR|CP``; each
mode has its own level. Ranges follow the DL3000 programming guide (CR 0.08 Ω–15 kΩ;
the 4 A low current range is folded into the 40 A one).
"""

from __future__ import annotations

from collections.abc import Callable

from simlab.hardware import InstrumentHardware, LoadInput
from simlab.scpi import params as p
from simlab.scpi.device import Command, ScpiDevice, command, measure, opt

MODES = {"CURRENT": "CC", "VOLTAGE": "CV", "RESISTANCE": "CR", "POWER": "CP"}
# mode -> (LoadInput field, low, high, *RST value)
LEVELS: dict[str, tuple[str, float, float, float]] = {
    "CC": ("current_set", 0.0, 40.0, 0.0),
    "CV": ("voltage_set", 0.0, 150.0, 0.0),
    "CR": ("resistance_set", 0.08, 15000.0, 1000.0),
    "CP": ("power_set", 0.0, 200.0, 0.0),
}
MODE_WORDS = ("CURRent", "VOLTage", "RESistance", "POWer")
OPEN_CIRCUIT_OHMS = 9.9e37  # reported resistance when no current flows


def _level(mode: str) -> tuple[Callable[..., None], Callable[..., str]]:
    """Setter and query for one mode's level, range-checked against LEVELS."""
    name, low, high, default = LEVELS[mode]

    def setter(dev: ScpiDevice, value: float | str) -> None:
        setattr(dev.load(), name, p.resolve(value, low, high, default))

    def getter(dev: ScpiDevice, limit: str | None) -> str:
        if limit:
            return dev.fmt(p.resolve(limit, low, high, default))
        return dev.fmt(getattr(dev.load(), name))

    return setter, getter


def _level_commands() -> tuple[Command, ...]:
    lines: list[Command] = []
    for mnemonic, mode in (
        ("CURRent", "CC"),
        ("VOLTage", "CV"),
        ("RESistance", "CR"),
        ("POWer", "CP"),
    ):
        setter, getter = _level(mode)
        pattern = f"[SOURce:]{mnemonic}[:LEVel][:IMMediate]"
        lines.append(command(pattern, setter, p.numeric))
        lines.append(command(pattern + "?", getter, opt(p.limit_word)))
    return tuple(lines)


class RigolDL3021(ScpiDevice):
    VENDOR = "RIGOL TECHNOLOGIES"
    MODEL = "DL3021"
    FIRMWARE = "00.01.05.00.01"
    NUMBER_FORMAT = "{:.6f}"
    INT_FORMAT = "{:d}"

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        if modules:
            raise ValueError("the DL3021 has no modules")
        return InstrumentHardware("Rigol DL3021", loads={1: LoadInput()})

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        if sorted(hardware.loads) != [1]:
            raise ValueError(f"DL3021 needs loads [1], got {sorted(hardware.loads)}")

    def reset_state(self) -> None:
        load = self.load()
        load.mode = "CC"
        load.input_on = False
        for name, _low, _high, default in LEVELS.values():
            setattr(load, name, default)

    def set_function(self, mode: str) -> None:
        self.load().mode = MODES[mode]

    def get_function(self) -> str:
        return self.load().mode

    def set_input(self, state: bool) -> None:
        self.load().input_on = state

    def get_input(self) -> str:
        return "1" if self.load().input_on else "0"

    def meas_voltage(self) -> str:
        return self.fmt(self.load().voltage_meas)

    def meas_current(self) -> str:
        return self.fmt(self.load().current_meas)

    def meas_power(self) -> str:
        load = self.load()
        return self.fmt(load.voltage_meas * load.current_meas)

    def meas_resistance(self) -> str:
        load = self.load()
        if abs(load.current_meas) < 1e-9:
            return f"{OPEN_CIRCUIT_OHMS:.6E}"
        return self.fmt(load.voltage_meas / load.current_meas)

    COMMANDS = (
        command("[SOURce:]FUNCtion", set_function, p.choice(*MODE_WORDS)),
        command("[SOURce:]FUNCtion?", get_function),
        *_level_commands(),
        command("[SOURce:]INPut[:STATe]", set_input, p.boolean),
        command("[SOURce:]INPut[:STATe]?", get_input),
        measure("MEASure:VOLTage[:DC]?", meas_voltage),
        measure("MEASure:CURRent[:DC]?", meas_current),
        measure("MEASure:POWer[:DC]?", meas_power),
        measure("MEASure:RESistance[:DC]?", meas_resistance),
    )
