"""What every simulated function generator shares: per-output function, levels, pulse
shape, output load setting, burst and trigger, and the output's EMF in virtual time.

A generator's output is a fixed 50 Ω source. Its levels are programmed as they would
appear across the load the user declares (`OUTP:LOAD 50` by default, or INFinity): the
open-circuit voltage (EMF) is twice the displayed value with a 50 Ω setting and equal to
it with INFinity. The hardware trace holds the EMF; the station's wiring says what it
drives (a BMS's shunt sense input through an attenuator, whose own ratio includes the
loading of the 50 Ω). Every change is written to the trace at the lab's present time:

- DC: the level, reached with the model's fastest edge;
- pulse with burst off: a continuous train (`PulseTrain`) from now on;
- pulse with a triggered burst: idle at the low level; each trigger (`*TRG` with a BUS
  source, or the model's manual trigger) emits the burst's cycles with the programmed
  edges and width (50 % to 50 %), back to the low level after;
- other functions (sine, square, ramp, noise, arbitrary) carry only their offset: their
  shape is not emulated, which the models' docstrings say.

A model subclasses ``GeneratorTwin``, states its ``RATING`` and writes its command table.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import ClassVar

from simlab import changes
from simlab.hardware import GeneratorOutput, InstrumentHardware
from simlab.physics.trace import Const, PulseTrain, Ramp
from simlab.scpi import params as p
from simlab.scpi.device import ScpiDevice
from simlab.scpi.errors import ScpiError

SETTINGS_CONFLICT = -221
OUT_OF_RANGE = -222
SOURCE_OHMS = 50.0
INFINITE_OHMS = 9.9e37  # what a load query answers for INFinity
FUNCTIONS = ("SIN", "SQU", "RAMP", "PULS", "NOIS", "PRBS", "ARB", "DC", "TRI")


@dataclass(frozen=True)
class GeneratorRating:
    """One model's output envelope, in the units its guide states them."""

    channels: int
    emf_peak_v: float  # |EMF| the output stage reaches (10 V: ±5 V into 50 Ω)
    amplitude_min_vpp: float  # into 50 Ω
    width_min_s: float
    edge_min_s: float
    edge_max_s: float  # absolute maximum of a pulse edge
    edge_max_of_width: float | None  # an edge at most this fraction of the width (Rigol)
    frequency_max_hz: float
    clamps: bool  # out-of-range values are clamped (Rigol) instead of refused (-222)
    # a software trigger's latency: from the command to the output moving, at no fixed
    # phase of anything else on the bench (a seeded draw in this range per trigger)
    trigger_latency_s: tuple[float, float] = (1e-6, 2e-6)


@dataclass
class GenChannel:
    """The programmed state of one output (displayed values, for the load setting)."""

    function: str = "SIN"
    frequency: float = 1000.0
    amplitude: float = 0.1  # Vpp
    offset: float = 0.0
    width: float = 100e-6
    lead: float = 10e-9
    trail: float = 10e-9
    load: float = SOURCE_OHMS  # math.inf: high impedance
    output: bool = False
    burst: bool = False
    burst_mode: str = "TRIG"
    cycles: int = 1
    burst_period: float = 10e-3
    trigger_source: str = "IMM"

    @property
    def period(self) -> float:
        return 1.0 / self.frequency

    @property
    def emf_per_volt(self) -> float:
        """Open-circuit volts per displayed volt for the declared load."""
        return 1.0 if math.isinf(self.load) else (self.load + SOURCE_OHMS) / self.load

    @property
    def high(self) -> float:
        return self.offset + self.amplitude / 2

    @property
    def low(self) -> float:
        return self.offset - self.amplitude / 2


