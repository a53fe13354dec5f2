"""Builders shared by simlab's own tests: a World wired to plain hardware objects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlab.firmware import Firmware, FirmwareParams
from simlab.hardware import LoadInput, RelayChannel, ResistorChannel, SourceChannel
from simlab.physics import Bench
from simlab.world import World


@dataclass
class Rig:
    world: World
    cells: list[SourceChannel]
    charger: SourceChannel
    load: LoadInput
    short: RelayChannel  # closing it shorts the pack output
    ntcs: list[ResistorChannel]  # NTC inputs 1 and 2, at 25 °C (10 kΩ, B 3435 K)
    faults: dict[str, RelayChannel]  # "cell_5_sense_open", "ntc_1_short", "ntc_2_open"

    def set_ntc(self, ntc: int, celsius: float) -> None:
        self.ntcs[ntc - 1].resistance_ohm = self.world.firmware.params.ntc.ohms_at(celsius)

    def close_short(self) -> float:
        """Close the short relay now (as the SCPI twin does); the virtual time it closed."""
        self.short.closed = True
        self.world.solve()
        return self.world.t

    def set_cells(self, volts: float) -> None:
        for ch in self.cells:
            ch.voltage_set, ch.output_on = volts, True

    def set_cell(self, position: int, volts: float) -> None:
        self.cells[position - 1].voltage_set = volts

    @property
    def state(self) -> dict:
        return self.world.truth()["state"]


def make_rig(
    seed: int = 0, n: int = 16, noise: float | None = 0.0, nominal: float = 3.3, phase: float = 0.0
) -> Rig:
    """A World with n emulator channels at `nominal` (outputs on), a charger and a load.

    Scans start at `phase` (default t = 0), so timing assertions can name exact scan times.
    """
    # Stiff cell sources: these rigs exercise the firmware and the circuit's laws with
    # the currents a protection needs (kA shorts included); what real instruments can
    # carry is tested on stations built from their twins (test_sim_envelope.py).
    cells = [
        SourceChannel(voltage_set=nominal, current_limit=1e5, sink_max=1e5, output_on=True)
        for _ in range(n)
    ]
    charger = SourceChannel(voltage_set=0.0, current_limit=5.0)
    load = LoadInput()
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)]
    firmware = Firmware(n, FirmwareParams(scan_phase_s=phase), rng=rngs[1])
    world = World(Bench(list(cells), charger, load, rng=rngs[0]), firmware)
    if noise is not None:
        world.set("firmware.adc_noise_v", noise)
    bench = world.bench
    short = RelayChannel(on_change=world.solve)
    ntcs = [ResistorChannel(resistance_ohm=10_000.0, output_on=True) for _ in range(2)]
    faults = {
        "cell_5_sense_open": (RelayChannel(on_change=world.solve), "open_cell_sense", 5),
        "ntc_1_short": (RelayChannel(on_change=world.solve), "short_ntc", 1),
        "ntc_2_open": (RelayChannel(on_change=world.solve), "open_ntc", 2),
    }
    bench.short_relay = short
    bench.ntc_channels = {1: ntcs[0], 2: ntcs[1]}
    bench.fault_relays = list(faults.values())
    return Rig(world, cells, charger, load, short, ntcs, {k: v[0] for k, v in faults.items()})
