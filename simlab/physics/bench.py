"""The bench circuit: a series string of cells, the BMS FETs, the charger and the load.

`solve()` is the instantaneous electrical state (no time passes) and writes what each
instrument's meter would read back into its `InstrumentHardware`; SCPI servers call it
after every setpoint so a query right after a command sees the new operating point.
`refresh()` is what a measurement query runs: the last solution, solved again only if
something was changed since without a solve (`simlab.changes`).
`step(dt)` lets time pass for the cells that have state (LFP cells; emulators are ideal).

Cell positions are numbered from 1 at the most negative end. A position wired to an
emulator channel is an ideal voltage source (0 V when its output is off: an unpowered
sense line reads 0); an unwired position is an `LfpCell`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simlab import changes
from simlab.hardware import (
    GeneratorOutput,
    LoadInput,
    RelayChannel,
    ResistorChannel,
    SourceChannel,
)
from simlab.params import flatten, get_path, set_path, unknown_path
from simlab.physics.lfp import LfpCell, LfpParams, make_cells
from simlab.physics.trace import Approach, Const, Piece, Ramp, Scaled, Sum, Trace, TraceView

# Quantities a digitizer input can be wired to, and how each follows from the solution.
TRACED = ("pack_current", "pack_voltage")
# ... and what the BMS's shunt input sees (real current plus an emulated one), in amperes.
SENSED = "sense_current"


@dataclass
class ShuntParams:
    """The BMS's current shunt (`physics.shunt.*`): what its sense input sees per ampere
    (1.0 mΩ is what the JBD board's EEPROM states, 0x2C), and its heating: it warms by
    `rth_k_w` per watt it dissipates (I²R) with time constant `tau_s`, and its resistance
    moves by `tempco_ppm_k` per kelvin, so the BMS reads a hot shunt's current high."""

    r_ohm: float = 0.001
    tempco_ppm_k: float = 50.0
    rth_k_w: float = 15.0
    tau_s: float = 20.0

    def validate(self) -> None:
        if self.r_ohm <= 0 or self.rth_k_w < 0 or self.tau_s <= 0:
            raise ValueError("physics.shunt r_ohm and tau_s must be > 0, rth_k_w >= 0")


@dataclass
class FetParams:
    """The BMS's charge and discharge FETs in series (`physics.fet.*`): their on
    resistance (part of the path's `r_path_ohm`), and their heating, `rth_k_w` per watt
    with time constant `tau_s`. `ntc`: the NTC input that sits on their heatsink (0:
    none); unwired, it reads their temperature instead of the ambient."""

    r_on_ohm: float = 0.002
    rth_k_w: float = 2.0
    tau_s: float = 60.0
    ntc: int = 0

    def validate(self) -> None:
        if self.r_on_ohm < 0 or self.rth_k_w < 0 or self.tau_s <= 0 or self.ntc < 0:
            raise ValueError("physics.fet r_on_ohm, rth_k_w, ntc >= 0 and tau_s > 0")


@dataclass
class SenseInjection:
    """A generator output in series with the shunt's sense leads (current-sense
    emulation): its EMF, divided by the bench's attenuator, adds to the shunt's own drop.
    `sign` is -1 when a positive generator voltage reads as discharge current (the pack
    current is positive charging)."""

    output: GeneratorOutput
    attenuation: float
    sign: float


@dataclass
class ShortParams:
    """The short-circuit loop from P+ to P- through the short relay's contactor
    (`physics.short.*`): its resistance and inductance set the rise (τ = L/R) and the
    prospective current; the discharge FET's turn-off ends it."""

    r_ohm: float = 0.010  # contactor, cables, shunt and FETs of the loop
    l_h: float = 1.0e-6  # loop inductance
    turn_off_s: float = 2.0e-6  # the discharge FET's current fall time
    close_delay_s: float = 0.0  # relay command to contact closure (a contactor's make)
    break_s: float = 1.0e-3  # contacts opening under current: the arc's fall time

    def validate(self) -> None:
        if self.r_ohm <= 0 or self.l_h <= 0 or self.turn_off_s <= 0 or self.break_s <= 0:
            raise ValueError("physics.short r_ohm, l_h, turn_off_s and break_s must be > 0")
        if self.close_delay_s < 0:
            raise ValueError("physics.short.close_delay_s must be >= 0")


@dataclass
class PackSourceParams:
    """A battery simulator on the battery terminals (`physics.pack_source.*`): its output
    capacitance carries a short's first `response_s` at whatever the loop draws; then its
    current regulation pulls the current to its limit with time constant `regulate_s`."""

    response_s: float = 50e-6
    regulate_s: float = 20e-6

    def validate(self) -> None:
        if self.response_s < 0 or self.regulate_s <= 0:
            raise ValueError("physics.pack_source.response_s >= 0 and regulate_s > 0")


@dataclass
class BenchParams:
    """Circuit parameters, addressable as `physics.<name>`."""

    r_path_ohm: float = 0.05  # wiring + FETs between an instrument and the pack terminals
    load_min_v: float = 0.5  # below this pack voltage the load cannot sink current
    load_max_a: float = 40.0  # the load's own limit (matters in CV/CR modes)
    temperature_c: float = 25.0  # ambient: where NTCs no thermistor emulator drives sit
    charger_detect_v: float = 0.5  # a charger is "present" this far above the pack voltage
    lfp: LfpParams = field(default_factory=LfpParams)
    short: ShortParams = field(default_factory=ShortParams)
    shunt: ShuntParams = field(default_factory=ShuntParams)
    fet: FetParams = field(default_factory=FetParams)
    pack_source: PackSourceParams = field(default_factory=PackSourceParams)

    def validate(self) -> None:
        if self.r_path_ohm <= 0:
            raise ValueError("physics.r_path_ohm must be > 0")
        if self.load_min_v < 0 or self.load_max_a < 0:
            raise ValueError("physics.load_min_v and physics.load_max_a must be >= 0")
        if self.charger_detect_v < 0:
            raise ValueError("physics.charger_detect_v must be >= 0")
        self.lfp.validate()
        self.short.validate()
        self.shunt.validate()
        self.fet.validate()
        self.pack_source.validate()


@dataclass
class BenchState:
    """One solution of the circuit. Currents in A, positive pack current = charging."""

    cells_v: list[float]
    pack_v: float
    charge_a: float
    load_a: float
    pack_current_a: float
    short_a: float = 0.0  # the settled short-circuit current (the trace has its transient)
    charger_present: bool = False  # a charger's voltage is on P+ (what a BMS can sense)


class Bench:
    """N cell positions in series, a charger through the charge FET, a load through the
    discharge FET. The BMS firmware opens and closes the FETs (`charge_fet`,
    `discharge_fet`); everything else is set by instruments."""

    def __init__(
        self,
        positions: list[SourceChannel | None],
        charger: SourceChannel | None = None,
        load: LoadInput | None = None,
        params: BenchParams | None = None,
        rng: np.random.Generator | None = None,
    ):
        self.positions = positions
        self.charger = charger
        self.load = load
        self.params = params or BenchParams()
        self._rng = rng or np.random.default_rng(0)
        self.lfp_cells: dict[int, LfpCell] = {}
        self._build_lfp_cells()
        self.charge_fet = True
        self.discharge_fet = True
        # The BMS's bleed resistors that conduct (position -> ohms), set by the world
        # from the firmware's balancing: current drawn from that cell inside the pack.
        self.bleed_ohm: dict[int, float] = {}
        # What the BMS itself draws from the pack (set by the world from the firmware's
        # power state): sourced by the battery side on top of the pack current.
        self.board_draw_a = 0.0
        # The FETs' on-resistance over the board's design (a defect of its parts, set by
        # the world from the firmware's defects): what they dissipate scales with it.
        self.fet_r_factor = 1.0
        self.state = BenchState([0.0] * len(positions), 0.0, 0.0, 0.0, 0.0)
        self.t = 0.0  # virtual time of the present solution (the world keeps it)
        # Wired by the lab from the station file: NTC inputs driven by resistance
        # channels, the short-circuit relay, and fault relays (relay, action, target).
        self.ntc_channels: dict[int, ResistorChannel] = {}
        self.short_relay: RelayChannel | None = None
        # a relay in the board's own supply feed, through its NC contact (closed: cut)
        self.supply_relay: RelayChannel | None = None
        self.fault_relays: list[tuple[RelayChannel, str, int]] = []
        self._short_conducting = False
        self._short_since: float | None = None  # when the contacts closed (relay command)
        self.traces = {name: Trace(0.0) for name in TRACED}
        self._solved_at: object = None  # the `changes` token of the last solve
        # a token only the shunt's warming replaced since then (the circuit does not read it)
        self._warmed_at: object = None
        # Current-sense emulation, wired by the lab; and every generator's trace, which
        # the world prunes with its own.
        self.sense_injection: SenseInjection | None = None
        self.extra_traces: list[Trace] = []
        # A battery simulator on the battery terminals (the cells then feed only the
        # sense taps), wired by the lab.
        self.pack_source: SourceChannel | None = None
        # the shunt's and the FETs' rise above the ambient (K), from their heating
        self.shunt_rise_k = 0.0
        self.fet_rise_k = 0.0

    @property
    def cell_count(self) -> int:
        return len(self.positions)

    def _build_lfp_cells(self) -> None:
        free = [i for i, ch in enumerate(self.positions) if ch is None]
        cells = make_cells(len(free), self.params.lfp, self._rng) if free else []
        self.lfp_cells = dict(zip(free, cells, strict=True))

    # -- parameters -------------------------------------------------------------------

    def parameters(self) -> dict[str, object]:
        return flatten(self.params)

    def get_param(self, path: str) -> object:
        try:
            return get_path(self.params, path)
        except KeyError:
            raise unknown_path(f"physics.{path}", self._paths()) from None

    def set_param(self, path: str, value: object) -> object:
        """Set a circuit parameter; changing an `lfp.*` one rebuilds the LFP cells."""
        try:
            old = set_path(self.params, path, value)
        except KeyError:
            raise unknown_path(f"physics.{path}", self._paths()) from None
        if path.startswith("lfp."):
            self._build_lfp_cells()
        self.solve()
        return old

    def _paths(self) -> list[str]:
        return [f"physics.{p}" for p in flatten(self.params)]

    # -- the circuit ------------------------------------------------------------------

    def _emf_and_r(self) -> tuple[float, float]:
        """The power path's EMF and series resistance on the battery side: a battery
        simulator's output where one is wired, else the string of cells."""
        src = self.pack_source
        if src is not None:
            return (src.voltage_set if src.output_on else 0.0), src.r_out
        emf, r = 0.0, 0.0
        lfp_cells = self.lfp_cells
        for i, ch in enumerate(self.positions):
            if ch is None:
                cell = lfp_cells[i]
                emf += cell.ocv()
                r += cell.r_ohm
            elif ch.output_on:
                emf += ch.voltage_set
        return emf, r

    def _pack_caps(self) -> tuple[float, float]:
        """What the battery side can source and sink (A).

        A battery simulator is bounded by its own limits and power; a string of emulator
        channels by its weakest channel (a channel that is off is an open string: no
        current at all); LFP cells by nothing the bench reaches. Every solve asks this,
        so it is one pass over the channels; which of them bind (`_limiters`) is asked
        only when one does."""
        src = self.pack_source
        if src is not None:
            if not src.output_on:
                return 0.0, 0.0
            emf = src.voltage_set
            return src.source_cap(emf), src.sink_cap(emf)
        low_src = low_sink = math.inf
        emulated = False
        for ch in self.positions:
            if ch is None:
                continue
            if not ch.output_on:
                return 0.0, 0.0
            emulated = True
            source, sink = ch.caps(ch.voltage_set)
            if source < low_src:
                low_src = source
            if sink < low_sink:
                low_sink = sink
        if not emulated:
            return math.inf, math.inf
        return low_src, low_sink

    def _limiters(self, bound: str, cap: float) -> list[SourceChannel]:
        """The outputs of the battery side that hold it at `cap`, the bound it reached
        ("source" or "sink"): the battery simulator, or the weakest emulator channels."""
        if self.pack_source is not None:
            return [self.pack_source]
        emulated = [ch for ch in self.positions if ch is not None]
        if bound == "source":
            return [ch for ch in emulated if ch.source_cap(ch.voltage_set) <= cap + 1e-12]
        return [ch for ch in emulated if ch.sink_cap(ch.voltage_set) <= cap + 1e-12]

    def _load_current(self, emf: float, r_cells: float) -> float:
        """The load's current within its envelope (present range, rated power)."""
        load = self.load
        if (
            load is None
            or not (load.input_on and self.discharge_fet)
            or emf <= self.params.load_min_v
        ):
            return 0.0
        r_loop = self.params.r_path_ohm + r_cells
        mode = load.mode.upper()
        if mode == "CC":
            amps = load.current_set
        elif mode == "CR":
            amps = emf / (max(load.resistance_set, 1e-6) + r_loop)
        elif mode == "CP":
            amps = load.power_set / emf
        elif mode == "CV":
            amps = (emf - load.voltage_set) / r_loop
        else:
            amps = 0.0
        cap = min(load.i_max, load.p_max / emf, self.params.load_max_a)
        load.limited = amps > cap
        return min(max(amps, 0.0), cap)

    def _charger_current(self, emf: float, r_cells: float, i_load: float) -> float:
        """The current the P-side source drives into the pack (+) or draws out of it (−,
        a regenerative source used as the load), within its envelope and the FETs."""
        charger = self.charger
        if charger is None or not charger.output_on:
            return 0.0
        r_path = self.params.r_path_ohm
        volts = max(emf, charger.voltage_set)
        if charger.priority == "current":  # it holds a current, + sourcing or − sinking
            wish = charger.current_set
            power = charger.power_max / volts if volts > 0 else math.inf
            top = min(max(wish, 0.0), power) if self.charge_fet else 0.0
            bottom = -min(max(-wish, 0.0), charger.sink_max, power) if self.discharge_fet else 0.0
        else:
            wish = (charger.voltage_set - emf + r_cells * i_load) / (r_path + r_cells)
            top = charger.source_cap(volts) if self.charge_fet else 0.0
            bottom = -charger.sink_cap(emf) if self.discharge_fet else 0.0
        amps = min(max(wish, bottom), top)
        charger.mode = "CC" if wish > top else "CC-" if wish < bottom else "CV"
        if charger.mode == "CC" and top < charger.current_limit:
            charger.mode = "CP"  # the power envelope binds, not the current limit
        return amps

    def refresh(self) -> BenchState:
        """The solution for the present inputs: the last one, unless a change was marked
        (`simlab.changes.touch`) since it was solved. The shunt's warming alone marks
        nothing the circuit reads (`_seen`)."""
        if self._seen(changes.token()):
            return self.state
        return self.solve()

    def _seen(self, token: object) -> bool:
        """The last solution stands for `token`: solved at it, or only the shunt's warming
        replaced it since (which the BMS's view of the current reads live, the circuit
        not at all)."""
        return token is self._solved_at or token is self._warmed_at

    def settle(self) -> BenchState:
        """The solution once time has moved on: the last one, where nothing in it can
        have changed since it was solved, else a fresh solve.

        Time alone changes a solution only through the short relay (its contacts meet
        after their delay, a battery simulator's regulation catches up), a current
        still ramping or approaching its end, and LFP cells whose charge moved; every
        other input is written by code that solves or marks a change (`simlab.changes`).
        What the end of every time step asks: most steps change nothing the circuit
        reads."""
        relay = self.short_relay
        if (
            self._seen(changes.token())
            and not self.lfp_cells
            and not self._short_conducting
            and self._short_since is None
            and (relay is None or not relay.closed)
            and isinstance(self.traces["pack_current"].last, Const)
            and isinstance(self.traces["pack_voltage"].last, Const)
        ):
            return self.state
        return self.solve()

    def solve(self) -> BenchState:
        """Solve the circuit for the present setpoints and FET states; write the meters.

        Every instrument stays inside its envelope: the charger within its limit and
        power, the load within its range and power, and the battery side (emulator
        channels, a battery simulator) within what it can source or sink. Where the
        battery side is the bound, its limiting outputs leave constant voltage: charged
        beyond it, their voltage rises to meet the charger's; drained beyond it, the pack
        collapses to what the load can regulate at (the board browns out)."""
        self._solved_at = changes.token()  # taken first: a change marked during it counts
        r_path = self.params.r_path_ohm
        emf, r_cells = self._emf_and_r()
        src_cap, sink_cap = self._pack_caps()
        if self._responding():  # a battery simulator's capacitance carries the short's start
            src_cap = math.inf
        i_load = self._load_current(emf, r_cells)
        charger = self.charger
        i_charge = self._charger_current(emf, r_cells, i_load)
        i_short = self._short_current(emf, r_cells)
        i_pack = i_charge - i_load - i_short
        pack_v = emf + r_cells * i_pack
        bound = ""
        if src_cap <= 0.0 and sink_cap <= 0.0:  # an open string: nothing flows
            i_charge = i_load = i_short = i_pack = 0.0
            if charger is not None and charger.output_on:
                charger.mode = "CV"
        elif i_pack > sink_cap + 1e-12:  # charged beyond what the battery side absorbs
            i_charge, i_pack, bound = sink_cap + i_load + i_short, sink_cap, "sink"
            assert charger is not None
            pack_v = max(pack_v, charger.voltage_set - r_path * i_charge)
            charger.mode = "CV"
        elif i_pack < -src_cap - 1e-12:  # drained beyond what it sources
            budget = src_cap + max(i_charge, 0.0)
            i_short = min(i_short, budget)
            drawn = min(max(-i_charge, 0.0), budget - i_short)
            if i_charge < 0:
                i_charge = -drawn
            i_load = min(i_load, budget - i_short - drawn)
            i_pack, bound = -src_cap, "source"
            pack_v = max(i_short * self.params.short.r_ohm, self.params.load_min_v)
            if i_charge < 0 and charger is not None:
                pack_v = max(pack_v, charger.voltage_set)
        # every query that measures runs this loop: locals, one read of each field
        cells_v: list[float] = []
        lfp_cells, bleed_ohm = self.lfp_cells, self.bleed_ohm
        carry = 0.0 if self.pack_source is not None else i_pack  # sense taps carry no pack current
        limiters = []
        if bound:
            limiters = self._limiters(bound, sink_cap if bound == "sink" else src_cap)
        # the BMS's own supply current, where the battery side is a closed string
        draw = self.board_draw_a if (src_cap > 0.0 or sink_cap > 0.0) else 0.0
        cell_draw = 0.0 if self.pack_source is not None else draw
        excess = pack_v - (emf + r_cells * i_pack) if bound and self.pack_source is None else 0.0
        shared = excess / max(len(limiters), 1)
        for i, ch in enumerate(self.positions):
            if ch is None:
                cells_v.append(lfp_cells[i].terminal_v(carry))
                continue
            on = ch.output_on
            v = ch.voltage_set if on else 0.0
            at_limit = bool(bound) and on and ch in limiters and self.pack_source is None
            if at_limit:
                v = max(v + shared, 0.0)
            cells_v.append(v)
            ch.voltage_meas = v
            # the channel carries the string's current, and sources a bleed on top
            bleed = v / bleed_ohm[i + 1] if bleed_ohm and i + 1 in bleed_ohm else 0.0
            ch.current_meas = -carry + bleed + cell_draw if on else 0.0
            ch.in_current_limit = at_limit
            ch.mode = ("CC" if bound == "source" else "CC-") if at_limit else "CV" if on else "OFF"
        src = self.pack_source
        if src is not None:
            src.voltage_meas = pack_v if src.output_on else 0.0
            src.current_meas = -i_pack + draw if src.output_on else 0.0
            src.in_current_limit = bool(bound)
            src.mode = (
                "OFF"
                if not src.output_on
                else "CV"
                if not bound
                else ("CC" if bound == "source" else "CC-")
            )
        if charger is not None:
            charger.current_meas = i_charge
            charger.in_current_limit = charger.mode in ("CC", "CC-", "CP")
            if not charger.output_on:
                charger.voltage_meas = 0.0
                charger.mode = "OFF"
            elif i_charge != 0.0:
                charger.voltage_meas = pack_v + i_charge * r_path
            else:
                charger.voltage_meas = charger.voltage_set
        if self.load is not None:
            self.load.current_meas = i_load
            self.load.voltage_meas = pack_v - i_load * r_path if self.discharge_fet else 0.0

        present = (
            charger is not None
            and charger.output_on
            and charger.voltage_set > emf + self.params.charger_detect_v
        )
        self.state = BenchState(
            cells_v,
            pack_v,
            float(max(i_charge, 0.0)),
            float(i_load + max(-i_charge, 0.0)),
            float(i_pack),
            float(i_short),
            bool(present),
        )
        self._trace(float(i_pack), float(pack_v), emf, r_cells, i_short > 0.0)
        return self.state

    # -- the short-circuit loop -----------------------------------------------------------

    def short_closed(self) -> bool:
        """The short relay's contacts are closed (after the relay's own closing delay)."""
        relay = self.short_relay
        if relay is None or not relay.closed:
            self._short_since = None
            return False
        if self._short_since is None:
            self._short_since = self.t
        return self.t >= self._short_since + self.params.short.close_delay_s - 1e-12

    def short_closes_at(self) -> float | None:
        """When a commanded closure will make contact, if that is still ahead."""
        relay = self.short_relay
        if relay is None or not relay.closed or self._short_since is None:
            return None
        t = self._short_since + self.params.short.close_delay_s
        return t if t > self.t + 1e-12 else None

    def _contact_at(self) -> float | None:
        if self._short_since is None:
            return None
        return self._short_since + self.params.short.close_delay_s

    def _responding(self) -> bool:
        """A battery simulator's current regulation has not caught up with a short yet."""
        t = self._contact_at()
        if self.pack_source is None or t is None or not self.short_closed():
            return False
        return self.t < t + self.params.pack_source.response_s - 1e-12

    def response_ends_at(self) -> float | None:
        """When a battery simulator's regulation takes over a short, if that is ahead."""
        t = self._contact_at()
        if self.pack_source is None or t is None or self.short_relay is None:
            return None
        end = t + self.params.pack_source.response_s
        return end if self.short_relay.closed and end > self.t + 1e-12 else None

    def _short_current(self, emf: float, r_cells: float) -> float:
        """Settled current through the short loop: zero unless the contacts are closed and
        the discharge FET conducts (it blocks discharge when off, as the charge FET's body
        diode cannot carry current out of the pack)."""
        if not (self.short_closed() and self.discharge_fet) or emf <= 0:
            return 0.0
        return emf / (self.params.short.r_ohm + r_cells)

    def _trace(
        self, i_pack: float, pack_v: float, emf: float, r_cells: float, shorted: bool
    ) -> None:
        """Record the solution from `self.t` on: a step for an ordinary change, an RL
        approach while the short loop conducts, the FET's linear fall when it stops."""
        current = self.traces["pack_current"]
        short = self.params.short
        piece: Piece
        if shorted:
            tau = short.l_h / (short.r_ohm + r_cells)
            t = self._contact_at()
            if self.pack_source is not None and t is not None and not self._responding():
                tau = self.params.pack_source.regulate_s  # its regulation, not the loop
            last = current.last
            if isinstance(last, Approach) and last.v_end == i_pack and last.tau == tau:
                return
            piece = Approach(self.t, current.value(self.t), i_pack, tau)
        elif self._short_conducting:
            # the FET turning off cuts it in µs; a contactor opening under current arcs
            fall = short.turn_off_s if not self.discharge_fet else short.break_s
            piece = Ramp(self.t, current.value(self.t), i_pack, fall)
        else:
            piece = Const(self.t, i_pack)
        self._short_conducting = shorted
        last = current.last
        if (
            isinstance(piece, Const)
            and isinstance(last, Ramp)
            and last.v_end == i_pack
            and self.t < last.t0 + last.duration
        ):
            return  # a fall under way (the FET's, an arc's) ends where this solve would
        if isinstance(piece, Const):
            current.hold(self.t, i_pack)
            self.traces["pack_voltage"].hold(self.t, pack_v)
            return
        current.add(piece)
        self.traces["pack_voltage"].add(_affine(piece, emf, r_cells))

    # -- what the BMS's other inputs see -------------------------------------------------

    def sensed_current(self) -> Trace | TraceView:
        """The current the BMS's shunt input sees, in amperes (+ charging): the pack
        current, plus an emulated current where a generator drives the sense leads. The
        firmware's scans and the front end's comparators read this; the charger, the
        load and the cells carry only the real current."""
        real: Trace | TraceView = self.traces["pack_current"]
        heat = self.shunt_heat_factor
        if heat != 1.0:
            real = Scaled(self.traces["pack_current"], heat)
        inj = self.sense_injection
        if inj is None:
            return real
        gain = inj.sign / (inj.attenuation * self.params.shunt.r_ohm)
        if isinstance(real, Scaled):
            return Sum(self.traces["pack_current"], Scaled(inj.output.trace, gain), heat)
        return Sum(real, Scaled(inj.output.trace, gain))

    @property
    def shunt_heat_factor(self) -> float:
        """A warm shunt's resistance over its cold one: how much high the BMS reads."""
        return 1.0 + self.params.shunt.tempco_ppm_k * 1e-6 * self.shunt_rise_k

    def fet_temperature_c(self) -> float:
        return self.params.temperature_c + self.fet_rise_k

    def fet_temperature_after(self, dt: np.ndarray, current: float) -> np.ndarray:
        """The FETs' temperature `dt` seconds on at a constant `current` (the same law
        as `_heat`, exact): what a span of scans skipped as quiet would have read."""
        f = self.params.fet
        target = current * current * f.r_on_ohm * self.fet_r_factor * f.rth_k_w
        rise = target + (self.fet_rise_k - target) * np.exp(-np.asarray(dt) / f.tau_s)
        return self.params.temperature_c + rise

    def shunt_temperature_c(self) -> float:
        return self.params.temperature_c + self.shunt_rise_k

    def signal(self, quantity: str) -> Trace | TraceView:
        """A quantity a digitizer input can be wired to (TRACED, or SENSED)."""
        if quantity == SENSED:
            return self.sensed_current()
        return self.traces[quantity]

    def faults(self, action: str) -> set[int]:
        """Targets of the fault relays of `action` that are closed now."""
        return {
            target for relay, act, target in self.fault_relays if act == action and relay.closed
        }

    def ntc_ohms(self, count: int, ambient_ohms: float) -> list[float]:
        """Resistance at each of the BMS's NTC inputs 1..count: the emulator channel wired
        to it (open when its output is off), a fault relay's short or open, or an NTC at
        ambient (`ambient_ohms`) where nothing is wired."""
        shorted, opened = self.faults("short_ntc"), self.faults("open_ntc")
        out = []
        for n in range(1, count + 1):
            channel = self.ntc_channels.get(n)
            ohms = channel.effective_ohm if channel is not None else ambient_ohms
            if n in opened:
                ohms = float("inf")
            if n in shorted:
                ohms = 0.0
            out.append(ohms)
        return out

    def board_supply_v(self) -> float:
        """What the BMS board runs from: the pack's voltage at its terminals, or nothing
        while the supply relay (`wiring.dut_supply`) holds its feed cut. The firmware
        browns out below its `supply_min_v` and boots afresh, its RAM state lost, when
        the supply comes back."""
        if self.supply_relay is not None and self.supply_relay.closed:
            return 0.0
        return self.state.pack_v

    def open_leads(self) -> set[int]:
        """Sense leads the fault relays hold open now (the lead at the top of cell n):
        what the BMS's front end then reads is the firmware's (simlab.firmware.diagnostics)."""
        return self.faults("open_cell_sense")

    def step(self, dt: float) -> None:
        """Let `dt` seconds pass at the last solved current (LFP cells integrate charge;
        the shunt and the FETs warm towards what it dissipates in them)."""
        current = self.state.pack_current_a
        self._heat(current, dt)
        for i, cell in self.lfp_cells.items():
            bleed = 0.0
            if i + 1 in self.bleed_ohm:
                bleed = cell.terminal_v(current) / self.bleed_ohm[i + 1]
            cell.step(current - bleed, dt)
        if self.lfp_cells:
            changes.touch()  # their charge moved: the next measurement solves again

    def _heat(self, current: float, dt: float) -> None:
        """First-order heating of the shunt and the FETs at `current` over `dt`. A rise
        of the shunt's changes what the BMS measures, so it marks a change."""
        p = self.params
        old = self.shunt_rise_k
        for attr, r_ohm, rth, tau in (
            ("shunt_rise_k", p.shunt.r_ohm, p.shunt.rth_k_w, p.shunt.tau_s),
            ("fet_rise_k", p.fet.r_on_ohm * self.fet_r_factor, p.fet.rth_k_w, p.fet.tau_s),
        ):
            target = current * current * r_ohm * rth
            rise = getattr(self, attr)
            if rise == target:
                continue
            setattr(self, attr, target + (rise - target) * math.exp(-dt / tau))
        if abs(self.shunt_rise_k - old) > 1e-6:
            unseen = changes.token() not in (self._solved_at, self._warmed_at)
            changes.touch()
            self._warmed_at = None if unseen else changes.token()


def _affine(piece: Piece, offset: float, gain: float) -> Piece:
    """The same law for offset + gain·x (the pack voltage from the pack current)."""
    if isinstance(piece, Approach):
        return Approach(
            piece.t0, offset + gain * piece.v_start, offset + gain * piece.v_end, piece.tau
        )
    if isinstance(piece, Ramp):
        return Ramp(
            piece.t0, offset + gain * piece.v_start, offset + gain * piece.v_end, piece.duration
        )
    assert isinstance(piece, Const)
    return Const(piece.t0, offset + gain * piece.v)
