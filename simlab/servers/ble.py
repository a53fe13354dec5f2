"""A simulated BMS's Bluetooth LE side: a GATT peripheral on a virtual controller.

A BMS's phone-app protocol is served as a real Bluetooth LE peripheral, built with
bumble (Google's Bluetooth stack in Python): two virtual controllers share a LocalLink
(the air); the BMS is a bumble Device on one of them, advertising its name and service
and serving its GATT table; the other is exposed as an HCI transport on a TCP socket on
127.0.0.1. Whoever connects to that socket (the rig's bumble host, or any other bumble
app) is the host of a Bluetooth controller that can see the BMS advertise, connect,
discover its services, exchange the ATT MTU, subscribe and write: the same GATT traffic
as with a real board, without root, D-Bus or a kernel module.

The protocol itself is a serial server's engine (its `feed` and `serve`, link habits
and faults included), so JBD's and JK's BLE twins answer exactly as their UART twins
do. Replies go out as notifications of at most `bms.ble.chunk_bytes` bytes (and never
more than the connection's ATT MTU allows), the way BLE modules split them. Misbehaviour
(`bms.ble.*`): every Nth notification dropped, every Nth request answered with the reply
to another request; the link fault `bms_ble_disconnect` drops the connection at `at_s`
and keeps the board out of reach (not advertising) for `for_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Any

from simlab.servers.pty_uart import PtyUartServer
from simlab.servers.uart_jbd import READ, JbdUartServer
from simlab.servers.uart_jk import Jk02Commands

# The shortest interval BLE allows (real modules use 100 ms to 1 s): a central finds the
# board within one interval, so opening the link costs a run little.
ADVERTISING_INTERVAL_MS = 20
FAULT_POLL_S = 0.05  # how often (wall time) the board looks whether its link is cut


class BlePeripheral:
    """One simulated BMS as a BLE peripheral; `endpoint` says how to reach it."""

    protocol = ""
    service = ""
    write_uuid = ""
    notify_uuid = ""
    address = ""
    name = ""

    def __init__(self, engine: PtyUartServer) -> None:
        self.engine = engine
        self.stats = engine.stats
        self.port = 0
        self._requests = 0
        self._notifications = 0
        self._last_request: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._device: Any = None
        self._notify: Any = None
        self._down = False

    @property
    def endpoint(self) -> dict[str, Any]:
        return {
            "ble": {
                "hci": f"tcp-client:127.0.0.1:{self.port}",
                "address": self.address,
                "name": self.name,
            }
        }

    @property
    def comms(self) -> Any:
        return self.engine.comms

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{self.protocol}-ble", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{self.protocol}: the BLE peripheral did not come up")
        if isinstance(self._error, ImportError):  # an installation older than the project
            raise RuntimeError(
                f"{self.protocol}: the BLE peripheral needs the Python package "
                f"{self._error.name or self._error}, a dependency of bms-rig: install the "
                "project again (pip install -e .)"
            )
        if self._error is not None:
            raise RuntimeError(f"{self.protocol}: BLE peripheral: {self._error}")

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(2)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2)
        self._thread = self._loop = None

    async def _close(self) -> None:
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()
        with contextlib.suppress(Exception):
            await self._transport.close()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._open())
        except BaseException as exc:
            self._error = exc
            self._loop = None  # nothing to stop: closed here, not left for stop()
            with contextlib.suppress(Exception):
                loop.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.close()

    async def _open(self) -> None:
        from bumble import gatt
        from bumble.controller import Controller
        from bumble.core import AdvertisingData
        from bumble.device import Device
        from bumble.hci import Address
        from bumble.link import LocalLink
        from bumble.transport.tcp_server import open_tcp_server_transport_with_socket

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        link = LocalLink()
        self._transport = await open_tcp_server_transport_with_socket(sock)
        self._no_delay(self._transport.sink)
        Controller(
            "host-side", host_source=self._transport.source, host_sink=self._transport.sink,
            link=link,
        )  # fmt: skip
        board = Controller("bms", link=link)
        # a static random address (C8:...: the two top bits set), as BLE modules use
        device = Device.with_hci(self.name, Address(self.address), board, board)
        props = gatt.Characteristic.Properties
        write_value = gatt.CharacteristicValue(write=self._on_write)
        if self.write_uuid == self.notify_uuid:
            char = gatt.Characteristic(
                self.notify_uuid,
                props.WRITE | props.WRITE_WITHOUT_RESPONSE | props.NOTIFY,
                gatt.Characteristic.WRITEABLE,
                write_value,
            )
            chars = [char]
            self._notify = char
        else:
            self._notify = gatt.Characteristic(
                self.notify_uuid, props.READ | props.NOTIFY, gatt.Characteristic.READABLE, b""
            )
            chars = [
                self._notify,
                gatt.Characteristic(
                    self.write_uuid,
                    props.WRITE | props.WRITE_WITHOUT_RESPONSE,
                    gatt.Characteristic.WRITEABLE,
                    write_value,
                ),
            ]
        device.add_service(gatt.Service(self.service, chars))
        device.advertising_data = bytes(
            AdvertisingData(
                [
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                    (
                        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        bytes.fromhex(self.service)[::-1],
                    ),
                ]
            )
        )
        device.on("connection", self._on_connection)
        await device.power_on()
        self._device = device
        await self._advertise()
        asyncio.get_running_loop().create_task(self._watch_faults())

    @staticmethod
    def _no_delay(sink: Any) -> None:
        """HCI packets go out at once: with Nagle's algorithm each reply's later packets
        wait for the host's delayed ACK (40 ms a reply, measured)."""
        send = sink.on_packet
        done: list[Any] = [None]

        def on_packet(packet: bytes) -> None:
            transport = sink.transport
            if transport is not None and transport is not done[0]:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done[0] = transport
            send(packet)

        sink.on_packet = on_packet

    async def _advertise(self) -> None:
        with contextlib.suppress(Exception):  # already advertising
            await self._device.start_advertising(
                auto_restart=True,
                advertising_interval_min=ADVERTISING_INTERVAL_MS,
                advertising_interval_max=ADVERTISING_INTERVAL_MS,
            )

    def _on_connection(self, connection: Any) -> None:
        # A central that went away without a word leaves its connection behind; keep
        # advertising so the next one can still connect (the old link times out).
        asyncio.get_running_loop().create_task(self._advertise())

    async def _watch_faults(self) -> None:
        """`bms_ble_disconnect`: connections dropped and advertising off while it lasts."""
        while True:
            await asyncio.sleep(FAULT_POLL_S)  # real time: a radio link's own pace
            faults = getattr(self.engine.backend, "link_faults", None)
            down = faults is not None and faults.bms_ble_down()
            if down and not self._down:
                self._down = True
                self.stats["ble_disconnect"] += 1
                with contextlib.suppress(Exception):
                    await self._device.stop_advertising()
                for connection in list(self._device.connections.values()):
                    with contextlib.suppress(Exception):
                        await connection.disconnect()
            elif not down and self._down:
                self._down = False
                await self._advertise()

    # -- requests ------------------------------------------------------------------------

    def _on_write(self, connection: Any, value: bytes) -> None:
        asyncio.get_running_loop().create_task(self._answer(connection, bytes(value)))

    async def _answer(self, connection: Any, data: bytes) -> None:
        if self._down:
            return
        loop = asyncio.get_running_loop()
        ble = self.comms.ble
        for request in self.engine.feed(data):
            self._requests += 1
            serve = request
            if ble.wrong_reply_every and self._requests % ble.wrong_reply_every == 0:
                serve = self.engine.other_request(request)  # type: ignore[attr-defined]
                self.stats["wrong_reply"] += 1
            chunks = await loop.run_in_executor(None, self.engine.serve, serve)
            reply = b"".join(chunks)
            size = max(1, min(ble.chunk_bytes, connection.att_mtu - 3))
            for i in range(0, len(reply), size):
                self._notifications += 1
                if ble.drop_every and self._notifications % ble.drop_every == 0:
                    self.stats["dropped_notification"] += 1
                    continue
                with contextlib.suppress(Exception):
                    await self._device.notify_subscriber(
                        connection, self._notify, reply[i : i + size]
                    )


