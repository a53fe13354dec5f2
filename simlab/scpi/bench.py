"""A device on a stand-in bench: drive a simulated instrument without the lab or sockets.

For unit tests of the SCPI twins and for driver authors who want to see what a model
answers: ``bench.ask("VOLT? (@1)")``, ``bench.errors()``; ``on_solve`` plays the physics.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from simlab.hardware import InstrumentHardware
from simlab.scpi import ScpiDevice, create_device, make_hardware

_CODE = re.compile(r"\s*[+-]?\d+")  # the code leads every vendor's SYST:ERR? reply


@dataclass
class Bench:
    """A device, its hardware, and a count of physics solves it asked for."""

    device: ScpiDevice
    hardware: InstrumentHardware
    solves: list[int] = field(default_factory=list)
    on_solve: Callable[[InstrumentHardware], None] | None = None

    def ask(self, message: str) -> str | None:
        return self.device.handle(message)

    def errors(self) -> list[int]:
        """Drain the queue through SYST:ERR? as a client would; codes, oldest first."""
        codes: list[int] = []
        while True:
            reply = self.ask("SYST:ERR?")
            assert reply is not None
            code = int(_CODE.match(reply).group())  # type: ignore[union-attr]
            if code == 0:
                return codes
            codes.append(code)


def make_bench(model: str, serial: str = "SIM0001", modules: list[str] | None = None) -> Bench:
    hardware = make_hardware(model, modules)
    solves: list[int] = []
    holder: list[Bench] = []

    def solve() -> None:
        solves.append(1)
        if holder and holder[0].on_solve is not None:
            holder[0].on_solve(hardware)

    bench = Bench(create_device(model, hardware, serial, solve), hardware, solves)
    holder.append(bench)
    return bench
