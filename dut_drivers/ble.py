"""A BMS's BLE link as a serial line: write one characteristic, read its notifications.

The phone-app protocols of JBD, JK and Daly boards run over a GATT service with one
characteristic the host writes requests to and one the BMS notifies replies on, split
into pieces no longer than the link's ATT MTU allows. `BleSerial` gives that pair the
few calls of a pyserial port that `dut_drivers.uart.UartLink` uses (`write`,
`read(n)` with a timeout, `reset_input_buffer`, `close`), so every UART protocol driver
reads a BLE link exactly as a serial line: notifications are one byte stream, and a
reply split over several of them is put back together by the protocol's own framing.

Two ways to reach the radio, one class:

- `bleak` (a bench: BlueZ on Linux, CoreBluetooth, WinRT): the operating system's
  Bluetooth stack and any adapter it knows (`adapter: hci0`);
- `bumble` (Google's Bluetooth stack in Python): a controller on an HCI transport, for
  a USB dongle taken over from the OS (`usb:0`), a Linux HCI socket (`hci-socket:0`),
  or a virtual controller on a TCP socket (`tcp-client:127.0.0.1:PORT`), which is how
  the rig reaches simlab's simulated BMS peripheral in CI: a real host stack, GATT
  discovery, MTU exchange, subscriptions and notifications.

The device is named by its address (`C8:47:8C:12:34:56`) or by the name it advertises.
A connection that drops is made again before the next request (the lost-link policy of
the serial drivers then applies: a timed-out exchange is sent once more); a device out
of reach raises `BmsTimeout` naming it. The radio runs in its own thread with its own
asyncio loop; every call here blocks, with a timeout, like pyserial's.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from dut_drivers.errors import BmsTimeout
from dut_drivers.uart import UartLink

Backend = Literal["bumble", "bleak"]
MTU = 247  # asked for at connection; the BMS's side decides the notification size


@dataclass(frozen=True)
class GattPair:
    """Where a protocol's requests and replies go: service, write and notify characteristics."""

    service: str
    write: str
    notify: str


# The phone-app services of the boards the rig speaks over BLE.
JK = GattPair("FFE0", "FFE1", "FFE1")
JBD = GattPair("FF00", "FF02", "FF01")


def _uuid16(text: str) -> str:
    """'FFE1' or '0000ffe1-0000-1000-8000-00805f9b34fb' → 'ffe1' (for comparison)."""
    t = text.lower()
    if len(t) == 36 and t.endswith("-0000-1000-8000-00805f9b34fb"):
        t = t[4:8]
    return t


