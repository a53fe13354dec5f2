"""What every simulated DC source shares: per-output ratings, setpoints, output relay,
meters, over-voltage / over-current protection latches and channel selection.

A model subclasses ``SupplyTwin``, states its ``RATINGS`` and writes only its command
table: each line maps the model's own syntax onto these handlers, so a new dialect is a
table and the behaviour (range checks, latches, formats) is written once. Handlers take
their channel list last, as the device passes it (``(@1,2)``, a ``CH1`` word or a
numeric suffix resolved by the model's table line).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from simlab import changes
from simlab.hardware import InstrumentHardware, SourceChannel
from simlab.scpi import params as p
from simlab.scpi.device import ScpiDevice
from simlab.scpi.errors import ScpiError
from simlab.scpi.parser import Token, Word

ILLEGAL_VALUE = -224


@dataclass(frozen=True)
class Rating:
    """Programming ranges of one output, as the model's guide states them."""

    v_max: float
    i_max: float
    ovp_max: float | None = None  # None: the output has no programmable OVP
    ocp_max: float | None = None  # None: OCP (if any) trips at the current limit
    fixed_v: float | None = None  # an output whose voltage is set by hardware
    p_max: float = math.inf  # W the output delivers (an autoranging supply's envelope)
    i_sink: float = 0.0  # A it absorbs continuously (0: a supply that cannot sink)


def rated_channel(rating: Rating) -> SourceChannel:
    """An output whose physics stays inside `rating` (power, sinking)."""
    return SourceChannel(sink_max=rating.i_sink, power_max=rating.p_max)


