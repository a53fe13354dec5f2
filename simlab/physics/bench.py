"""The bench circuit: a series string of cells, the BMS FETs, the charger and the load.

`solve()` is the instantaneous electrical state (no time passes) and writes what each
instrument's meter would read back into its `InstrumentHardware`; SCPI servers call it
after every setpoint so a query right after a command sees the new operating point.
`step(dt)` lets time pass for the cells that have state (LFP cells; emulators are ideal).

Cell positions are numbered from 1 at the most negative end. A position wired to an
emulator channel is an ideal voltage source (0 V when its output is off: an unpowered
sense line reads 0); an unwired position is an `LfpCell`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simlab.hardware import LoadInput, RelayChannel, ResistorChannel, SourceChannel
from simlab.params import flatten, get_path, set_path, unknown_path
from simlab.physics.lfp import LfpCell, LfpParams, make_cells
from simlab.physics.trace import Trace

# Quantities a digitizer input can be wired to, and how each follows from the solution.
TRACED = ("pack_current", "pack_voltage")


@dataclass
class BenchParams:
    """Circuit parameters, addressable as `physics.<name>`."""

    r_path_ohm: float = 0.05  # wiring + FETs between an instrument and the pack terminals
    load_min_v: float = 0.5  # below this pack voltage the load cannot sink current
    load_max_a: float = 40.0  # the load's own limit (matters in CV/CR modes)
    temperature_c: float = 25.0  # what both NTCs sit at until a thermistor emulator exists
    lfp: LfpParams = field(default_factory=LfpParams)

    def validate(self) -> None:
        if self.r_path_ohm <= 0:
            raise ValueError("physics.r_path_ohm must be > 0")
        if self.load_min_v < 0 or self.load_max_a < 0:
            raise ValueError("physics.load_min_v and physics.load_max_a must be >= 0")
        self.lfp.validate()


@dataclass
class BenchState:
    """One solution of the circuit. Currents in A, positive pack current = charging."""

    cells_v: list[float]
    pack_v: float
    charge_a: float
    load_a: float
    pack_current_a: float


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
        self.state = BenchState([0.0] * len(positions), 0.0, 0.0, 0.0, 0.0)
        self.t = 0.0  # virtual time of the present solution (the world keeps it)
        # Wired by the lab from the station file: NTC inputs driven by resistance
        # channels, the short-circuit relay, and fault relays (relay, action, target).
        self.ntc_channels: dict[int, ResistorChannel] = {}
        self.short_relay: RelayChannel | None = None
        self.fault_relays: list[tuple[RelayChannel, str, int]] = []
        self.traces = {name: Trace(0.0) for name in TRACED}

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
        emf, r = 0.0, 0.0
        for i, ch in enumerate(self.positions):
            if ch is None:
                cell = self.lfp_cells[i]
                emf += cell.ocv()
                r += cell.r_ohm
            elif ch.output_on:
                emf += ch.voltage_set
        return emf, r

    def _load_current(self, emf: float, r_cells: float) -> float:
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
        return min(max(amps, 0.0), self.params.load_max_a)

    def solve(self) -> BenchState:
        """Solve the circuit for the present setpoints and FET states; write the meters."""
        r_path = self.params.r_path_ohm
        emf, r_cells = self._emf_and_r()
        i_load = self._load_current(emf, r_cells)

        i_charge, limited = 0.0, False
        charger = self.charger
        if charger is not None and charger.output_on and self.charge_fet:
            unclamped = (charger.voltage_set - emf + r_cells * i_load) / (r_path + r_cells)
            limited = unclamped > charger.current_limit
            i_charge = min(max(unclamped, 0.0), charger.current_limit)

        i_pack = i_charge - i_load
        pack_v = emf + r_cells * i_pack
        cells_v = []
        for i, ch in enumerate(self.positions):
            if ch is None:
                cells_v.append(self.lfp_cells[i].terminal_v(i_pack))
            else:
                cells_v.append(ch.voltage_set if ch.output_on else 0.0)
                ch.voltage_meas = cells_v[-1]
                ch.current_meas = -i_pack if ch.output_on else 0.0
                ch.in_current_limit = ch.output_on and abs(i_pack) > ch.current_limit

        if charger is not None:
            charger.current_meas = i_charge
            charger.in_current_limit = limited
            if not charger.output_on:
                charger.voltage_meas = 0.0
            elif i_charge > 0.0:
                charger.voltage_meas = pack_v + i_charge * r_path
            else:
                charger.voltage_meas = charger.voltage_set
        if self.load is not None:
            self.load.current_meas = i_load
            self.load.voltage_meas = pack_v - i_load * r_path if self.discharge_fet else 0.0

        self.state = BenchState(cells_v, pack_v, float(i_charge), float(i_load), float(i_pack))
        self.traces["pack_current"].hold(self.t, float(i_pack))
        self.traces["pack_voltage"].hold(self.t, float(pack_v))
        return self.state

    def step(self, dt: float) -> None:
        """Let `dt` seconds pass at the last solved current (LFP cells integrate charge)."""
        current = self.state.pack_current_a
        for cell in self.lfp_cells.values():
            cell.step(current, dt)