class GeneratorTwin(ScpiDevice):
    """Base of simulated function / arbitrary waveform generators."""

    RATING: ClassVar[GeneratorRating]
    RESET: ClassVar[dict[str, object]] = {}  # GenChannel fields that differ at *RST
    FUNCTION_REPLY: ClassVar[dict[str, str]] = {}  # FUNC? answer per function, if not its name
    OUTPUT_WORDS: ClassVar[tuple[str, str]] = ("1", "0")

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        if modules:
            raise ValueError(f"the {cls.MODEL} has no modules")
        name = f"{cls.VENDOR.split()[0].title()} {cls.MODEL}"
        gens = {n: GeneratorOutput() for n in range(1, cls.RATING.channels + 1)}
        return InstrumentHardware(name, generators=gens)

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        want = list(range(1, self.RATING.channels + 1))
        if sorted(hardware.generators) != want:
            raise ValueError(
                f"{self.MODEL} needs outputs {want}, got {sorted(hardware.generators)}"
            )

    def channel_numbers(self) -> list[int]:
        return list(range(1, self.RATING.channels + 1))

    def reset_state(self) -> None:
        self.ch = {n: GenChannel(**self.RESET) for n in self.channel_numbers()}  # type: ignore[arg-type]
        for n in self.ch:
            self._emit(n)

    # --- the output in time --------------------------------------------------------------

    def _now(self) -> float:
        return self.hardware.clock()

    def _emit(self, n: int) -> None:
        """Write channel `n`'s EMF from now on, as its settings make it."""
        c, out = self.ch[n], self.hardware.generators[n]
        now, trace = self._now(), out.trace
        k = c.emf_per_volt
        present = trace.value(now)
        out.output_on = c.output
        changes.touch()
        if not c.output:
            out.level_v = 0.0
            trace.hold(now, 0.0)  # the output relay open: nothing driven
            return
        if c.function == "PULS" and not c.burst:
            out.level_v = c.low * k
            trace.add(PulseTrain(now, c.low * k, c.high * k, c.period, c.width, c.lead, c.trail))
            return
        rest = (c.low if c.function == "PULS" else c.offset) * k
        out.level_v = rest
        if present == rest:
            trace.hold(now, rest)
            return
        trace.add(Ramp(now, present, rest, self.RATING.edge_min_s))
        trace.add(Const(now + self.RATING.edge_min_s, rest))

    def fire(self, n: int) -> None:
        """One trigger of channel `n`'s burst: its cycles from now, then the idle level."""
        c, trace = self.ch[n], self.hardware.generators[n].trace
        if not (c.output and c.burst and c.function == "PULS"):
            return  # a trigger with no armed burst does nothing, as on the instrument
        lo, hi = self.RATING.trigger_latency_s
        now = self._now()  # the draw depends on the moment: repeatable, at no fixed phase
        k, t = c.emf_per_volt, now + random.Random(f"{self.serial}:{now!r}").uniform(lo, hi)
        low, high = c.low * k, c.high * k
        changes.touch()
        for _ in range(c.cycles):
            fall = t + c.lead / 2 + c.width - c.trail / 2
            trace.add(Ramp(t, low, high, c.lead))
            trace.add(Const(t + c.lead, high))
            trace.add(Ramp(fall, high, low, c.trail))
            trace.add(Const(fall + c.trail, low))
            t += c.period

    # --- checks ------------------------------------------------------------------------------

    def _fit(self, value: float, low: float, high: float) -> float:
        """A value beyond the model's range: clamped (Rigol) or refused with -222."""
        if low - 1e-12 <= value <= high + 1e-12:
            return min(max(value, low), high)
        if self.RATING.clamps:
            return min(max(value, low), high)
        raise ScpiError(OUT_OF_RANGE, f"{value:g} not in [{low:g}, {high:g}]")

    def _peak_v(self, c: GenChannel) -> float:
        """The highest displayed |level| the output stage reaches for the declared load."""
        return self.RATING.emf_peak_v / c.emf_per_volt

    def _check_levels(self, c: GenChannel, amplitude: float, offset: float) -> tuple[float, float]:
        peak = self._peak_v(c)
        amp_min = self._amplitude_min(c)
        if c.function == "DC":
            return amplitude, self._fit(offset, -peak, peak)
        amplitude = self._fit(amplitude, amp_min, 2 * peak)
        room = peak - amplitude / 2
        return amplitude, self._fit(offset, -room, room)

    def _amplitude_min(self, c: GenChannel) -> float:
        """The smallest amplitude, displayed for the declared load (the guide's figure is
        into 50 Ω, where the EMF is twice the display)."""
        return 2 * self.RATING.amplitude_min_vpp / c.emf_per_volt

    def _edge_limits(self, c: GenChannel) -> tuple[float, float]:
        r = self.RATING
        top = r.edge_max_s
        if r.edge_max_of_width is not None:
            top = min(top, r.edge_max_of_width * c.width)
        return r.edge_min_s, top

    # --- handlers: levels ------------------------------------------------------------------

    def set_function(self, word: str, chans: list[int]) -> None:
        short = next((f for f in FUNCTIONS if word.startswith(f)), None)
        if short is None:
            raise ScpiError(p.ILLEGAL_VALUE, word)
        for n in chans:
            self.ch[n].function = short
            self._emit(n)

    def get_function(self, chans: list[int]) -> str:
        f = self.ch[chans[0]].function
        return self.FUNCTION_REPLY.get(f, f)

    def set_amplitude(self, value: float | str, chans: list[int]) -> None:
        for n in chans:
            c = self.ch[n]
            amp = self._limit_value(value, self._amplitude_min(c), 2 * self._peak_v(c))
            c.amplitude, c.offset = self._check_levels(c, amp, c.offset)
            self._emit(n)

    def get_amplitude(self, chans: list[int]) -> str:
        return self.fmt(self.ch[chans[0]].amplitude)

    def set_offset(self, value: float | str, chans: list[int]) -> None:
        for n in chans:
            c = self.ch[n]
            peak = self._peak_v(c)
            off = self._limit_value(value, -peak, peak)
            c.amplitude, c.offset = self._check_levels(c, c.amplitude, off)
            self._emit(n)

    def get_offset(self, chans: list[int]) -> str:
        return self.fmt(self.ch[chans[0]].offset)

    def set_high(self, value: float | str, chans: list[int]) -> None:
        for n in chans:
            c = self.ch[n]
            high = self._limit_value(value, -self._peak_v(c), self._peak_v(c))
            if high <= c.low:
                raise ScpiError(SETTINGS_CONFLICT, "high level not above low level")
            amp, off = high - c.low, (high + c.low) / 2
            c.amplitude, c.offset = self._check_levels(c, amp, off)
            self._emit(n)

    def get_high(self, chans: list[int]) -> str:
        return self.fmt(self.ch[chans[0]].high)

    def set_low(self, value: float | str, chans: list[int]) -> None:
        for n in chans:
            c = self.ch[n]
            low = self._limit_value(value, -self._peak_v(c), self._peak_v(c))
            if low >= c.high:
                raise ScpiError(SETTINGS_CONFLICT, "low level not below high level")
            amp, off = c.high - low, (c.high + low) / 2
            c.amplitude, c.offset = self._check_levels(c, amp, off)
            self._emit(n)

    def get_low(self, chans: list[int]) -> str:
        return self.fmt(self.ch[chans[0]].low)

    def _limit_value(self, value: float | str, low: float, high: float) -> float:
        if isinstance(value, str):
            return p.resolve(value, low, high)
        return value

    def apply(
        self,
        function: str,
        freq: float | str | None,
        amp: float | str | None,
        offset: float | str | None,
        chans: list[int],
    ) -> None:
        """`APPLy:<function> [freq[,amp[,offset]]]`: function, frequency and levels set
        as one (the levels checked together, so no intermediate pair conflicts)."""
        for n in chans:
            c = self.ch[n]
            c.function = function
            if freq is not None and function != "DC":
                self.set_frequency(freq, [n])
            peak = self._peak_v(c)
            a = c.amplitude if amp is None else self._limit_value(amp, 0.0, 2 * peak)
            o = c.offset if offset is None else self._limit_value(offset, -peak, peak)
            c.amplitude, c.offset = self._check_levels(c, a, o)
            self._emit(n)

    def set_frequency(self, value: float | str, chans: list[int]) -> None:
        top = self.RATING.frequency_max_hz
        for n in chans:
            f = self._fit(self._limit_value(value, 1e-6, top), 1e-6, top)
            c = self.ch[n]
            if c.function == "PULS" and c.width + (c.lead + c.trail) / 2 >= 1 / f:
                raise ScpiError(SETTINGS_CONFLICT, "period shorter than the pulse")
            c.frequency = f
            self._emit(n)

    def get_frequency(self, chans: list[int]) -> str:
        return self.fmt(self.ch[chans[0]].frequency)

    def set_period(self, value: float | str, chans: list[int]) -> None:
        low = 1.0 / self.RATING.frequency_max_hz
        for n in chans:
            period = self._limit_value(value, low, 1e6)
            self.set_frequency(1.0 / self._fit(period, low, 1e6), [n])

    def get_period(self, chans: list[int]) -> str:
        return self.fmt(self.ch[chans[0]].period)

    # --- handlers: pulse shape -------------------------------------------------------------

    def set_width(self, value: float | str, chans: list[int]) -> None:
        for n in chans:
            c = self.ch[n]
            top = c.period - (c.lead + c.trail) / 2
            width = self._fit(self._limit_value(value, self.RATING.width_min_s, top), 0.0, top)
            if width < self.RATING.width_min_s:
                raise ScpiError(OUT_OF_RANGE, f"width {width:g} below the minimum")
            c.width = width
            self._emit(n)

    def get_width(self, chans: list[int]) -> str:
        return self.fmt(self.ch[chans[0]].width)

    def _set_edge(self, value: float | str, chans: list[int], which: tuple[str, ...]) -> None:
        for n in chans:
            c = self.ch[n]
            low, high = self._edge_limits(c)
            edge = self._fit(self._limit_value(value, low, high), low, high)
            for name in which:
                setattr(c, name, edge)
            self._emit(n)

    def set_edges(self, value: float | str, chans: list[int]) -> None:
        self._set_edge(value, chans, ("lead", "trail"))

    def set_lead(self, value: float | str, chans: list[int]) -> None:
        self._set_edge(value, chans, ("lead",))

    def set_trail(self, value: float | str, chans: list[int]) -> None:
        self._set_edge(value, chans, ("trail",))

    def get_lead(self, chans: list[int]) -> str:
        return self.fmt(self.ch[chans[0]].lead)

    def get_trail(self, chans: list[int]) -> str:
        return self.fmt(self.ch[chans[0]].trail)

    # --- handlers: output, load, burst, trigger -------------------------------------------

    def set_output(self, state: bool, chans: list[int]) -> None:
        for n in chans:
            self.ch[n].output = state
            self._emit(n)

    def get_output(self, chans: list[int]) -> str:
        on, off = self.OUTPUT_WORDS
        return on if self.ch[chans[0]].output else off

    def set_load(self, value: object, chans: list[int]) -> None:
        """Ohms (1 Ω-10 kΩ) or INFinity; MIN / MAX as the guides define them."""
        ohms = _load_ohms(value)
        for n in chans:
            c = self.ch[n]
            c.load = ohms
            # the displayed levels keep the EMF: they are rescaled for the new load
            c.amplitude, c.offset = self._check_levels(c, c.amplitude, c.offset)
            self._emit(n)

    def get_load(self, chans: list[int]) -> str:
        load = self.ch[chans[0]].load
        return self.fmt(INFINITE_OHMS if math.isinf(load) else load)

    def set_burst(self, state: bool, chans: list[int]) -> None:
        for n in chans:
            self.ch[n].burst = state
            self._emit(n)

    def get_burst(self, chans: list[int]) -> str:
        return "1" if self.ch[chans[0]].burst else "0"

    def set_burst_mode(self, word: str, chans: list[int]) -> None:
        mode = word[:3] if word.startswith("GAT") else word[:4]
        if mode not in ("TRIG", "GAT"):
            raise ScpiError(SETTINGS_CONFLICT, f"burst mode {word} not emulated")
        if mode == "GAT":
            raise ScpiError(SETTINGS_CONFLICT, "gated burst not emulated")
        for n in chans:
            self.ch[n].burst_mode = mode

    def get_burst_mode(self, chans: list[int]) -> str:
        return self.ch[chans[0]].burst_mode

    def set_cycles(self, value: float | str, chans: list[int]) -> None:
        count = round(p.resolve(value, 1, 100_000_000, 1)) if isinstance(value, str) else value
        if not 1 <= count <= 100_000_000:
            raise ScpiError(OUT_OF_RANGE, f"{count} cycles")
        for n in chans:
            self.ch[n].cycles = int(count)

    def get_cycles(self, chans: list[int]) -> str:
        return self.fmt_int(self.ch[chans[0]].cycles)

    def set_trigger_source(self, word: str, chans: list[int]) -> None:
        for n in chans:
            self.ch[n].trigger_source = word[:3]

    def get_trigger_source(self, chans: list[int]) -> str:
        return self.ch[chans[0]].trigger_source

    def trigger_bus(self) -> None:
        """`*TRG`: every output whose trigger source is the bus fires its burst."""
        for n, c in self.ch.items():
            if c.trigger_source == "BUS":
                self.fire(n)

    def trigger_now(self, chans: list[int]) -> None:
        for n in chans:
            self.fire(n)


def _load_ohms(value: object) -> float:
    from simlab.scpi.parser import Number, Word

    if isinstance(value, Word):
        if value.text in ("INF", "INFINITY"):
            return math.inf
        if value.text in ("MIN", "MINIMUM"):
            return 1.0
        if value.text in ("MAX", "MAXIMUM"):
            return 10_000.0
        if value.text in ("DEF", "DEFAULT"):
            return SOURCE_OHMS
        raise ScpiError(p.ILLEGAL_VALUE, value.text)
    if isinstance(value, Number):
        if value.value >= 1e37:
            return math.inf
        if not 1.0 <= value.value <= 10_000.0:
            raise ScpiError(OUT_OF_RANGE, f"load {value.value:g} ohm")
        return value.value
    raise ScpiError(p.DATA_TYPE_ERROR)
