"""Switch mainframes with plug-in modules: channel numbers, module types, ROUTe commands.

A channel is `slot·100 + n` (`(@301)` is channel 1 of the module in slot 3), as the
Keysight DAQ970A/34970A and the Rigol M300 number them. A model names its mainframe,
the modules it knows (channels per module) and its identity; closing, opening and
querying channels is the same on both. A multifunction module's digital ports (the
DAQM907A's s01 and s02) read their eight input lines with `[SENSe:]DIGital:DATA:BYTE?
(@301)` or `MEASure:DIGital:BYTE? (@301)` (34970A/DAQ970A programming guide); a station
wires an interlock loop to one of their lines.
"""

from __future__ import annotations

from typing import ClassVar

from simlab.hardware import DigitalPort, InstrumentHardware, RelayChannel
from simlab.scpi import params as p
from simlab.scpi.device import Chans, ScpiDevice, command
from simlab.scpi.errors import ScpiError

LIST = Chans.REQUIRED


class SwitchMainframe(ScpiDevice):
    SLOTS: ClassVar[int] = 3
    MODULES: ClassVar[dict[str, int]] = {}  # module model -> channels on it
    # module model -> its digital ports (8 bits each), numbered after its relay channels
    DIGITAL: ClassVar[dict[str, int]] = {}
    MODULE_VENDOR: ClassVar[str] = ""
    MODULE_FIRMWARE: ClassVar[str] = "1.0"
    DEFAULT_MODULES: ClassVar[tuple[str, ...]] = ()
    INT_FORMAT = "{:d}"

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        modules = list(cls.DEFAULT_MODULES) if modules is None else modules
        if not 1 <= len(modules) <= cls.SLOTS:
            raise ValueError(f"the {cls.MODEL} has 1 to {cls.SLOTS} slots, got {len(modules)}")
        relays: dict[int, RelayChannel] = {}
        digital: dict[int, DigitalPort] = {}
        for slot, module in enumerate(modules, 1):
            if module not in cls.MODULES:
                known = ", ".join(cls.MODULES)
                raise ValueError(
                    f"module {module!r} not emulated in the {cls.MODEL}; known: {known}"
                )
            for n in range(1, cls.MODULES[module] + 1):
                relays[slot * 100 + n] = RelayChannel()
            for n in range(1, cls.DIGITAL.get(module, 0) + 1):
                digital[slot * 100 + cls.MODULES[module] + n] = DigitalPort()
        return InstrumentHardware(
            f"{cls.VENDOR} {cls.MODEL}", relays=relays, digital=digital, modules=modules
        )

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        if not (hardware.relays or hardware.digital) or not hardware.modules:
            raise ValueError(f"{self.MODEL} needs relay channels and a module list")

    def channel_numbers(self) -> list[int]:
        return sorted([*self.hardware.relays, *self.hardware.digital])

    def _relays(self, chans: list[int]) -> list[int]:
        for ch in chans:
            if ch not in self.hardware.relays:
                raise ScpiError(-222, f"channel {ch} is not a switch channel")
        return chans

    def _ports(self, chans: list[int]) -> list[int]:
        for ch in chans:
            if ch not in self.hardware.digital:
                raise ScpiError(-222, f"channel {ch} is not a digital port")
        return chans

    def reset_state(self) -> None:
        for channel in self.hardware.relays:
            self._move(channel, False)

    def _move(self, channel: int, closed: bool) -> None:
        relay = self.hardware.relays[channel]
        if relay.closed != closed:
            relay.closed = closed
            if relay.on_change is not None:
                relay.on_change()

    def close(self, chans: list[int]) -> None:
        for ch in self._relays(chans):
            self._move(ch, True)

    def close_exclusive(self, chans: list[int]) -> None:
        self._relays(chans)
        slots = {ch // 100 for ch in chans}
        for ch in self.hardware.relays:
            if ch // 100 in slots and ch not in chans:
                self._move(ch, False)
        self.close(chans)

    def open(self, chans: list[int]) -> None:
        for ch in self._relays(chans):
            self._move(ch, False)

    def closed_query(self, chans: list[int]) -> str:
        relays = self.hardware.relays
        return ",".join("1" if relays[ch].closed else "0" for ch in self._relays(chans))

    def open_query(self, chans: list[int]) -> str:
        relays = self.hardware.relays
        return ",".join("0" if relays[ch].closed else "1" for ch in self._relays(chans))

    def digital_byte(self, chans: list[int]) -> str:
        """Each port's eight input lines as one integer 0-255, bit 0 = line 0."""
        return ",".join(str(self.hardware.digital[ch].read()) for ch in self._ports(chans))

    def card_type(self, slot: int) -> str:
        index = slot // 100 if slot >= 100 else slot
        if not 1 <= index <= len(self.hardware.modules):
            raise ScpiError(-222, f"no module in slot {slot}")
        module = self.hardware.modules[index - 1]
        return f"{self.MODULE_VENDOR},{module},0,{self.MODULE_FIRMWARE}"

    COMMANDS = (
        command("ROUTe:CLOSe", close, chans=LIST),
        command("ROUTe:CLOSe?", closed_query, chans=LIST),
        command("ROUTe:CLOSe:EXCLusive", close_exclusive, chans=LIST),
        command("ROUTe:OPEN", open, chans=LIST),
        command("ROUTe:OPEN?", open_query, chans=LIST),
        command("SYSTem:CTYPe?", card_type, p.integer),
        command("[SENSe:]DIGital:DATA:BYTE?", digital_byte, chans=LIST),
        command("MEASure:DIGital:BYTE?", digital_byte, chans=LIST),
    )
