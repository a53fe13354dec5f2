"""Fluke 5522A multi-product calibrator, emulated as a programmable resistance (ohms output).

A lab uses the calibrator's synthesized resistance to stand in for one NTC. Only the
resistance function is emulated; asking for volts, amps or hertz is answered with -221
("Settings conflict"), so a client that relies on them finds out at once.

Remote syntax from the 5520A/5522A programmers' manual: `OUT 10 KOHM` (a unit suffix
with SCPI multipliers, `MOHM` = megohm), `OUT?` answers amplitude and unit first, `OPER` /
`STBY` switch the output terminals, `OPER?` answers 1/0, `ZCOMP NONE|WIRE2|WIRE4` selects
the lead compensation, `ERR?` reads the error queue (`SYST:ERR?` is accepted too).
Resistance output range 0 to 1100 MΩ.
"""

from __future__ import annotations

from simlab.hardware import InstrumentHardware, ResistorChannel
from simlab.scpi import params as p
from simlab.scpi.device import ScpiDevice, command
from simlab.scpi.errors import ScpiError
from simlab.scpi.parser import Suffixed, Token

R_MAX = 1.1e9
SETTINGS_CONFLICT = -221


class Fluke5522A(ScpiDevice):
    VENDOR = "FLUKE"
    MODEL = "5522A"
    FIRMWARE = "4.2+1.3+2.0+*"
    OPTIONS = ""  # no SC600/SC1100/PQ option installed
    ACCEPTS_SUFFIXES = True
    NUMBER_FORMAT = "{:.6E}"
    INT_FORMAT = "{:d}"

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        if modules:
            raise ValueError("the 5522A has no modules")
        return InstrumentHardware("Fluke 5522A", resistors={1: ResistorChannel()})

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        if sorted(hardware.resistors) != [1]:
            raise ValueError(f"5522A needs resistors [1], got {sorted(hardware.resistors)}")

    def channel_numbers(self) -> list[int]:
        return [1]

    def reset_state(self) -> None:
        out = self.hardware.resistors[1]
        out.output_on = False
        out.resistance_ohm = 0.0
        self.zcomp = "NONE"

    def set_output(self, amplitude: tuple[float | str, str]) -> None:
        value, unit = amplitude
        if unit != "OHM":
            raise ScpiError(SETTINGS_CONFLICT, f"{unit} output not emulated")
        self.hardware.resistors[1].resistance_ohm = p.resolve(value, 0.0, R_MAX, 0.0)

    def get_output(self) -> str:
        ohms = self.hardware.resistors[1].resistance_ohm
        return f"{self.fmt(ohms)},OHM,{self.fmt(0.0)},0,{self.fmt(0.0)}"

    def operate(self) -> None:
        self.hardware.resistors[1].output_on = True

    def standby(self) -> None:
        self.hardware.resistors[1].output_on = False

    def get_operate(self) -> str:
        return "1" if self.hardware.resistors[1].output_on else "0"

    def set_zcomp(self, mode: str) -> None:
        self.zcomp = mode

    def get_zcomp(self) -> str:
        return self.zcomp

    COMMANDS = (
        command("OUT", set_output, lambda token: _amplitude(token)),
        command("OUT?", get_output),
        command("OPER", operate),
        command("OPER?", get_operate),
        command("STBY", standby),
        command("ZCOMP", set_zcomp, p.choice("NONE", "WIRE2", "WIRE4")),
        command("ZCOMP?", get_zcomp),
        command("ERR?", ScpiDevice._error_query),
    )


def _amplitude(token: Token) -> tuple[float | str, str]:
    """`10 KOHM` -> (10000.0, "OHM"); a bare number or MIN/MAX keeps the ohms function.

    Any other unit comes back as itself, so the handler can refuse it with -221.
    """
    if isinstance(token, Suffixed) and not token.suffix.endswith("OHM"):
        return 0.0, token.suffix
    return p.with_unit("OHM")(token), "OHM"