class SupplyTwin(ScpiDevice):
    """Base of simulated power supplies and SMU mainframes."""

    RATINGS: ClassVar[dict[int, Rating]] = {}
    OVP_ALWAYS_ARMED: ClassVar[bool] = True  # Keysight: OVP is always on at its level
    OUTPUT_WORDS: ClassVar[tuple[str, str]] = ("1", "0")
    V_FORMAT: ClassVar[str | None] = None  # per-quantity reply formats (None: NUMBER_FORMAT)
    I_FORMAT: ClassVar[str | None] = None
    P_FORMAT: ClassVar[str | None] = None

    # --- construction -------------------------------------------------------------------

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        if modules:
            raise ValueError(f"the {cls.MODEL} has no modules")
        name = f"{cls.VENDOR.split()[0].title()} {cls.MODEL}"
        return InstrumentHardware(
            name, sources={n: rated_channel(r) for n, r in cls.RATINGS.items()}
        )

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        if sorted(hardware.sources) != sorted(self.RATINGS):
            raise ValueError(
                f"{self.MODEL} needs sources {sorted(self.RATINGS)}, got {sorted(hardware.sources)}"
            )

    def rating(self, ch: int) -> Rating:
        return self.RATINGS[ch]

    def reset_state(self) -> None:
        self.selected_channel = 1
        chans = list(self.hardware.sources)
        self.ovp = {ch: self.rating(ch).ovp_max or 0.0 for ch in chans}
        self.ovp_armed = dict.fromkeys(chans, self.OVP_ALWAYS_ARMED)
        self.ocp = {ch: self.rating(ch).ocp_max or self.rating(ch).i_max for ch in chans}
        self.ocp_armed = dict.fromkeys(chans, False)
        self.ovp_tripped = dict.fromkeys(chans, False)
        self.ocp_tripped = dict.fromkeys(chans, False)
        for ch in chans:
            src = self.source(ch)
            src.voltage_set = self.rating(ch).fixed_v or 0.0
            src.current_limit = 0.0
            src.output_on = False

    def after_solve(self) -> None:
        """Latch protections the way supplies do: output off until cleared."""
        tripped = False
        for ch, src in self.hardware.sources.items():
            if not src.output_on:
                continue
            rating = self.rating(ch)
            if (
                rating.ovp_max is not None
                and self.ovp_armed[ch]
                and src.voltage_meas > self.ovp[ch]
            ):
                self.ovp_tripped[ch] = tripped = True
            if self.ocp_armed[ch]:
                over = (
                    abs(src.current_meas) > self.ocp[ch]
                    if rating.ocp_max is not None
                    else src.in_current_limit
                )
                if over:
                    self.ocp_tripped[ch] = tripped = True
            if self.ovp_tripped[ch] or self.ocp_tripped[ch]:
                src.output_on = False
        if tripped:
            changes.touch()  # an output went off
            self._solve_fn()

    # --- formats and argument helpers -----------------------------------------------------

    def fmt_v(self, value: float) -> str:
        return (self.V_FORMAT or self.NUMBER_FORMAT).format(value)

    def fmt_i(self, value: float) -> str:
        return (self.I_FORMAT or self.NUMBER_FORMAT).format(value)

    def fmt_p(self, value: float) -> str:
        return (self.P_FORMAT or self.NUMBER_FORMAT).format(value)

    def each(self, chans: list[int], fmt: Callable[[float], str], value: Callable[[int], float]):
        if len(chans) == 1:  # the usual query: no generator, no join
            return fmt(value(chans[0]))
        return ",".join(fmt(value(ch)) for ch in chans)

    def word_channel(self, token: Token | str, prefix: str = "CH") -> list[int]:
        """``CH2`` -> [2]; an unknown output is -224 as the guides list it."""
        text = token.text if isinstance(token, Word) else str(token).upper()
        if text.startswith(prefix) and text[len(prefix) :].isdigit():
            ch = int(text[len(prefix) :])
            if ch in self.hardware.sources:
                return [ch]
        raise ScpiError(ILLEGAL_VALUE, text)

    def _programmable(self, chans: list[int]) -> None:
        for ch in chans:
            if self.rating(ch).fixed_v is not None:
                raise ScpiError(-221, f"output {ch} voltage is set by hardware")

    # --- setpoints ----------------------------------------------------------------------

    def set_voltage(self, value: float | str, chans: list[int]) -> None:
        self._programmable(chans)
        volts = [p.resolve(value, 0.0, self.rating(ch).v_max, 0.0) for ch in chans]
        for ch, v in zip(chans, volts, strict=True):
            self.source(ch).voltage_set = v

    def get_voltage(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.each(
                chans, self.fmt_v, lambda ch: p.resolve(limit, 0.0, self.rating(ch).v_max)
            )
        return self.each(chans, self.fmt_v, lambda ch: self.source(ch).voltage_set)

    def set_current(self, value: float | str, chans: list[int]) -> None:
        amps = [p.resolve(value, 0.0, self.rating(ch).i_max, 0.0) for ch in chans]
        for ch, a in zip(chans, amps, strict=True):
            self.source(ch).current_limit = a

    def get_current(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.each(
                chans, self.fmt_i, lambda ch: p.resolve(limit, 0.0, self.rating(ch).i_max)
            )
        return self.each(chans, self.fmt_i, lambda ch: self.source(ch).current_limit)

    # --- output relay ---------------------------------------------------------------------

    def set_output(self, state: bool, chans: list[int]) -> None:
        for ch in chans:
            # a latched protection keeps the output off until it is cleared
            latched = self.ovp_tripped[ch] or self.ocp_tripped[ch]
            self.source(ch).output_on = state and not latched

    def get_output(self, chans: list[int]) -> str:
        on, off = self.OUTPUT_WORDS
        return ",".join(on if self.source(ch).output_on else off for ch in chans)

    # --- meters ---------------------------------------------------------------------------

    def meas_voltage(self, chans: list[int]) -> str:
        return self.each(chans, self.fmt_v, lambda ch: self.source(ch).voltage_meas)

    def meas_current(self, chans: list[int]) -> str:
        return self.each(chans, self.fmt_i, lambda ch: self.source(ch).current_meas)

    def meas_power(self, chans: list[int]) -> str:
        def watts(ch: int) -> float:
            src = self.source(ch)
            return src.voltage_meas * src.current_meas

        return self.each(chans, self.fmt_p, watts)

    # --- protection -----------------------------------------------------------------------

    def _ovp_max(self, ch: int) -> float:
        top = self.rating(ch).ovp_max
        if top is None:
            raise ScpiError(-221, f"output {ch} has no programmable OVP")
        return top

    def set_ovp(self, value: float | str, chans: list[int]) -> None:
        levels = [p.resolve(value, 0.0, self._ovp_max(ch), self._ovp_max(ch)) for ch in chans]
        for ch, v in zip(chans, levels, strict=True):
            self.ovp[ch] = v

    def get_ovp(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.each(chans, self.fmt_v, lambda ch: p.resolve(limit, 0.0, self._ovp_max(ch)))
        return self.each(chans, self.fmt_v, lambda ch: self.ovp[ch])

    def set_ovp_state(self, state: bool, chans: list[int]) -> None:
        for ch in chans:
            self._ovp_max(ch)
            self.ovp_armed[ch] = state

    def get_ovp_state(self, chans: list[int]) -> str:
        on, off = self.OUTPUT_WORDS
        return ",".join(on if self.ovp_armed[ch] else off for ch in chans)

    def _ocp_max(self, ch: int) -> float:
        top = self.rating(ch).ocp_max
        if top is None:
            raise ScpiError(-221, f"output {ch} OCP has no level (it trips at the limit)")
        return top

    def set_ocp(self, value: float | str, chans: list[int]) -> None:
        levels = [p.resolve(value, 0.0, self._ocp_max(ch), self._ocp_max(ch)) for ch in chans]
        for ch, a in zip(chans, levels, strict=True):
            self.ocp[ch] = a

    def get_ocp(self, limit: str | None, chans: list[int]) -> str:
        if limit:
            return self.each(chans, self.fmt_i, lambda ch: p.resolve(limit, 0.0, self._ocp_max(ch)))
        return self.each(chans, self.fmt_i, lambda ch: self.ocp[ch])

    def set_ocp_state(self, state: bool, chans: list[int]) -> None:
        for ch in chans:
            self.ocp_armed[ch] = state

    def get_ocp_state(self, chans: list[int]) -> str:
        on, off = self.OUTPUT_WORDS
        return ",".join(on if self.ocp_armed[ch] else off for ch in chans)

    def get_ovp_tripped(self, chans: list[int]) -> str:
        return ",".join("1" if self.ovp_tripped[ch] else "0" for ch in chans)

    def get_ocp_tripped(self, chans: list[int]) -> str:
        return ",".join("1" if self.ocp_tripped[ch] else "0" for ch in chans)

    def clear_protection(self, chans: list[int]) -> None:
        for ch in chans:
            self.ovp_tripped[ch] = self.ocp_tripped[ch] = False

    def clear_ovp(self, chans: list[int]) -> None:
        for ch in chans:
            self.ovp_tripped[ch] = False

    def clear_ocp(self, chans: list[int]) -> None:
        for ch in chans:
            self.ocp_tripped[ch] = False

    # --- channel selection ----------------------------------------------------------------

    def select_word(self, token: Token) -> None:
        """``INST CH2``."""
        self.selected_channel = self.word_channel(token)[0]

    def get_select_word(self) -> str:
        return f"CH{self.selected_channel}"

    def select_number(self, number: int) -> None:
        """``INST:NSEL 2``."""
        if number not in self.hardware.sources:
            raise ScpiError(-222, f"no channel {number}")
        self.selected_channel = number

    def get_select_number(self) -> str:
        return self.fmt_int(self.selected_channel)

    # --- regulation status (what the output is doing, as the physics left it) -------------

    def oper_bits(self, chans: list[int]) -> str:
        """Operation condition, the N6700/N6900/RP7900 family's bits: CV 1, CC 2, OFF 4."""

        def bits(ch: int) -> int:
            src = self.source(ch)
            if not src.output_on:
                return 4
            return 2 if src.mode in ("CC", "CC-", "CP") else 1

        return ",".join(self.fmt_int(bits(ch)) for ch in chans)

    def ques_bits(self, chans: list[int]) -> str:
        """Questionable condition, the same family's: OV 1, OC 2, CP+ 8, CP− 32, LIM+ 128,
        LIM− 256 (the protections latched, the power or a current limit in force)."""

        def bits(ch: int) -> int:
            src, b = self.source(ch), 0
            b |= 1 if self.ovp_tripped[ch] else 0
            b |= 2 if self.ocp_tripped[ch] else 0
            if src.output_on:
                b |= {"CC": 128, "CC-": 256}.get(src.mode, 0)
                if src.mode == "CP":
                    b |= 8 if src.current_meas >= 0 else 32
            return b

        return ",".join(self.fmt_int(bits(ch)) for ch in chans)

    def isum_bits(self, chans: list[int]) -> str:
        """The E3600 family's instrument summary: bit 0 the output in constant current
        (its voltage unregulated), bit 1 in constant voltage."""

        def bits(ch: int) -> int:
            src = self.source(ch)
            if not src.output_on:
                return 0
            return 1 if src.mode in ("CC", "CP") else 2

        return ",".join(self.fmt_int(bits(ch)) for ch in chans)
