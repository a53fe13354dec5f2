"""`rig station scan`: find the instruments (and the BMS) a bench has, and draft its station file.

Where scan looks:

- the VISA library's own list (`list_resources()`: USB-TMC and GPIB instruments, serial
  ports, and on pyvisa-py VXI-11 instruments answering a UDP broadcast and HiSLIP ones
  announced over mDNS); `--no-discover` skips it (no broadcast leaves the host);
- the serial ports pyserial lists (USB-serial adapters, RS-232 ports);
- raw-socket ports on a host (`--host 192.0.2.10 --ports 5025,5555`): LAN instruments
  that answer SCPI on a socket but are not announced, and simlab's served instruments,
  whose ports nothing announces; a port that turns out to speak HiSLIP is used as such;
- any VISA resource named on the command line.

Each candidate is asked `*IDN?` (a serial port at the common baud rates in turn); a reply
whose maker and model the registry knows is recognised. Serial ports that answer no SCPI
are tried with each UART BMS protocol (read-only requests); CAN interfaces python-can can
detect are listed. The draft puts every recognised instrument in the role its model
fills, wires the obvious (charger and load on channel 1, cells on the emulators'
channels in order, NTCs on the resistance sources), and marks each line a person must
decide with `# DECIDE`.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyvisa

from instruments.registry import MODELS, open_instrument

SERIAL_BAUDS = (9600, 19200, 38400, 57600, 115200)


@dataclass
class Found:
    resource: str
    idn: str = ""
    model: str | None = None  # the registry's name for it, when recognised
    error: str = ""
    baud: int | None = None  # a serial port: the rate it answered at
    facts: dict[str, Any] = field(default_factory=dict)  # modules, channel count


@dataclass
class ScanResult:
    instruments: list[Found] = field(default_factory=list)
    bms: dict[str, Any] | None = None  # {"protocol", "port", "cell_count"}
    can: list[dict[str, Any]] = field(default_factory=list)
    quiet_ports: list[str] = field(default_factory=list)  # serial ports nothing answered on


def parse_ports(text: str) -> list[int]:
    """`5025,5555,40000-40010` → the ports, in order, each once."""
    ports: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise ValueError(f"not a port or range: {part!r}") from None
        if not 0 < low <= high < 65536 or high - low > 4096:
            raise ValueError(f"port range out of bounds: {part!r}")
        ports += [p for p in range(low, high + 1) if p not in ports]
    return ports


def recognise(idn: str) -> str | None:
    """The registry's model for an `*IDN?` reply (maker and model fields), or None."""
    fields = [f.strip() for f in idn.split(",")]
    if len(fields) < 2:
        return None
    vendor, model = fields[0].casefold(), fields[1].casefold()
    for name, entry in MODELS.items():
        driver = entry.driver
        if model == driver.MODEL.casefold() and vendor in {v.casefold() for v in driver.VENDORS}:
            return name
    return None


def _open_ports(host: str, ports: Iterable[int], timeout_s: float) -> list[int]:
    found = []
    for port in ports:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout_s):
            found.append(port)
    return found


