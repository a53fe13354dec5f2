"""JBD BMS over a UART: status, cells, identity, and the EEPROM configuration.

Status comes from registers 0x03/0x04/0x05, which a unit answers at any time. The
protection configuration lives in EEPROM registers that are only reachable in factory
mode: reading enters it (0x00 ← 56 78), reads every register and leaves it without
saving (0x01 ← 00 00); writing enters it, writes, reads each written register back and
leaves saving (0x01 ← 28 28) only if every read-back matched. Factory mode is left on
every path, error or not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from dut_drivers.base import (
    BmsBase,
    BmsStatus,
    Capability,
    DutIdentity,
    LinkTiming,
    ProtectionConfig,
    ProtectionSetting,
)
from dut_drivers.errors import BmsCapabilityError, BmsError, BmsTimeout
from dut_drivers.jbd import frames, registers
from dut_drivers.registry import PROTOCOLS
from dut_drivers.uart import UartLink

T = TypeVar("T")

ENTER_FACTORY = (0x00, b"\x56\x78")
EXIT_DISCARD = (0x01, b"\x00\x00")
EXIT_SAVE = (0x01, b"\x28\x28")
REG_FET_CONTROL = 0xE1


class JbdBms(BmsBase):
    """A JBD / Xiaoxiang / Overkill Solar BMS on a serial port (BmsLink)."""

    protocol = "jbd"
    CAPABILITIES = PROTOCOLS["jbd"].capabilities

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        timeout_s: float = 0.5,
        retries: int = 1,
        min_interval_s: float = 0.0,
        current_sign: int = 1,
        transcript: Any | None = None,
        link: UartLink | None = None,
        protocol: str = "jbd",
    ) -> None:
        super().__init__()
        self.protocol = protocol
        self.CAPABILITIES = PROTOCOLS[protocol].capabilities
        self.port = port
        self.current_sign = current_sign
        self.link = link or UartLink(port, baudrate, timeout_s, retries, min_interval_s, transcript)

    @property
    def transcript(self) -> Any:
        return self.link.transcript

    def __enter__(self) -> JbdBms:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- frames ------------------------------------------------------------------------

    def _receive(self, register: int, what: str) -> Callable[[bytes], bytes]:
        def receive(request: bytes) -> bytes:
            header = self.link.read(frames.HEADER_LEN, request, what)
            total = frames.frame_length(header, request)
            rest = self.link.read(total - frames.HEADER_LEN, request, what, header)
            return frames.parse_reply(header + rest, register, request)

        return receive

    def read_register(self, register: int) -> bytes:
        """Read one register and return its data bytes, resending on timeout only."""
        what = f"read of register 0x{register:02X}"
        return self.link.transact(frames.build_read(register), self._receive(register, what))

    def write_register(self, register: int, data: bytes) -> bytes:
        what = f"write of register 0x{register:02X}"
        return self.link.transact(frames.build_write(register, data), self._receive(register, what))

    def _optional(self, capability: Capability, what: str, fn: Callable[[], T]) -> T:
        """Run `fn`; a unit that answers basic info but never this is a capability gap."""
        self.require(capability)
        try:
            return fn()
        except BmsTimeout as exc:
            try:
                self.read_register(frames.REG_BASIC_INFO)
            except BmsError:
                raise exc from None  # the unit is silent altogether: not a gap
            why = f"this unit's firmware never answers {what} ({exc})"
            self.declare_gap(capability, why)
            raise BmsCapabilityError(f"{self.port}: {why}") from None

    # -- status ------------------------------------------------------------------------

    def basic_info(self) -> frames.BasicInfo:
        info = frames.decode_basic_info(self.read_register(frames.REG_BASIC_INFO))
        if self.current_sign != 1:
            status = dataclasses.replace(
                info.status, current=info.status.current * self.current_sign
            )
            info = dataclasses.replace(info, status=status)
        return info

    def identity(self) -> DutIdentity:
        hardware = frames.decode_hardware(self.read_register(frames.REG_HARDWARE))
        info = self.basic_info()
        return DutIdentity(
            protocol=self.protocol,
            hardware=hardware,
            firmware=info.software_version,
            production_date=info.production_date,
            cell_count=info.status.cell_count or 0,
            model=hardware,
            not_reported=("serial", "manufacturer"),
        )

    def read_status(self) -> BmsStatus:
        return self.basic_info().status

    def read_cell_voltages(self) -> list[float]:
        return frames.decode_cell_voltages(self.read_register(frames.REG_CELL_VOLTAGES))

    def read_temperatures(self) -> list[float]:
        return list(self.read_status().temperatures_c)

    def read_error_counters(self) -> dict[str, int]:
        reg = registers.ERROR_COUNTS
        data = self._optional(
            Capability.error_counters,
            "the error counters (0xAA)",
            lambda: self.read_register(reg.address),
        )
        return {k: int(v) for k, v in registers.decode(reg, data).items()}

    def set_fets(self, charge: bool, discharge: bool) -> None:
        self.require(Capability.fet_control)
        bits = (0 if charge else 0x01) | (0 if discharge else 0x02)
        self.write_register(REG_FET_CONTROL, bytes([0, bits]))

    # -- EEPROM configuration ----------------------------------------------------------

    def _factory(self, body: Callable[[], T], save: Callable[[], bool]) -> T:
        """Run `body` in factory mode; leave saving only if `save()` says so afterwards."""
        self.write_register(*ENTER_FACTORY)
        ok = False
        try:
            result = body()
            ok = True
            return result
        finally:
            leave = EXIT_SAVE if ok and save() else EXIT_DISCARD
            try:
                self.write_register(*leave)
            except BmsError:
                if ok:
                    raise

    def read_registers(self, names: list[str] | None = None) -> dict[str, Any]:
        """Named EEPROM values (all documented registers by default), in SI units."""
        regs = _registers_for(names)

        def body() -> dict[str, Any]:
            out: dict[str, Any] = {}
            for reg in regs:
                out.update(registers.decode(reg, self.read_register(reg.address)))
            return out

        return self._optional(
            Capability.config_read,
            "the EEPROM registers in factory mode",
            lambda: self._factory(body, save=lambda: False),
        )

    def write_registers(self, values: dict[str, Any]) -> None:
        """Write named EEPROM values, verify each register by reading it back, save.

        Registers that hold several values are read first so the others keep theirs.
        Nothing is saved unless every read-back matches.
        """
        self.require(Capability.config_write)
        unknown = sorted(set(values) - set(registers.BY_NAME))
        if unknown:
            raise ValueError(f"unknown JBD register value(s) {unknown}")
        regs = _registers_for(list(values))
        mismatches: list[str] = []

        def body() -> None:
            for reg in regs:
                current: dict[str, Any] = {}
                if len(reg.names()) > 1 and not set(reg.names()) <= set(values):
                    current = registers.decode(reg, self.read_register(reg.address))
                data = registers.encode(reg, {**current, **values})
                self.write_register(reg.address, data)
                back = self.read_register(reg.address)
                if back != data:
                    mismatches.append(
                        f"0x{reg.address:02X} wrote {data.hex(' ')}, read back {back.hex(' ')}"
                    )

        self._optional(
            Capability.config_write,
            "EEPROM writes in factory mode",
            lambda: self._factory(body, save=lambda: not mismatches),
        )
        if mismatches:
            raise BmsError(f"{self.port}: EEPROM write not saved: " + "; ".join(mismatches))

    def read_protection_config(self) -> ProtectionConfig:
        values = self.read_registers()
        settings: dict[str, ProtectionSetting] = {}
        targets = ("threshold", "release", "delay_s", "release_delay_s")
        for name, names in registers.PROTECTION_FIELDS.items():
            got = [None if n is None else values[n] for n in names]
            if name == "discharge_oc" and got[0] is not None:
                got[0] = abs(got[0])
            # every register holds whole counts of its scale: the coding step of the value
            steps = {
                t: registers.BY_NAME[n].scale for t, n in zip(targets, names, strict=True) if n
            }
            settings[name] = ProtectionSetting(
                *[None if g is None else float(g) for g in got], steps=steps
            )
        shunt = values["shunt_res"]
        if shunt > 0:
            x2 = 2 if values["sc_dsgoc_x2"] else 1
            sc_mv, oc_mv = values["sc_mv"] / x2, values["dsgoc2_mv"] / x2
            settings["short_circuit"] = ProtectionSetting(
                threshold=round(values["sc_mv"] / shunt, 3),
                delay_s=values["sc_delay_us"] / 1e6,
                release_delay_s=float(values["sc_rel"]),
                steps={
                    "threshold": registers.code_step(sc_mv, registers.SC_MV) * x2 / shunt,
                    "delay_s": registers.code_step(values["sc_delay_us"], registers.SC_DELAY_US)
                    / 1e6,
                },
            )
            settings["discharge_oc2"] = ProtectionSetting(
                threshold=round(values["dsgoc2_mv"] / shunt, 3),
                delay_s=values["dsgoc2_delay_ms"] / 1e3,
                steps={
                    "threshold": registers.code_step(oc_mv, registers.DSGOC2_MV) * x2 / shunt,
                    "delay_s": registers.code_step(
                        values["dsgoc2_delay_ms"], registers.DSGOC2_DELAY_MS
                    )
                    / 1e3,
                },
            )
        return ProtectionConfig(settings=settings, extra=values)

    def write_protection_config(self, config: ProtectionConfig) -> None:
        """Write the given settings (None fields are left as they are), then `extra`."""
        self.require(Capability.config_write)
        values: dict[str, Any] = {}
        for name, setting in config.settings.items():
            if name not in registers.PROTECTION_FIELDS:
                raise BmsCapabilityError(
                    f"jbd: writing {name!r} is not supported; write its registers by name"
                    " through ProtectionConfig.extra"
                )
            fields = registers.PROTECTION_FIELDS[name]
            given = (setting.threshold, setting.release, setting.delay_s, setting.release_delay_s)
            for field_name, value in zip(fields, given, strict=True):
                if value is None:
                    continue
                if field_name is None:
                    raise BmsCapabilityError(f"jbd: {name} has no register for that field")
                values[field_name] = -abs(value) if field_name == "dsgoc" else value
        values.update(config.extra)
        self.write_registers(values)

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


def _registers_for(names: list[str] | None) -> list[registers.Register]:
    if names is None:
        return list(registers.REGISTERS)
    unknown = sorted(set(names) - set(registers.BY_NAME))
    if unknown:
        raise ValueError(f"unknown JBD register value(s) {unknown}")
    seen: dict[int, registers.Register] = {}
    for name in names:
        reg = registers.BY_NAME[name]
        seen[reg.address] = reg
    return list(seen.values())


def open_link(info: Any, options: Any) -> JbdBms:
    """Registry entry point (dut_drivers.registry)."""
    if not options.port:
        raise ValueError("the jbd protocol needs a serial port")
    return JbdBms(
        options.port,
        baudrate=options.baudrate or info.baudrate,
        timeout_s=options.timeout_s,
        retries=options.retries,
        min_interval_s=info.min_interval_s
        if options.min_interval_s is None
        else options.min_interval_s,
        current_sign=options.current_sign,
        transcript=options.transcript,
    )


def open_ble(info: Any, options: Any) -> JbdBms:
    """Registry entry point for `jbd_ble`: the same frames on the GATT pair FF02/FF01."""
    from dut_drivers import ble

    link = ble.open_stream(info, options, ble.JBD)
    return JbdBms(link.port, current_sign=options.current_sign, link=link, protocol="jbd_ble")
