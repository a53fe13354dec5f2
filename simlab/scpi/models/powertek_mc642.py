"""Powertek MC642 (Meatest M642) programmable resistance decade, one output.

Identity `Powertek,MC642,<serial>,<firmware>` and the SCPI error queue (`SYSTem:ERRor?`)
as the MC642 operation manual gives them. The resistance and output commands follow
SCPI-99's source subsystem, `[SOURce:]RESistance[:LEVel][:IMMediate][:AMPLitude]` and
`OUTPut[:STATe]`; the manual's own command tree could not be read here, so those two
lines and the 0–10 MΩ range are NOT confirmed against it (see docs/instruments.md).
"""

from __future__ import annotations

from simlab.hardware import InstrumentHardware, ResistorChannel
from simlab.scpi import params as p
from simlab.scpi.device import ScpiDevice, command, opt

R_MAX = 10e6
RES = "[SOURce:]RESistance[:LEVel][:IMMediate][:AMPLitude]"


class PowertekMC642(ScpiDevice):
    VENDOR = "Powertek"
    MODEL = "MC642"
    FIRMWARE = "1.00"
    NUMBER_FORMAT = "{:.6E}"
    INT_FORMAT = "{:d}"

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        if modules:
            raise ValueError("the MC642 has no modules")
        return InstrumentHardware("Powertek MC642", resistors={1: ResistorChannel()})

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        if sorted(hardware.resistors) != [1]:
            raise ValueError(f"MC642 needs resistors [1], got {sorted(hardware.resistors)}")

    def channel_numbers(self) -> list[int]:
        return [1]

    def reset_state(self) -> None:
        out = self.hardware.resistors[1]
        out.output_on = False
        out.resistance_ohm = R_MAX

    def set_resistance(self, value: float | str) -> None:
        self.hardware.resistors[1].resistance_ohm = p.resolve(value, 0.0, R_MAX, R_MAX)

    def get_resistance(self, limit: str | None) -> str:
        if limit:
            return self.fmt(p.resolve(limit, 0.0, R_MAX, R_MAX))
        return self.fmt(self.hardware.resistors[1].resistance_ohm)

    def set_output(self, state: bool) -> None:
        self.hardware.resistors[1].output_on = state

    def get_output(self) -> str:
        return "1" if self.hardware.resistors[1].output_on else "0"

    COMMANDS = (
        command(RES, set_resistance, p.numeric),
        command(RES + "?", get_resistance, opt(p.limit_word)),
        command("OUTPut[:STATe]", set_output, p.boolean),
        command("OUTPut[:STATe]?", get_output),
    )
