"""What every simulated DC electronic load shares: a mode, one level per mode, the input
relay, short mode, slew, current range and the meters.

The model's state is kept here and written to the hardware (``LoadInput``) as the
physics should see it: in short mode the input sinks the full current of its present
range, whatever mode and level the user set, and both come back when short mode ends.
A model subclasses ``LoadTwin``, states its ranges and writes its command table.
Handlers take an optional trailing channel list so single-channel models that accept
``(@1)`` (Keysight EL30000) use them unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from simlab.hardware import InstrumentHardware, LoadInput
from simlab.scpi import params as p
from simlab.scpi.device import Command, ScpiDevice, command, opt
from simlab.scpi.errors import ScpiError

MODES = ("CC", "CV", "CR", "CP")
# the hardware field each mode's level drives
FIELDS = {"CC": "current_set", "CV": "voltage_set", "CR": "resistance_set", "CP": "power_set"}
# a FUNC parameter, long form upper-cased by p.choice, -> mode
FUNCTION_MODES = {"CURRENT": "CC", "VOLTAGE": "CV", "RESISTANCE": "CR", "POWER": "CP"}
FUNCTION_WORDS = ("CURRent", "VOLTage", "RESistance", "POWer")
OPEN_CIRCUIT_OHMS = 9.9e37  # what a meter reports as resistance when no current flows


class LoadTwin(ScpiDevice):
    """Base of simulated electronic loads (one input, channel 1)."""

    # mode -> (low, high, *RST level) of that mode's setpoint, in A, V, ohm or W
    LEVELS: ClassVar[dict[str, tuple[float, float, float]]] = {}
    MODE_REPLY: ClassVar[dict[str, str]] = {m: m for m in MODES}  # FUNC? answers
    CURRENT_RANGES: ClassVar[tuple[float, ...]] = ()  # ascending; *RST: the highest
    SLEW: ClassVar[tuple[float, float, float]] = (0.0, 0.0, 0.0)  # low, high, *RST
    STATE_WORDS: ClassVar[tuple[str, str]] = ("1", "0")

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        if modules:
            raise ValueError(f"the {cls.MODEL} has no modules")
        name = f"{cls.VENDOR.split()[0].title()} {cls.MODEL}"
        return InstrumentHardware(name, loads={1: LoadInput()})

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        if sorted(hardware.loads) != [1]:
            raise ValueError(f"{self.MODEL} needs loads [1], got {sorted(hardware.loads)}")

    def channel_numbers(self) -> list[int]:
        return [1]

    def reset_state(self) -> None:
        self.mode = "CC"
        self.levels = {mode: rst for mode, (_lo, _hi, rst) in self.LEVELS.items()}
        self.input_on = False
        self.short_on = False
        self.slew_rise = self.slew_fall = self.SLEW[2]
        self.current_range = self.CURRENT_RANGES[-1] if self.CURRENT_RANGES else 0.0
        self._apply()

    def _apply(self) -> None:
        """Write what the physics should see."""
        load = self.load()
        load.input_on = self.input_on
        load.i_max = self.current_range or self.LEVELS["CC"][1]
        load.p_max = self.LEVELS["CP"][1]
        for mode, field in FIELDS.items():
            setattr(load, field, self.levels.get(mode, getattr(LoadInput(), field)))
        if self.short_on:
            load.mode = "CC"
            load.current_set = self.current_range
        else:
            load.mode = self.mode

    def _word(self, state: bool) -> str:
        return self.STATE_WORDS[0] if state else self.STATE_WORDS[1]

    # --- mode and levels ------------------------------------------------------------------

    def set_function(self, word: str, chans: list[int] | None = None) -> None:
        mode = FUNCTION_MODES.get(word, word)
        if mode not in self.LEVELS:
            raise ScpiError(p.ILLEGAL_VALUE, word)
        self.mode = mode
        self._apply()

    def get_function(self, chans: list[int] | None = None) -> str:
        return self.MODE_REPLY[self.mode]

    def set_level(self, mode: str, value: float | str) -> None:
        low, high, rst = self.LEVELS[mode]
        level = p.resolve(value, low, high, rst)
        if mode == "CC" and self.CURRENT_RANGES and level > self.current_range:
            # a level above the present range moves the load up to the range that holds it
            self.current_range = next(r for r in self.CURRENT_RANGES if r >= level - 1e-12)
        self.levels[mode] = level
        self._apply()

    def get_level(self, mode: str, limit: str | None) -> str:
        low, high, rst = self.LEVELS[mode]
        if limit:
            return self.fmt(p.resolve(limit, low, high, rst))
        return self.fmt(self.levels[mode])

    def set_current_range(self, value: float | str, chans: list[int] | None = None) -> None:
        amps = p.resolve(value, 0.0, self.CURRENT_RANGES[-1], self.CURRENT_RANGES[-1])
        self.current_range = next(r for r in self.CURRENT_RANGES if r >= amps - 1e-12)
        low, _high, _rst = self.LEVELS["CC"]
        self.levels["CC"] = min(max(self.levels["CC"], low), self.current_range)
        self._apply()

    def get_current_range(self, chans: list[int] | None = None) -> str:
        return self.fmt(self.current_range)

    # --- input, short, slew ---------------------------------------------------------------

    def set_input(self, state: bool, chans: list[int] | None = None) -> None:
        self.input_on = state
        self._apply()

    def get_input(self, chans: list[int] | None = None) -> str:
        return self._word(self.input_on)

    def set_short(self, state: bool, chans: list[int] | None = None) -> None:
        self.short_on = state
        self._apply()

    def get_short(self, chans: list[int] | None = None) -> str:
        return self._word(self.short_on)

    def set_slew_both(self, value: float | str, chans: list[int] | None = None) -> None:
        low, high, rst = self.SLEW
        self.slew_rise = self.slew_fall = p.resolve(value, low, high, rst)

    def set_slew_rise(self, value: float | str, chans: list[int] | None = None) -> None:
        low, high, rst = self.SLEW
        self.slew_rise = p.resolve(value, low, high, rst)

    def set_slew_fall(self, value: float | str, chans: list[int] | None = None) -> None:
        low, high, rst = self.SLEW
        self.slew_fall = p.resolve(value, low, high, rst)

    def get_slew_rise(self, chans: list[int] | None = None) -> str:
        return self.fmt(self.slew_rise)

    def get_slew_fall(self, chans: list[int] | None = None) -> str:
        return self.fmt(self.slew_fall)

    def clear_protection(self, chans: list[int] | None = None) -> None:
        """No load protections are modelled; accepted so a client's recovery code runs."""

    # --- meters ---------------------------------------------------------------------------

    def meas_voltage(self, chans: list[int] | None = None) -> str:
        return self.fmt(self.load().voltage_meas)

    def meas_current(self, chans: list[int] | None = None) -> str:
        return self.fmt(self.load().current_meas)

    def meas_power(self, chans: list[int] | None = None) -> str:
        load = self.load()
        return self.fmt(load.voltage_meas * load.current_meas)

    def meas_resistance(self, chans: list[int] | None = None) -> str:
        load = self.load()
        if abs(load.current_meas) < 1e-9:
            return f"{OPEN_CIRCUIT_OHMS:.6E}"  # the overload value, in exponent form
        return self.fmt(load.voltage_meas / load.current_meas)