class JkBleServer(BlePeripheral):
    """A JK board's BLE module: service FFE0, one characteristic FFE1 (write, notify)."""

    protocol = "jk_ble"
    service, write_uuid, notify_uuid = "FFE0", "FFE1", "FFE1"
    address = "C8:47:8C:51:4D:01"
    name = "JK-SIM-16S"

    def __init__(self, backend: Any, lock: threading.RLock) -> None:
        super().__init__(Jk02Commands(backend, lock))


class JbdCommands(JbdUartServer):
    """The JBD protocol side of a BLE board (no pty: served by JbdBleServer)."""

    protocol = "jbd_ble"

    def other_request(self, request: tuple[int, int, bytes]) -> tuple[int, int, bytes]:
        """The request whose reply a confused module sends instead (bms.ble.wrong_reply_every)."""
        return (READ, 0x04 if request[1] == 0x03 else 0x03, b"")


class JbdBleServer(BlePeripheral):
    """A JBD board's BLE module: service FF00, notify FF01, write FF02."""

    protocol = "jbd_ble"
    service, write_uuid, notify_uuid = "FF00", "FF02", "FF01"
    address = "A4:C1:38:51:4D:02"
    name = "JBD-SIM-16S"

    def __init__(self, backend: Any, lock: threading.RLock) -> None:
        super().__init__(JbdCommands(backend, lock))