def _speaks_hislip(host: str, port: int, timeout_s: float) -> bool:
    """A HiSLIP server answers a text line with a FatalError header (`HS`...)."""
    try:
        with socket.create_connection((host, port), timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(b"*IDN?\n")
            return sock.recv(2) == b"HS"
    except OSError:
        return False


def socket_resources(host: str, ports: Iterable[int], timeout_s: float = 0.3) -> list[str]:
    """VISA resources for the ports open on `host`: HiSLIP where the port speaks it."""
    resources = []
    for port in _open_ports(host, ports, timeout_s):
        if _speaks_hislip(host, port, timeout_s):
            resources.append(f"TCPIP::{host}::hislip0,{port}::INSTR")
        else:
            resources.append(f"TCPIP::{host}::{port}::SOCKET")
    return resources


def serial_ports() -> list[str]:
    from serial.tools import list_ports

    return [f"ASRL{port.device}::INSTR" for port in list_ports.comports()]


def can_interfaces() -> list[dict[str, Any]]:
    """CAN interfaces python-can finds on this host (hardware ones; no virtual bus)."""
    import can

    interfaces = ["socketcan", "pcan", "kvaser", "ixxat", "vector", "gs_usb", "nican"]
    with contextlib.suppress(Exception):
        return [dict(c) for c in can.detect_available_configs(interfaces=interfaces)]
    return []


def probe(rm: pyvisa.ResourceManager, resource: str, timeout_ms: int) -> Found:
    """Ask `*IDN?`; on a serial port at each common baud rate until one answers."""
    found = Found(resource)
    bauds: tuple[int | None, ...] = SERIAL_BAUDS if resource.upper().startswith("ASRL") else (None,)
    for baud in bauds:
        options: dict[str, Any] = {"timeout": timeout_ms, "write_termination": "\n"}
        options["read_termination"] = "\n"
        if baud is not None:
            options["baud_rate"] = baud
        try:
            inst = rm.open_resource(resource, **options)
        except (pyvisa.errors.Error, OSError, RuntimeError, ValueError) as exc:
            found.error = f"cannot open: {exc}"
            return found
        try:
            found.idn = inst.query("*IDN?").strip()
            found.baud = baud
            found.error = ""
            break
        except (pyvisa.errors.Error, OSError, RuntimeError, UnicodeDecodeError) as exc:
            found.error = f"no answer to *IDN?: {type(exc).__name__}"
        finally:
            with contextlib.suppress(Exception):
                inst.close()
    found.model = recognise(found.idn) if found.idn else None
    if found.idn and found.model is None:
        found.error = "a model the rig does not know"
    return found


def _facts(found: Found, visa_library: str, timeout_ms: int) -> None:
    """What the draft needs beyond identity: a mainframe's modules."""
    assert found.model is not None
    serial_line = {"baud_rate": found.baud} if found.baud else None
    try:
        driver = open_instrument(
            found.model,
            found.resource,
            found.model,
            timeout_ms=timeout_ms,
            visa_library=visa_library,
            serial_line=serial_line,
        )
    except Exception as exc:
        found.error = f"recognised, but the driver cannot open it: {exc}"
        return
    try:
        read = getattr(driver, "installed_modules", None)
        if read is not None:
            modules = [str(m).strip() for m in read()]
            found.facts["modules"] = [m for m in modules if m and m not in ("0", "NONE")]
        found.facts["channels"] = getattr(driver, "channel_count", 1)
    except Exception as exc:
        found.facts["modules_error"] = str(exc)
    finally:
        with contextlib.suppress(Exception):
            driver.clear()  # an empty slot's query queued an error: leave the queue as found
        with contextlib.suppress(Exception):
            driver.adapter.close()


def detect_bms(port: str, timeout_s: float = 0.5) -> dict[str, Any] | None:
    """Which UART BMS protocol answers on `port` (read-only requests), or None."""
    from dut_drivers.registry import PROTOCOLS, LinkOptions

    for name, info in PROTOCOLS.items():
        if info.transport != "uart":
            continue
        link = None
        try:
            link = info.open(LinkOptions(port=port, timeout_s=timeout_s, retries=0))
            identity = link.identity()
            return {"protocol": name, "port": port, "cell_count": identity.cell_count}
        except Exception:
            continue
        finally:
            if link is not None:
                with contextlib.suppress(Exception):
                    link.close()
    return None


def scan(
    resources: list[str],
    visa_library: str = "@py",
    discover: bool = True,
    host: str | None = None,
    ports: list[int] | None = None,
    serial: bool = True,
    can: bool = True,
    bms_ports: list[str] | None = None,
    timeout_ms: int = 500,
) -> ScanResult:
    rm = pyvisa.ResourceManager(visa_library)
    try:
        candidates = list(resources)
        if host and ports:
            candidates += socket_resources(host, ports)
        if discover:
            with contextlib.suppress(Exception):
                candidates += list(rm.list_resources())
        if serial:
            candidates += serial_ports()
        seen: set[str] = set()
        result = ScanResult()
        for resource in candidates:
            if resource in seen:
                continue
            seen.add(resource)
            found = probe(rm, resource, timeout_ms)
            if found.model is not None:
                _facts(found, visa_library, timeout_ms)
            result.instruments.append(found)
            if not found.idn and resource.upper().startswith("ASRL"):
                result.quiet_ports.append(resource[4:].rsplit("::", 1)[0])
    finally:
        rm.close()
    for port in [*result.quiet_ports, *(bms_ports or [])]:
        result.bms = detect_bms(port)
        if result.bms is not None:
            break
    if can:
        result.can = can_interfaces()
    return result
