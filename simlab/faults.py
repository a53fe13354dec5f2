"""Link faults: what goes wrong between a rig and its bench, injectable on demand.

A BMS defect (simlab.firmware.defects) bends what the firmware does; a link fault bends
how an instrument or the BMS answers on its wire: the failures a rig meets on a real
bench, over hours, with live packs. Each is injected like a defect, by name with
`key=value` arguments (`--defect scpi_disconnect:instrument=load,at_s=30`, or the
control channel's `fault` op), and is active from `at_s` of the lab's time for `for_s`
seconds (default: from the start, for good).

SCPI instruments (`instrument=NAME`, a name from the station file):

- `scpi_disconnect`: the instrument drops off the network: open connections are closed
  and new ones are accepted and closed at once, while the fault lasts;
- `scpi_late`: every reply comes `delay_s` (wall) seconds late;
- `scpi_garbage`: every reply is replaced by line noise;
- `scpi_error_flood`: the instrument fails internally: its error queue fills (-240
  hardware error, then -350 queue overflow) and every command adds another;
- `scpi_reboot`: at `at_s` the instrument reboots: outputs and setpoints go to their
  `*RST` defaults, the power-on bit (PON) is set in its event status register, its
  connections are closed and for `down_s` wall seconds it accepts none;
- `scpi_runaway`: a source channel's regulator fails: from `at_s`, for `for_s`, its
  output sits at `volts` whatever it is set to, while on (its output relay still obeys):
  what the station's watchdog is for.

The BMS (`bms_*`, whatever its protocol):

- `bms_uart_silent`: the BMS answers nothing on its UART (or BLE link);
- `bms_uart_corrupt`: every reply has a byte flipped (its checksum no longer holds);
- `bms_ble_disconnect`: the BMS's BLE module drops its connection at `at_s` and
  neither advertises nor accepts one for `for_s`;
- `bms_can_drop`: each CAN broadcast is lost with probability `ratio` (seeded);
- `bms_can_stop`: the BMS's CAN node stops sending.

The bench (`interlock_open`): the station's interlock loop (`interlock:` in the station
file: a safety cover's switch, an e-stop chain) opens at `at_s` for `for_s`: the digital
input it is wired to reads the unsafe level, as when someone lifts the cover mid-plan.

Times `at_s` / `for_s` are the lab's time (virtual when a client drives it), so a fault
lands at the same point of a run every time; `delay_s` / `down_s` are wall time, because
they model a socket and a boot, which take real time however the lab's clock runs.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simlab import changes


@dataclass(frozen=True)
class FaultKind:
    name: str
    description: str
    defaults: dict[str, float | int | str] = field(default_factory=dict)
    needs_instrument: bool = False


_TIMING = {"at_s": 0.0, "for_s": math.inf}

CATALOGUE: dict[str, FaultKind] = {
    k.name: k
    for k in (
        FaultKind(
            "scpi_disconnect",
            "instrument drops off the network: connections closed, new ones refused",
            {"instrument": "", **_TIMING},
            True,
        ),
        FaultKind(
            "scpi_late",
            "instrument answers delay_s (wall seconds) late",
            {"instrument": "", "delay_s": 5.0, **_TIMING},
            True,
        ),
        FaultKind(
            "scpi_garbage",
            "instrument answers line noise instead of its reply",
            {"instrument": "", **_TIMING},
            True,
        ),
        FaultKind(
            "scpi_error_flood",
            "instrument fails inside: its error queue fills with -240 hardware errors",
            {"instrument": "", **_TIMING},
            True,
        ),
        FaultKind(
            "scpi_reboot",
            "instrument reboots at at_s: outputs to *RST defaults, PON set, down for down_s",
            {"instrument": "", "at_s": 0.0, "down_s": 1.0},
            True,
        ),
        FaultKind(
            "scpi_runaway",
            "a source channel's regulator fails: its output sits at volts whatever is set",
            {"instrument": "", "channel": 1, "volts": 4.5, "at_s": 0.0, "for_s": 10.0},
            True,
        ),
        FaultKind("bms_uart_silent", "BMS answers nothing on its UART", dict(_TIMING)),
        FaultKind(
            "bms_uart_corrupt",
            "every BMS UART reply has a byte flipped (bad checksum)",
            dict(_TIMING),
        ),
        FaultKind(
            "bms_ble_disconnect",
            "the BMS's BLE module drops its connection and is out of reach for for_s",
            {"at_s": 0.0, "for_s": 5.0},
        ),
        FaultKind(
            "bms_can_drop",
            "each BMS CAN broadcast is lost with probability ratio",
            {"ratio": 0.5, **_TIMING},
        ),
        FaultKind("bms_can_stop", "the BMS's CAN node stops sending", dict(_TIMING)),
        FaultKind(
            "interlock_open",
            "the station's interlock loop opens (a cover lifted, an e-stop pressed)",
            dict(_TIMING),
        ),
    )
}


@dataclass
class Fault:
    kind: str
    params: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)  # what the lab keeps while it acts

    @property
    def instrument(self) -> str:
        return str(self.params.get("instrument", ""))

    def active(self, t: float) -> bool:
        start = float(self.params.get("at_s", 0.0))
        return start <= t < start + float(self.params.get("for_s", math.inf))

    def spec(self) -> str:
        shown = {k: v for k, v in self.params.items() if v != CATALOGUE[self.kind].defaults.get(k)}
        return self.kind + (":" + ",".join(f"{k}={v}" for k, v in shown.items()) if shown else "")


def is_fault(spec: str) -> bool:
    return spec.strip().partition(":")[0].strip() in CATALOGUE


def parse_fault(spec: str, instruments: list[str]) -> Fault:
    """`NAME[:key=value,...]` → Fault; ValueError naming what is wrong."""
    name, _, rest = spec.strip().partition(":")
    kind = CATALOGUE.get(name.strip())
    if kind is None:
        raise ValueError(f"unknown fault {name.strip()!r}; available: {', '.join(CATALOGUE)}")
    params: dict[str, Any] = dict(kind.defaults)
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in kind.defaults:
            raise ValueError(
                f"fault {kind.name}: bad parameter {item!r}; parameters: {', '.join(kind.defaults)}"
            )
        if isinstance(kind.defaults[key], str):
            params[key] = raw.strip()
            continue
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"fault {kind.name}: {key} must be a number, got {raw!r}") from None
        if not value >= 0 or (key == "ratio" and value > 1):
            raise ValueError(f"fault {kind.name}: {key} out of range, got {raw!r}")
        params[key] = value
    if kind.needs_instrument and params["instrument"] not in instruments:
        raise ValueError(
            f"fault {kind.name}: instrument={params['instrument'] or '?'} is not one of "
            f"the station's: {', '.join(instruments)}"
        )
    return Fault(kind.name, params)


class LinkFaults:
    """The active link faults of one lab, asked by its servers as they answer."""

    def __init__(self, now: Callable[[], float], seed: int = 0):
        self._now = now
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.on_added: list[Callable[[Fault], None]] = []  # the lab schedules reboots

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)
        changes.touch()  # a failed regulator holds its output elsewhere from the next solve
        for hook in self.on_added:
            hook(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
        changes.touch()

    def specs(self) -> list[str]:
        with self._lock:
            return [f.spec() for f in self._faults]

    def _active(self, kind: str, instrument: str = "") -> Fault | None:
        t = self._now()
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind and fault.instrument == instrument and fault.active(t):
                    return fault
        return None

    # -- SCPI instruments ----------------------------------------------------------------

    def runaways(self) -> list[Fault]:
        """Source channels whose regulator has failed, now."""
        if not self._faults:
            return []  # the common case, asked on every command: no lock, no clock
        t = self._now()
        with self._lock:
            return [f for f in self._faults if f.kind == "scpi_runaway" and f.active(t)]

    def ended(self, kind: str) -> list[Fault]:
        """Faults of `kind` whose time is over."""
        if not self._faults:
            return []
        t = self._now()
        with self._lock:
            return [f for f in self._faults if f.kind == kind and not f.active(t) and
                    t >= float(f.params.get("at_s", 0.0))]  # fmt: skip

    def scpi_state(self, instrument: str) -> ScpiFaultState:
        """How `instrument` answers right now (a fresh answer per request)."""
        if not self._faults:
            return NO_FAULT  # asked on every request: a clean lab answers at once
        late = self._active("scpi_late", instrument)
        return ScpiFaultState(
            disconnected=self._active("scpi_disconnect", instrument) is not None,
            delay_s=float(late.params["delay_s"]) if late else 0.0,
            garbage=self._active("scpi_garbage", instrument) is not None,
            flood=self._active("scpi_error_flood", instrument) is not None,
        )

    # -- the BMS ---------------------------------------------------------------------------

    def bms_uart(self, data: bytes) -> bytes:
        """A UART reply as the link delivers it: nothing, corrupted, or whole."""
        if self._active("bms_uart_silent"):
            return b""
        if data and self._active("bms_uart_corrupt"):
            middle = len(data) // 2
            return data[:middle] + bytes([data[middle] ^ 0x5A]) + data[middle + 1 :]
        return data

    def bms_ble_down(self) -> bool:
        """The BMS's BLE module is out of reach now (bms_ble_disconnect)."""
        return bool(self._faults) and self._active("bms_ble_disconnect") is not None

    def interlock_open(self) -> bool:
        """The bench's interlock loop is open now."""
        return bool(self._faults) and self._active("interlock_open") is not None

    def can_frame_passes(self) -> bool:
        if self._active("bms_can_stop"):
            return False
        drop = self._active("bms_can_drop")
        return drop is None or self._rng.random() >= float(drop.params["ratio"])


@dataclass(frozen=True)
class ScpiFaultState:
    disconnected: bool = False
    delay_s: float = 0.0
    garbage: bool = False
    flood: bool = False

    @property
    def clean(self) -> bool:
        return not (self.disconnected or self.delay_s or self.garbage or self.flood)


NO_FAULT = ScpiFaultState()
GARBAGE_REPLY = b"\xff\x00#\x1b[?garbled\x07"
HARDWARE_ERROR = -240