def level_commands(
    pattern: str, modes: tuple[tuple[str, str], ...] = (), **kw: object
) -> tuple[Command, ...]:
    """Setter and query lines for each mode's level.

    ``pattern`` holds ``{m}`` where the mode's mnemonic goes, e.g.
    ``"[SOURce:]{m}[:LEVel][:IMMediate]"``; ``modes`` pairs mnemonics with modes.
    """
    pairs = modes or (("CURRent", "CC"), ("VOLTage", "CV"), ("RESistance", "CR"), ("POWer", "CP"))
    lines: list[Command] = []
    for mnemonic, mode in pairs:
        header = pattern.format(m=mnemonic)
        lines.append(command(header, _setter(mode), p.numeric, **kw))  # type: ignore[arg-type]
        lines.append(command(header + "?", _getter(mode), opt(p.limit_word), **kw))  # type: ignore[arg-type]
    return tuple(lines)


def _setter(mode: str) -> Callable[..., None]:
    def setter(dev: LoadTwin, value: float | str, chans: list[int] | None = None) -> None:
        dev.set_level(mode, value)

    return setter


def _getter(mode: str) -> Callable[..., str]:
    def getter(dev: LoadTwin, limit: str | None, chans: list[int] | None = None) -> str:
        return dev.get_level(mode, limit)

    return getter
