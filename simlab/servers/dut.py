"""The simulated BMS's side of each protocol: one table, used by the station file and Lab.

A row names the protocol (the same names as the rig's driver registry, which simlab does
not import), its transport, and the server class that speaks it. Adding a protocol is a
server module and one row here.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class DutServerKind:
    name: str
    transport: Literal["uart", "can", "ble"]
    server: str  # "module:Class", constructed as Class(world, lock)

    def create(self, world: Any, lock: threading.RLock) -> Any:
        module, _, cls = self.server.partition(":")
        return getattr(importlib.import_module(module), cls)(world, lock)


DUT_SERVERS: dict[str, DutServerKind] = {
    k.name: k
    for k in (
        DutServerKind("jbd", "uart", "simlab.servers.uart_jbd:JbdUartServer"),
        DutServerKind("daly", "uart", "simlab.servers.uart_daly:DalyUartServer"),
        DutServerKind("jbd_ble", "ble", "simlab.servers.ble:JbdBleServer"),
        DutServerKind("jk_gps", "uart", "simlab.servers.uart_jk:JkGpsUartServer"),
        DutServerKind("jk_pb", "uart", "simlab.servers.uart_jk:JkPbUartServer"),
        DutServerKind("jk_ble", "ble", "simlab.servers.ble:JkBleServer"),
        DutServerKind("pylontech_can", "can", "simlab.servers.can_pylontech:PylontechCanServer"),
    )
}
