"""The BMS protocols bms-rig speaks: one table, used by config, station and docs.

A protocol is a row: its name in station files, the transport it rides on, what it can
tell (capabilities), its link defaults, and where its driver lives. Config validates
`dut.protocol` against this table; the station opens a DUT through `open_link`. Adding a
protocol is a driver module and one row here (and its twin in simlab's own table).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Literal

from dut_drivers.base import BmsLink, Capability

C = Capability


@dataclass(frozen=True)
class LinkOptions:
    """How to reach one DUT, whatever its protocol; each driver takes what it needs."""

    port: str | None = None  # UART: /dev/ttyUSB0, COM3, a pty, loop://
    baudrate: int | None = None  # None: the protocol's default
    timeout_s: float = 0.5
    retries: int = 1
    min_interval_s: float | None = None  # None: the protocol's default pacing
    current_sign: int = 1  # -1: this firmware reports charging current negative
    address: int | None = None  # Daly host address (0x40 RS485/PC, 0x80 UART/BT)
    can_interface: str | None = None  # python-can interface: socketcan, pcan, kvaser, ...
    can_channel: str | int | None = None
    can_bitrate: int = 500_000
    can_options: dict[str, Any] = field(default_factory=dict)
    silence_s: float | None = None  # CAN: no frame for this long is a lost BMS
    ble_device: str | None = None  # BLE: the BMS's address (C8:47:8C:...) or advertised name
    ble_backend: Literal["bumble", "bleak"] = "bleak"
    ble_hci: str | None = None  # bumble: HCI transport (usb:0, hci-socket:0, tcp-client:...)
    ble_adapter: str | None = None  # bleak: the OS adapter (hci0); None: the default one
    ble_connect_timeout_s: float = 10.0
    clock: Any | None = None  # rig clock (now/sleep/virtual); None: wall time
    transcript: Any | None = None


@dataclass(frozen=True)
class ProtocolInfo:
    name: str
    title: str
    transport: Literal["uart", "can", "ble"]
    capabilities: frozenset[Capability]
    driver: str  # "module:function" taking LinkOptions, imported on use
    baudrate: int | None = None
    min_interval_s: float = 0.0

    def open(self, options: LinkOptions) -> BmsLink:
        module, _, func = self.driver.partition(":")
        opener = getattr(importlib.import_module(module), func)
        return opener(self, options)


PROTOCOLS: dict[str, ProtocolInfo] = {
    p.name: p
    for p in (
        ProtocolInfo(
            "jbd",
            "JBD / Xiaoxiang / Overkill Solar UART (DD A5 ... 77)",
            "uart",
            frozenset(
                {
                    C.cell_voltages,
                    C.temperatures,
                    C.ntc_temperatures,
                    C.balancing,
                    C.cycles,
                    C.capacity,
                    C.protections,
                    C.config_read,
                    C.config_write,
                    C.fet_control,
                    C.error_counters,
                }
            ),
            "dut_drivers.jbd.client:open_link",
            baudrate=9600,
        ),
        ProtocolInfo(
            "daly",
            "Daly UART / RS485 (A5 13-byte frames, data IDs 0x90-0x98)",
            "uart",
            frozenset(
                {
                    C.cell_voltages,
                    C.temperatures,
                    C.ntc_temperatures,
                    C.balancing,
                    C.cycles,
                    C.capacity,
                    C.protections,
                    C.alarms,
                    C.fet_control,
                    C.serial_number,
                }
            ),
            "dut_drivers.daly.client:open_link",
            baudrate=9600,
            min_interval_s=0.02,
        ),
        ProtocolInfo(
            "jbd_ble",
            "JBD / Xiaoxiang over BLE (its phone app's service FF00: write FF02, notify FF01)",
            "ble",
            frozenset(
                {
                    C.cell_voltages,
                    C.temperatures,
                    C.ntc_temperatures,
                    C.balancing,
                    C.cycles,
                    C.capacity,
                    C.protections,
                    C.config_read,
                    C.config_write,
                    C.fet_control,
                    C.error_counters,
                }
            ),
            "dut_drivers.jbd.client:open_ble",
        ),
        ProtocolInfo(
            "jk_gps",
            "JK-B/BD boards' GPS port, RS485/TTL (4E 57 tag-value frames)",
            "uart",
            frozenset(
                {
                    C.cell_voltages,
                    C.temperatures,
                    C.ntc_temperatures,
                    C.cycles,
                    C.protections,
                    C.alarms,
                    C.config_read,
                    C.serial_number,
                }
            ),
            "dut_drivers.jk.client:open_gps",
            baudrate=115200,
        ),
        ProtocolInfo(
            "jk_pb",
            "JK-PB boards over RS485 (Modbus requests for JK02 frames, 55 AA EB 90)",
            "uart",
            frozenset(
                {
                    C.cell_voltages,
                    C.temperatures,
                    C.ntc_temperatures,
                    C.cycles,
                    C.capacity,
                    C.protections,
                    C.config_read,
                    C.serial_number,
                }
            ),
            "dut_drivers.jk.client:open_pb",
            baudrate=115200,
        ),
        ProtocolInfo(
            "jk_ble",
            "JK boards over BLE (JK02 frames on service FFE0, characteristic FFE1)",
            "ble",
            frozenset(
                {
                    C.cell_voltages,
                    C.temperatures,
                    C.ntc_temperatures,
                    C.cycles,
                    C.capacity,
                    C.protections,
                    C.config_read,
                    C.fet_control,
                    C.serial_number,
                }
            ),
            "dut_drivers.jk.client:open_ble",
        ),
        ProtocolInfo(
            "pylontech_can",
            "Pylontech-style CAN towards an inverter (500 kbit/s, 0x351-0x35E)",
            "can",
            frozenset({C.protections, C.alarms, C.charge_limits, C.temperatures}),
            "dut_drivers.pylontech.client:open_link",
        ),
    )
}


# The conditions each protocol can name (`BmsStatus.protections` or `.alarms`): the
# thirteen core protections every protocol with `protections` maps, plus what its own
# frames carry beyond them. A flag a protocol cannot carry is never judged through it.
CORE_CONDITIONS = frozenset(
    {
        "cell_ov", "cell_uv", "pack_ov", "pack_uv", "charge_ot", "charge_ut",
        "discharge_ot", "discharge_ut", "charge_oc", "discharge_oc", "short_circuit",
        "afe_error", "fet_lock",
    }
)  # fmt: skip
EXTRA_CONDITIONS: dict[str, frozenset[str]] = {
    "daly": frozenset({"cell_imbalance", "fet_ot", "temp_sensor_fault", "sense_wire_open"}),
    "jk_gps": frozenset({"fet_ot", "cell_imbalance"}),
    "jk_pb": frozenset({"fet_ot", "temp_sensor_fault", "sense_wire_open"}),
    "jk_ble": frozenset({"fet_ot", "temp_sensor_fault", "sense_wire_open"}),
    "pylontech_can": frozenset({"comm_fault"}),
}


def can_report(name: str, condition: str) -> bool:
    """Whether protocol `name` has a flag for `condition` (a coarse one counts)."""
    info = PROTOCOLS.get(name)
    if info is None or C.protections not in info.capabilities:
        return False
    if condition in CORE_CONDITIONS:
        return True
    return condition in EXTRA_CONDITIONS.get(name, frozenset())


def protocol(name: str) -> ProtocolInfo:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise KeyError(
            f"unknown BMS protocol {name!r}; known: {', '.join(sorted(PROTOCOLS))}"
        ) from None


def open_link(name: str, options: LinkOptions) -> BmsLink:
    """Open the DUT link for protocol `name`."""
    return protocol(name).open(options)
