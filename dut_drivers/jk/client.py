"""JK BMS drivers: the older boards' GPS-port protocol, and JK02 over RS485 or BLE.

- `JkGpsBms` (`jk_gps`): one read-all request (`4E 57 ... 06 03 ...`) answers
  everything, status, cells and the protection settings, as tag-value items.
- `Jk02Bms` (`jk_pb`, `jk_ble`): the JK02 frames of the newer boards. Over RS485 a JK-PB
  board answers a Modbus write per frame (the frame, then the write's echo); over BLE a
  board answers 0x97 with its device information and 0x96 with its settings and then
  cell data, and may keep streaming cell data on its own: frames of another type are
  skipped, so a streamed frame is never taken for the answer to a request made after
  it (the input is flushed before each request).

Both sit on `UartLink` (retries, pacing, transcripts, timing); over BLE its stream is
a `dut_drivers.ble.BleSerial`, so reassembly of a frame split over notifications is the
same read of 300 bytes as on a serial line.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dut_drivers import ble
from dut_drivers.base import (
    BmsBase,
    BmsStatus,
    Capability,
    DutIdentity,
    LinkTiming,
    ProtectionConfig,
)
from dut_drivers.errors import BmsError, BmsFrameError
from dut_drivers.jk import gps, jk02
from dut_drivers.registry import PROTOCOLS
from dut_drivers.uart import UartLink

SKIPPED_FRAMES_MAX = 6  # frames of another type tolerated while waiting for one


class JkGpsBms(BmsBase):
    """A JK-B/BD board on its GPS port (RS485/TTL), protocol `4E 57` (BmsLink)."""

    protocol = "jk_gps"
    CAPABILITIES = PROTOCOLS["jk_gps"].capabilities

    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        timeout_s: float = 0.5,
        retries: int = 1,
        min_interval_s: float = 0.0,
        current_sign: int = 1,
        transcript: Any | None = None,
    ) -> None:
        super().__init__()
        self.port = port
        self.current_sign = current_sign
        self.link = UartLink(port, baudrate, timeout_s, retries, min_interval_s, transcript)

    def read_all(self) -> gps.Reading:
        """One read-all exchange: every tag the board holds."""

        def receive(request: bytes) -> gps.Reading:
            what = "the read-all request (0x06)"
            head = self.link.read(4, request, what)
            total = gps.frame_length(head, request)
            rest = self.link.read(total - 4, request, what, head)
            frame = gps.parse_frame(head + rest, request)
            if frame.frame_type != gps.TYPE_REPLY or frame.command != gps.READ_ALL:
                raise BmsFrameError(
                    f"JK frame of type {frame.frame_type} for command 0x{frame.command:02X}, "
                    "not the reply to read-all",
                    request,
                    head + rest,
                )
            return gps.decode_reading(gps.parse_tags(frame.data, request), request)

        reading = self.link.transact(gps.build_read_all(), receive)
        if self.current_sign != 1:
            status = dataclasses.replace(
                reading.status, current=reading.status.current * self.current_sign
            )
            reading = dataclasses.replace(reading, status=status)
        return reading

    def identity(self) -> DutIdentity:
        r = self.read_all()
        date = r.manufacture_date
        return DutIdentity(
            protocol=self.protocol,
            hardware=r.device_id,
            firmware=r.software,
            serial=r.manufacturer_id,
            production_date=f"20{date[:2]}-{date[2:4]}" if len(date) >= 4 else date,
            cell_count=r.status.cell_count or 0,
            model=f"JK {r.status.cell_count}S",
            manufacturer="JK (Jikong)",
        )

    def read_status(self) -> BmsStatus:
        return self.read_all().status

    def read_cell_voltages(self) -> list[float]:
        return self.read_all().cells

    def read_temperatures(self) -> list[float]:
        return list(self.read_status().temperatures_c)

    def read_protection_config(self) -> ProtectionConfig:
        self.require(Capability.config_read)
        return gps.protection_config(self.read_all().settings)

    def link_timing(self) -> LinkTiming:
        return LinkTiming("request_reply", self.link.timed, tuple(self.link.exchange_s))

    def close(self) -> None:
        self.link.close()


class Jk02Bms(BmsBase):
    """A JK board speaking JK02 frames: JK-PB over RS485 (`jk_pb`) or any over BLE
    (`jk_ble`) (BmsLink)."""

    def __init__(
        self,
        protocol: str,
        link: UartLink,
        current_sign: int = 1,
        address: int = 0x01,
    ) -> None:
        super().__init__()
        self.protocol = protocol
        self.CAPABILITIES = PROTOCOLS[protocol].capabilities
        self.link = link
        self.port = link.port
        self.current_sign = current_sign
        self.address = address
        self.modbus = protocol == "jk_pb"
        self._counter = 0

    # -- frames --------------------------------------------------------------------------

    def _request(self, frame_type: int) -> bytes:
        if self.modbus:
            return jk02.modbus_request(frame_type, self.address)
        self._counter = (self._counter + 1) & 0xFF
        command = jk02.CMD_DEVICE_INFO if frame_type == jk02.DEVICE_INFO else jk02.CMD_CELL_INFO
        return jk02.build_command(command, counter=self._counter)

    def frame(self, frame_type: int) -> bytes:
        """One fresh frame of `frame_type`, asked for and read whole (check byte checked)."""
        what = f"the JK02 {jk02.FRAME_NAMES[frame_type]} frame"

        def receive(request: bytes) -> bytes:
            skipped = 0
            window = self.link.read(4, request, what)
            while True:
                while window[-4:] != jk02.FRAME_HEADER:  # skip to a frame's start
                    window += self.link.read(1, request, what, window)
                    window = window[-64:]
                frame = jk02.FRAME_HEADER + self.link.read(
                    jk02.FRAME_LEN - 4, request, what, window
                )
                cut = frame.find(jk02.FRAME_HEADER, 4)
                if cut > 0 and jk02.crc(frame[:-1]) != frame[-1]:
                    # a frame with pieces lost on the air: the next one starts inside it
                    window = frame[cut:]
                    window += self.link.read(4 - len(window), request, what, window)
                    skipped += 1
                    if skipped > SKIPPED_FRAMES_MAX:
                        raise BmsFrameError(f"{self.port}: no whole frame for {what}", request)
                    continue
                got = jk02.parse_frame(frame, request)
                if got == frame_type:
                    break
                if self.modbus or skipped >= SKIPPED_FRAMES_MAX:
                    raise BmsFrameError(
                        f"{self.port}: a {jk02.FRAME_NAMES.get(got, f'type 0x{got:02X}')} "
                        f"frame came for {what}",
                        request,
                        frame,
                    )
                skipped += 1  # streamed cell data, or the settings 0x96 sends first
                window = self.link.read(4, request, what)
            if self.modbus:
                echo = self.link.read(jk02.MODBUS_ECHO_LEN, request, what + "'s Modbus echo")
                if echo != jk02.modbus_echo(frame_type, self.address):
                    raise BmsFrameError(
                        f"{self.port}: Modbus echo {echo.hex(' ')} does not match the request",
                        request,
                        echo,
                    )
            return frame

        return self.link.transact(self._request(frame_type), receive)

    # -- BmsLink -------------------------------------------------------------------------

    def cell_info(self) -> jk02.CellInfo:
        info = jk02.decode_cell_info(self.frame(jk02.CELL_INFO))
        if self.current_sign != 1:
            current = info.status.current * self.current_sign
            status = dataclasses.replace(info.status, current=current)
            info = dataclasses.replace(info, status=status)
        return info

    def identity(self) -> DutIdentity:
        info = jk02.decode_device_info(self.frame(jk02.DEVICE_INFO))
        cells = self.cell_info().status.cell_count or 0
        date = info.manufacture_date
        return DutIdentity(
            protocol=self.protocol,
            hardware=info.hardware,
            firmware=info.software,
            serial=info.serial,
            production_date=f"20{date[:2]}-{date[2:4]}-{date[4:6]}" if len(date) == 6 else date,
            cell_count=cells,
            model=info.model,
            manufacturer="JK (Jikong)",
        )

    def read_status(self) -> BmsStatus:
        return self.cell_info().status

    def read_cell_voltages(self) -> list[float]:
        return self.cell_info().cells

    def read_temperatures(self) -> list[float]:
        return list(self.read_status().temperatures_c)

    def read_protection_config(self) -> ProtectionConfig:
        self.require(Capability.config_read)
        return jk02.protection_config(jk02.decode_settings(self.frame(jk02.SETTINGS)))

    def set_fets(self, charge: bool, discharge: bool) -> None:
        """The charge and discharge switches (registers 0x1D, 0x1E); JK boards take
        them over BLE. Read back from the settings frame: a switch not taken is an error."""
        self.require(Capability.fet_control)
        switches = ((jk02.REG_CHARGE_SWITCH, charge), (jk02.REG_DISCHARGE_SWITCH, discharge))
        for register, on in switches:
            self._counter = (self._counter + 1) & 0xFF
            command = jk02.build_command(register, int(on), length=4, counter=self._counter)
            self.link.send(command)
        settings = jk02.decode_settings(self.frame(jk02.SETTINGS))
        held = (bool(settings["charge_switch"]), bool(settings["discharge_switch"]))
        if held != (charge, discharge):
            raise BmsError(
                f"{self.port}: switches not taken: asked charge={charge} discharge={discharge}, "
                f"the BMS holds charge={held[0]} discharge={held[1]}"
            )

    def link_timing(self) -> LinkTiming:
        return LinkTiming("request_reply", self.link.timed, tuple(self.link.exchange_s))

    def close(self) -> None:
        self.link.close()


def _pacing(info: Any, options: Any) -> float:
    return info.min_interval_s if options.min_interval_s is None else options.min_interval_s


def open_gps(info: Any, options: Any) -> JkGpsBms:
    """Registry entry point for `jk_gps`."""
    if not options.port:
        raise ValueError("the jk_gps protocol needs a serial port")
    return JkGpsBms(
        options.port,
        baudrate=options.baudrate or info.baudrate,
        timeout_s=options.timeout_s,
        retries=options.retries,
        min_interval_s=_pacing(info, options),
        current_sign=options.current_sign,
        transcript=options.transcript,
    )


def open_pb(info: Any, options: Any) -> Jk02Bms:
    """Registry entry point for `jk_pb` (JK-PB over RS485, Modbus address `dut.address`)."""
    if not options.port:
        raise ValueError("the jk_pb protocol needs a serial port")
    link = UartLink(
        options.port,
        options.baudrate or info.baudrate,
        options.timeout_s,
        options.retries,
        _pacing(info, options),
        options.transcript,
    )
    address = 0x01 if options.address is None else options.address
    return Jk02Bms("jk_pb", link, options.current_sign, address)


def open_ble(info: Any, options: Any) -> Jk02Bms:
    """Registry entry point for `jk_ble`."""
    return Jk02Bms("jk_ble", ble.open_stream(info, options, ble.JK), options.current_sign)