class _Loop:
    """An asyncio loop in a daemon thread; `run` waits for a coroutine with a timeout."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=2)
        if not self._thread.is_alive():
            self.loop.close()


class _BumbleCentral:
    """A bumble host on an HCI transport, connecting as a central."""

    def __init__(self, hci: str) -> None:
        self.hci = hci
        self._transport: Any = None
        self._device: Any = None
        self._connection: Any = None
        self._peer: Any = None
        self._write: Any = None

    @property
    def connected(self) -> bool:
        return self._connection is not None

    async def connect(
        self, device: str, gatt: GattPair, on_data: Callable[[bytes], None], timeout: float
    ) -> None:
        from bumble.core import UUID
        from bumble.device import Device, Peer
        from bumble.hci import Address
        from bumble.transport import open_transport

        if self._device is None:
            self._transport = await open_transport(self.hci)
            self._device = Device.with_hci(
                "bms-rig", Address("F0:F1:F2:F3:F4:F5"), self._transport.source,
                self._transport.sink,
            )  # fmt: skip
            await self._device.power_on()
        # Seen advertising first, as a phone app does: the connection then goes to the
        # address (and address type) it advertises from, and is never left pending
        # towards a board that is out of reach.
        address = await self._find(device, timeout)
        connection = await self._device.connect(address, timeout=timeout)
        connection.on("disconnection", lambda *_: self._dropped(connection))
        self._connection = connection
        peer = Peer(connection)
        with contextlib.suppress(Exception):  # a peer may keep the default MTU
            await peer.request_mtu(MTU)
        await peer.discover_services([UUID(gatt.service)])
        services = peer.get_services_by_uuid(UUID(gatt.service))
        if not services:
            raise BmsTimeout(f"BLE {device}: no GATT service {gatt.service}")
        await services[0].discover_characteristics()
        chars = services[0].characteristics
        write = _pick(chars, gatt.write, ("WRITE", "WRITE_WITHOUT_RESPONSE"), device)
        notify = _pick(chars, gatt.notify, ("NOTIFY",), device)
        await peer.subscribe(notify, lambda value: on_data(bytes(value)))
        self._peer, self._write = peer, write

    async def _find(self, device: str, timeout: float) -> Any:
        from bumble.core import AdvertisingData

        wanted = device.split("/")[0].upper()
        seen: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_advertisement(adv: Any) -> None:
            name = adv.data.get(AdvertisingData.COMPLETE_LOCAL_NAME)
            if isinstance(name, bytes):
                name = name.decode(errors="replace")
            match = str(adv.address).split("/")[0].upper() == wanted or name == device
            if match and adv.is_connectable and not seen.done():
                seen.set_result(adv.address)

        self._device.on("advertisement", on_advertisement)
        await self._device.start_scanning(filter_duplicates=False)
        try:
            return await asyncio.wait_for(seen, timeout)
        except TimeoutError:
            raise BmsTimeout(f"BLE {device}: not seen advertising within {timeout:g} s") from None
        finally:
            self._device.remove_listener("advertisement", on_advertisement)
            with contextlib.suppress(Exception):
                await self._device.stop_scanning()

    def _dropped(self, connection: Any) -> None:
        if self._connection is connection:
            self._connection = self._peer = self._write = None

    async def write(self, data: bytes) -> None:
        props = self._write.properties
        with_response = not (props & props.WRITE_WITHOUT_RESPONSE)
        await self._peer.write_value(self._write, data, with_response=with_response)

    async def disconnect(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.disconnect()
        self._connection = None

    async def close(self) -> None:
        await self.disconnect()
        if self._transport is not None:
            with contextlib.suppress(Exception):
                await self._transport.close()
        self._transport = self._device = None


def _pick(chars: list[Any], uuid: str, props: tuple[str, ...], device: str) -> Any:
    for char in chars:
        if _uuid16(str(char.uuid.to_hex_str())) != _uuid16(uuid):
            continue
        if any(char.properties & getattr(char.properties, p) for p in props):
            return char
    raise BmsTimeout(f"BLE {device}: no characteristic {uuid} that can {'/'.join(props).lower()}")


def _is_address(text: str) -> bool:
    head = text.split("/")[0]
    parts = head.split(":")
    return len(parts) == 6 and all(len(p) == 2 for p in parts)


class _BleakCentral:
    """bleak on the operating system's Bluetooth stack (BlueZ, CoreBluetooth, WinRT)."""

    def __init__(self, adapter: str | None) -> None:
        self.adapter = adapter
        self._client: Any = None
        self._write: Any = None

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def connect(
        self, device: str, gatt: GattPair, on_data: Callable[[bytes], None], timeout: float
    ) -> None:
        try:
            from bleak import BleakClient, BleakScanner
        except ImportError:
            raise BmsTimeout(
                "BLE backend 'bleak' is not installed: pip install 'bms-rig[ble]'"
            ) from None
        kwargs = {"adapter": self.adapter} if self.adapter else {}
        if _is_address(device):
            found = await BleakScanner.find_device_by_address(
                device.split("/")[0], timeout=timeout, **kwargs
            )
        else:
            found = await BleakScanner.find_device_by_name(device, timeout=timeout, **kwargs)
        if found is None:
            raise BmsTimeout(f"BLE {device}: not seen advertising within {timeout:g} s")
        client = BleakClient(found, timeout=timeout, **kwargs)
        await client.connect()
        service = client.services.get_service(gatt.service)
        if service is None:
            await client.disconnect()
            raise BmsTimeout(f"BLE {device}: no GATT service {gatt.service}")
        write = notify = None
        for char in service.characteristics:
            if _uuid16(char.uuid) == _uuid16(gatt.write) and (
                {"write", "write-without-response"} & set(char.properties)
            ):
                write = write or char
            if _uuid16(char.uuid) == _uuid16(gatt.notify) and "notify" in char.properties:
                notify = notify or char
        if write is None or notify is None:
            await client.disconnect()
            raise BmsTimeout(f"BLE {device}: characteristics {gatt.write}/{gatt.notify} missing")
        await client.start_notify(notify, lambda _c, data: on_data(bytes(data)))
        self._client, self._write = client, write

    async def write(self, data: bytes) -> None:
        response = "write-without-response" not in self._write.properties
        await self._client.write_gatt_char(self._write, data, response=response)

    async def disconnect(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.disconnect()
        self._client = None

    async def close(self) -> None:
        await self.disconnect()


class BleSerial:
    """The pyserial calls `UartLink` makes, on a GATT write/notify characteristic pair."""

    def __init__(
        self,
        device: str,
        gatt: GattPair,
        backend: Backend = "bleak",
        hci: str | None = None,
        adapter: str | None = None,
        timeout: float = 0.5,
        connect_timeout_s: float = 10.0,
    ) -> None:
        if backend == "bumble" and not hci:
            raise ValueError("the bumble BLE backend needs an HCI transport (dut.ble.hci)")
        self.device = device
        self.gatt = gatt
        self.timeout = timeout
        self.connect_timeout_s = connect_timeout_s
        self.connects = 0
        self.notifications = 0
        self._rx = bytearray()
        self._cond = threading.Condition()
        self._central: _BumbleCentral | _BleakCentral = (
            _BumbleCentral(hci or "") if backend == "bumble" else _BleakCentral(adapter)
        )
        self._loop = _Loop(f"ble {device}")
        try:
            self._connect()
        except BaseException:
            self._loop.stop()
            raise

    @property
    def port(self) -> str:
        return f"ble:{self.device}"

    def _on_data(self, data: bytes) -> None:
        with self._cond:
            self._rx += data
            self.notifications += 1
            self._cond.notify_all()

    def _connect(self) -> None:
        budget = self.connect_timeout_s
        try:
            self._loop.run(
                self._central.connect(self.device, self.gatt, self._on_data, budget), budget + 2
            )
        except BmsTimeout:
            raise
        except Exception as exc:
            # start afresh next time: a controller left with a pending connection
            # refuses the next one (COMMAND_DISALLOWED)
            with contextlib.suppress(Exception):
                self._loop.run(self._central.close(), 5)
            raise BmsTimeout(
                f"BLE {self.device}: cannot connect within {budget:g} s "
                f"({type(exc).__name__}: {exc})"
            ) from None
        self.connects += 1

    # -- the pyserial calls UartLink makes -----------------------------------------------

    def write(self, data: bytes) -> int:
        """Write a request; a dropped connection is made again first."""
        if not self._central.connected:
            self._connect()
        try:
            self._loop.run(self._central.write(data), self.connect_timeout_s)
        except Exception:
            # the link went away under the write: once more on a fresh connection
            with contextlib.suppress(Exception):
                self._loop.run(self._central.disconnect(), 2)
            self._connect()
            self._loop.run(self._central.write(data), self.connect_timeout_s)
        return len(data)

    def flush(self) -> None:
        """Writes complete before `write` returns."""

    def read(self, size: int = 1) -> bytes:
        """Up to `size` bytes, waiting at most `timeout` for them to arrive (pyserial's)."""
        deadline = time.monotonic() + (self.timeout or 0.0)
        with self._cond:
            while len(self._rx) < size:
                left = deadline - time.monotonic()
                if left <= 0 or not self._central.connected:
                    break
                self._cond.wait(left)
            data = bytes(self._rx[:size])
            del self._rx[:size]
        return data

    def reset_input_buffer(self) -> None:
        with self._cond:
            self._rx.clear()

    @property
    def in_waiting(self) -> int:
        with self._cond:
            return len(self._rx)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._loop.run(self._central.close(), 5)
        self._loop.stop()


def open_stream(info: Any, options: Any, gatt: GattPair) -> UartLink:
    """A UartLink whose stream is the BMS's GATT pair (shared by the BLE protocols)."""
    if not options.ble_device:
        raise ValueError(f"the {info.name} protocol needs dut.ble.device (address or name)")
    stream = BleSerial(
        options.ble_device,
        gatt,
        backend=options.ble_backend,
        hci=options.ble_hci,
        adapter=options.ble_adapter,
        timeout=options.timeout_s,
        connect_timeout_s=options.ble_connect_timeout_s,
    )
    return UartLink(
        stream.port,
        timeout_s=options.timeout_s,
        retries=options.retries,
        min_interval_s=(
            info.min_interval_s if options.min_interval_s is None else options.min_interval_s
        ),
        transcript=options.transcript,
        stream=stream,
    )
