"""Builders shared by simlab's own tests: a World wired to plain hardware objects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlab.firmware import Firmware, FirmwareParams
from simlab.hardware import LoadInput, SourceChannel
from simlab.physics import Bench
from simlab.world import World


@dataclass
class Rig:
    world: World
    cells: list[SourceChannel]
    charger: SourceChannel
    load: LoadInput

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
    cells = [
        SourceChannel(voltage_set=nominal, current_limit=3.0, output_on=True) for _ in range(n)
    ]
    charger = SourceChannel(voltage_set=0.0, current_limit=5.0)
    load = LoadInput()
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)]
    firmware = Firmware(n, FirmwareParams(scan_phase_s=phase), rng=rngs[1])
    world = World(Bench(list(cells), charger, load, rng=rngs[0]), firmware)
    if noise is not None:
        world.set("firmware.adc_noise_v", noise)
    return Rig(world, cells, charger, load)
