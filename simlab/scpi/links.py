"""Which links each twin's real model has: LAN (raw socket, HiSLIP), RS-232, USB, GPIB.

simlab serves a twin over the links its model has, so a station file written for the
served lab (`serve --write-station --transport ...`) names resources a real unit of that
model would answer on. Every twin is served on a raw socket (as port 5025 or Rigol's
5555); HiSLIP only where the model's LAN port speaks it; a serial line only where the
model has an RS-232 port, with the model's factory line settings.

The facts and where they come from are in `docs/bench.md` ("Links per model"); a line
not confirmed in a vendor document says so in its `source`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SerialLine:
    """An RS-232 port's factory settings: what a client must set to be understood."""

    baud: int = 9600
    data_bits: int = 8
    parity: str = "N"  # N, E or O
    stop_bits: int = 1
    flow_control: str = "none"  # none | xon_xoff | rts_cts
    reply_end: str = "\n"  # what ends each reply on this port
    source: str = ""


@dataclass(frozen=True)
class Links:
    hislip: bool = False  # the LAN port speaks HiSLIP (TCPIP::host::hislip0::INSTR)
    lan: bool = True  # a LAN port at all (raw socket, VXI-11)
    serial: SerialLine | None = None
    usb: bool = True  # a USBTMC device port
    gpib: str = "no"  # "yes", "option", "no"
    source: str = ""


KEYSIGHT_LAN = (
    "Keysight data sheet of the model, 'Programming interfaces' (LAN: HiSLIP, VXI-11, sockets)"
)

LINKS: dict[str, Links] = {
    "Keysight E36234A": Links(hislip=True, gpib="option", source=KEYSIGHT_LAN),
    "Keysight E36312A": Links(hislip=True, gpib="option", source=KEYSIGHT_LAN),
    "Keysight EL34143A": Links(hislip=True, gpib="option", source=KEYSIGHT_LAN),
    "Keysight N6705C": Links(hislip=True, gpib="yes", source=KEYSIGHT_LAN),
    "Keysight 34465A": Links(hislip=True, gpib="option", source=KEYSIGHT_LAN),
    "Keysight DAQ970A": Links(hislip=True, source=KEYSIGHT_LAN),
    "Rigol DP832": Links(
        serial=SerialLine(9600, source="DP800 User's Guide, RS232 settings (factory 9600 8N1)"),
        gpib="option",
        source="Rigol DP800 User's Guide: LAN (VXI-11, socket 5555), USB, RS232, GPIB via USB-GPIB",
    ),
    "Rigol DL3021": Links(
        serial=SerialLine(9600, source="DL3000 User's Guide, RS232 settings (factory 9600 8N1)"),
        gpib="option",
        source="Rigol DL3000 User's Guide: LAN (VXI-11, socket 5555), USB, RS232",
    ),
    "Fluke 5522A": Links(
        lan=False,
        usb=False,
        serial=SerialLine(
            9600,
            flow_control="xon_xoff",
            reply_end="\r\n",
            source="5522A Operators Manual, RS-232 host port setup (9600 8N1, XON/XOFF, EOL CRLF)",
        ),
        gpib="yes",
        source="Fluke 5522A Operators Manual ch. 5: IEEE-488 and RS-232 (SERIAL 1 FROM HOST)",
    ),
    "Powertek MC642": Links(
        serial=SerialLine(9600, source="(unconfirmed) Meatest M642 manual not at hand"),
        source="(unconfirmed) Meatest M642: RS-232, USB, LAN",
    ),
    "Rigol DS1104Z": Links(source="Rigol DS1000Z User's Guide: LAN (VXI-11, socket 5555), USB"),
    "Rigol M300": Links(source="Rigol M300 User's Guide: LAN, USB"),
    "Siglent SPD3303X": Links(source="Siglent SPD3303X User Manual: LAN (VXI-11, socket), USB"),
    "Siglent SDL1020X": Links(source="Siglent SDL1000X User Manual: LAN (VXI-11, socket), USB"),
    "NGI N83624": Links(usb=False, source="NGI N83624 SCPI programming guide: LAN (socket)"),
}


def links_of(model: str) -> Links:
    """A model's links; one the table does not name is served on a raw socket only."""
    return LINKS.get(model, Links(usb=False, source="not stated"))
