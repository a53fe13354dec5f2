"""Daly BMS over a UART/RS485 line: one request, one or more 13-byte reply frames.

A status is assembled from several data IDs (0x90 SoC/V/I, 0x91 cell extremes, 0x93
FETs and capacity, 0x94 counts and cycles, 0x96 temperatures, 0x97 balancing, 0x98
failure bits). Multi-frame replies are read until every frame number is in, in
whatever order they come and whatever repeats; a frame still missing at the timeout is
reported by number. Commands some firmware never answers (balancing, failure bits,
version strings) become a declared gap the first time, not a hang every time: the link
is alive (0x90 answers), so the unit simply lacks them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from dut_drivers.base import BmsBase, BmsStatus, Capability, DutIdentity, LinkTiming
from dut_drivers.daly import frames as F
from dut_drivers.errors import BmsCapabilityError, BmsError, BmsTimeout
from dut_drivers.registry import PROTOCOLS
from dut_drivers.uart import UartLink

T = TypeVar("T")
MULTI_FRAME_GAP_S = 0.05  # after the first frame, the rest follow back to back


class DalyBms(BmsBase):
    """A Daly smart BMS on a serial port (BmsLink)."""

    protocol = "daly"
    CAPABILITIES = PROTOCOLS["daly"].capabilities

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        timeout_s: float = 0.5,
        retries: int = 1,
        min_interval_s: float = 0.02,
        address: int = F.HOST_PC,
        current_sign: int = 1,
        transcript: Any | None = None,
    ) -> None:
        super().__init__()
        self.port = port
        self.address = address
        self.current_sign = current_sign
        self.link = UartLink(port, baudrate, timeout_s, retries, min_interval_s, transcript)
        self._counts: F.Status | None = None

    # -- exchanges ---------------------------------------------------------------------

    def _frames(self, command: int, needed: int, data: bytes = bytes(8)) -> dict[int, bytes]:
        """Send one request; collect `needed` frames by number (1 for plain replies)."""
        request = F.build_request(command, self.address, data)
        what = f"data ID 0x{command:02X}"

        def receive(sent: bytes) -> dict[int, bytes]:
            buffer = self.link.read(F.FRAME_LEN, sent, what)
            got: list[bytes] = []
            while True:
                found, buffer = F.split_frames(buffer)
                for frame in found:
                    if frame[2] == command:
                        got.append(F.parse_frame(frame, command, sent))
                datas = got
                if needed == 1 and datas:
                    return {1: datas[0]}
                if needed > 1:
                    numbers = {d[0] for d in datas}
                    if set(range(1, needed + 1)) <= numbers:
                        return F.by_frame_number(datas, needed, what, sent)
                more = self.link.read_available(sent, what, MULTI_FRAME_GAP_S)
                if not more:
                    try:
                        more = self.link.read(1, sent, what, buffer)
                    except BmsTimeout:
                        if needed > 1 and datas:
                            F.by_frame_number(datas, needed, what, sent)  # names what is missing
                        raise
                buffer += more

        return self.link.transact(request, receive)

    def _one(self, command: int) -> bytes:
        return self._frames(command, 1)[1]

    def _optional(self, capability: Capability | None, what: str, fn: Callable[[], T]) -> T:
        """Run `fn`; a unit that answers 0x90 but never this has a capability gap."""
        if capability is not None:
            self.require(capability)
        try:
            return fn()
        except BmsTimeout as exc:
            try:
                self._one(F.SOC)
            except BmsError:
                raise exc from None  # silent altogether: not a gap
            why = f"this unit's firmware never answers {what} ({exc})"
            if capability is not None:
                self.declare_gap(capability, why)
            raise BmsCapabilityError(f"{self.port}: {why}") from None

    # -- reads -------------------------------------------------------------------------

    def counts(self) -> F.Status:
        """0x94 (cells, NTCs, cycles); cell and NTC counts size the multi-frame reads."""
        self._counts = F.decode_status(self._one(F.STATUS))
        return self._counts

    def _known_counts(self) -> F.Status:
        return self._counts or self.counts()

    def read_soc(self) -> F.Soc:
        soc = F.decode_soc(self._one(F.SOC))
        if self.current_sign != 1:
            soc = F.Soc(soc.pack_voltage, soc.current * self.current_sign, soc.soc_percent)
        return soc

    def read_status(self) -> BmsStatus:
        soc = self.read_soc()
        mos = F.decode_mos(self._one(F.MOS))
        counts = self.counts()
        extremes = F.decode_cell_range(self._one(F.CELL_RANGE))
        protections: frozenset[str] | None = None
        alarms: frozenset[str] = frozenset()
        if Capability.protections in self.capabilities:
            try:
                failures = self._optional(
                    Capability.protections,
                    "the failure bits (0x98)",
                    lambda: F.decode_failures(self._one(F.FAILURES)),
                )
                protections, alarms = failures.protections, failures.alarms
            except BmsCapabilityError:
                pass
        balancing = None
        if Capability.balancing in self.capabilities:
            with contextlib.suppress(BmsCapabilityError):
                balancing = self._optional(
                    Capability.balancing,
                    "the balancing bits (0x97)",
                    lambda: F.decode_balance(self._one(F.BALANCE), counts.cell_count),
                )
        temps: tuple[float, ...] = ()
        if counts.ntc_count and Capability.temperatures in self.capabilities:
            with contextlib.suppress(BmsCapabilityError):
                temps = tuple(self.read_temperatures())
        return BmsStatus(
            pack_voltage=soc.pack_voltage,
            current=soc.current,
            remaining_capacity_ah=mos.remaining_ah,
            full_capacity_ah=None,
            cycles=counts.cycles,
            soc_percent=soc.soc_percent,
            charge_fet=mos.charge_fet,
            discharge_fet=mos.discharge_fet,
            protections=protections,
            balancing=balancing,
            cell_count=counts.cell_count,
            temperatures_c=temps,
            alarms=alarms,
            cell_min_v=extremes.min_v,
            cell_max_v=extremes.max_v,
        )

    def read_cell_voltages(self) -> list[float]:
        self.require(Capability.cell_voltages)
        cells = self._known_counts().cell_count
        needed = F.frames_needed(cells, F.CELLS_PER_FRAME)
        return F.decode_cells(self._frames(F.CELL_VOLTAGES, needed), cells)

    def read_temperatures(self) -> list[float]:
        ntcs = self._known_counts().ntc_count
        needed = F.frames_needed(ntcs, F.TEMPS_PER_FRAME)
        if needed == 0:
            return []
        return self._optional(
            Capability.temperatures,
            "the temperatures (0x96)",
            lambda: F.decode_temperatures(self._frames(F.TEMPERATURES, needed), ntcs),
        )

    def _text(self, command: int, frames: int, capability: Capability | None) -> str | None:
        what = f"data ID 0x{command:02X}"
        try:
            return self._optional(
                capability, what, lambda: F.decode_text(self._frames(command, frames))
            )
        except BmsCapabilityError:
            return None

    def identity(self) -> DutIdentity:
        counts = self.counts()
        software = self._text(F.SOFTWARE_VERSION, 2, None)
        hardware = self._text(F.HARDWARE_VERSION, 2, None)
        code = self._text(F.BATTERY_CODE, 5, Capability.serial_number)
        missing = [
            name
            for name, value in (("firmware", software), ("hardware", hardware), ("serial", code))
            if value is None
        ]
        return DutIdentity(
            protocol=self.protocol,
            hardware=hardware or "",
            firmware=software or "",
            serial=code or "",
            cell_count=counts.cell_count,
            model=f"Daly {counts.cell_count}S" + (f" {hardware}" if hardware else ""),
            manufacturer="Daly",
            not_reported=(*missing, "production_date"),
        )

    def set_fets(self, charge: bool, discharge: bool) -> None:
        self.require(Capability.fet_control)
        for command, on in ((F.CHARGE_FET, charge), (F.DISCHARGE_FET, discharge)):
            data = bytes([1 if on else 0]) + bytes(7)
            reply = self._frames(command, 1, data)[1]
            if reply[0] != data[0]:
                raise BmsError(
                    f"{self.port}: FET command 0x{command:02X} not taken (reply {reply.hex(' ')})"
                )

    def link_timing(self) -> LinkTiming:
        """Each exchange's duration on the serial line, as the host saw it, and how late
        this host wakes a reader on the line (measured now)."""
        return LinkTiming(
            "request_reply",
            self.link.timed,
            tuple(self.link.exchange_s),
            host_latency_s=self.link.host_latency(),
        )

    def close(self) -> None:
        self.link.close()


def open_link(info: Any, options: Any) -> DalyBms:
    """Registry entry point (dut_drivers.registry)."""
    if not options.port:
        raise ValueError("the daly protocol needs a serial port")
    return DalyBms(
        options.port,
        baudrate=options.baudrate or info.baudrate,
        timeout_s=options.timeout_s,
        retries=options.retries,
        min_interval_s=info.min_interval_s
        if options.min_interval_s is None
        else options.min_interval_s,
        address=F.HOST_PC if options.address is None else options.address,
        current_sign=options.current_sign,
        transcript=options.transcript,
    )
