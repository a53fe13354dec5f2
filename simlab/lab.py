"""The simulated lab for one station: hardware, physics, firmware and their servers.

`Lab.from_station_file("stations/sim-16s.yaml")` builds one SCPI server per simulated
instrument, a JBD UART server on a pty for the DUT and the control channel; `start()`
opens them and `endpoints` says where they are. The in-process helpers (`advance`,
`set`, `get`, `truth`, `events`) are for simlab's own tests; the rig uses the wire.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from simlab import changes, outputs
from simlab.faults import CATALOGUE as FAULTS
from simlab.faults import Fault, LinkFaults, is_fault, parse_fault
from simlab.firmware import CATALOGUE as DEFECTS
from simlab.firmware import Firmware
from simlab.hardware import InstrumentHardware, LoadInput, SourceChannel
from simlab.params import program
from simlab.physics import Bench
from simlab.physics.bench import SenseInjection
from simlab.servers.control import ControlServer
from simlab.servers.dut import DUT_SERVERS
from simlab.station_file import StationSpec, parse_station
from simlab.timekeeper import Timekeeper
from simlab.world import BenchSignal, IdleSignal, World

POWER_ON = 0x80  # IEEE 488.2 standard event status register: PON
TRANSPORTS = ("socket", "hislip", "serial")


class Lab:
    def __init__(
        self,
        spec: StationSpec,
        seed: int | None = None,
        sets: dict[str, object] | None = None,
        defects: list[str] | None = None,
    ):
        from simlab.scpi import create_device, make_hardware  # the SCPI side, built separately

        self.spec = spec
        self.seed = seed if seed is not None else spec.seed if spec.seed is not None else 0
        self.lock = threading.RLock()
        self.hardware: dict[str, InstrumentHardware] = {
            name: make_hardware(inst.model, inst.modules) for name, inst in spec.instruments.items()
        }
        bench_rng, firmware_rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence(self.seed).spawn(2)
        )
        positions: list[SourceChannel | None] = [
            self._source(f"wiring.cells.{pos}", spec.cells[pos]) if pos in spec.cells else None
            for pos in range(1, spec.cell_count + 1)
        ]
        charger = self._source("wiring.charger", spec.charger) if spec.charger else None
        load = self._load("wiring.load", spec.load) if spec.load else None
        bench = Bench(positions, charger, load, rng=bench_rng)
        self.world = World(bench, Firmware(spec.cell_count, rng=firmware_rng), self.lock)
        self.world.writes_marked = True  # twins mark their writes, simlab's side solves

        given: list[tuple[str, str, object]] = []
        if spec.module is not None:  # a real module: its cells from its data sheet
            cells = max(int(spec.module["cells"]), 1)
            given += [
                (
                    f"{spec.source}: module.capacity_ah",
                    "physics.lfp.capacity_ah",
                    spec.module["capacity_ah"],
                ),
                (
                    f"{spec.source}: module.resistance_ohm",
                    "physics.lfp.r_ohm",
                    spec.module["resistance_ohm"] / cells,
                ),
            ]
        given += [(f"{spec.source}: simlab.set.{p}", p, v) for p, v in spec.sets.items()]
        given += [(f"{p}={json.dumps(v)}", p, v) for p, v in (sets or {}).items()]
        for where, path, value in given:
            try:
                self.world.set(path, value)
            except (KeyError, ValueError) as exc:
                msg = exc.args[0] if exc.args else exc
                raise ValueError(f"{where}: {msg}") from None
        self.faults = LinkFaults(lambda: self.world.t, seed=self.seed)
        self.faults.on_added.append(self._schedule)
        self.world.link_faults = self.faults  # the BMS servers ask it as they answer
        for item in spec.defects:
            try:
                self.add_defect(item)
            except ValueError as exc:
                msg = exc.args[0] if exc.args else exc
                raise ValueError(f"{spec.source}: simlab.defects: {msg}") from None
        for item in defects or []:
            self.add_defect(item)

        self._wire_new_roles(spec)

        self.devices = {
            name: create_device(inst.model, self.hardware[name], inst.serial, solve=self._solve)
            for name, inst in spec.instruments.items()
        }
        self._scpi: dict[str, Any] = {}
        self._links: dict[str, Any] = {}  # HiSLIP or serial, beside the raw socket
        self.transport = spec.transport
        self._dut: Any = None
        self._control: ControlServer | None = None
        self.timekeeper = Timekeeper(self.world)

    def _wire_new_roles(self, spec: StationSpec) -> None:
        """Digitizer inputs see the bench quantity they are wired to (others read 0 V on
        the world's clock); relays re-solve the circuit the instant they move; the
        thermistor channels, the short relay, the BMS's supply relay and the fault relays are
        handed to the bench."""
        for hw in self.hardware.values():
            hw.clock = lambda: self.world.t
            for inp in hw.inputs.values():
                inp.signal = IdleSignal(self.world)
            self.world.bench.extra_traces += [g.trace for g in hw.generators.values()]
        if spec.digitizer is not None:
            probes = [("wiring.digitizer.channel", spec.digitizer)]
            probes += [(f"wiring.digitizer.also.{i}", d) for i, d in enumerate(spec.digitizer.also)]
            for key, probe in probes:
                inp = self._channel(key, probe.ref, "inputs")
                inp.signal = BenchSignal(self.world, probe.measures, probe.scale)
        if spec.pack is not None:
            self.world.bench.pack_source = self._source("wiring.pack", spec.pack)
        if spec.shunt is not None:
            output = self._channel("wiring.shunt.channel", spec.shunt.ref, "generators")
            sign = -1.0 if spec.shunt.positive == "discharge" else 1.0
            self.world.bench.sense_injection = SenseInjection(output, spec.shunt.attenuation, sign)
        for hw in self.hardware.values():
            for relay in hw.relays.values():
                relay.on_change = self.world.solve
        bench = self.world.bench
        bench.ntc_channels = {
            n: self._channel(f"wiring.thermistors.{n}.channel", ref, "resistors")
            for n, ref in spec.thermistors.items()
        }
        if spec.short is not None:
            bench.short_relay = self._channel("wiring.short", spec.short, "relays")
        if spec.dut_supply is not None:
            bench.supply_relay = self._channel("wiring.dut_supply", spec.dut_supply, "relays")
        bench.fault_relays = [
            (self._channel(f"wiring.switch.{n}.channel", f.ref, "relays"), f.action, f.target)
            for n, f in spec.faults.items()
        ]
        if spec.interlock is not None:
            port = self._channel("interlock.input", spec.interlock.ref, "digital")
            line, safe = spec.interlock.line, spec.interlock.safe_level
            # the loop as the input line sees it: its safe level while closed, the other
            # level while `interlock_open` holds it open
            port.level = lambda: (safe ^ int(self.faults.interlock_open())) << line
        self._wire_meters(spec)

    def _wire_meters(self, spec: StationSpec) -> None:
        """DMM channels on an NTC line (the resistance the BMS's input sees, faults
        included) and thermocouples (on the BMS's FETs, or in the bench's air)."""
        world = self.world
        for n, ref in spec.ntc_readback.items():
            meter = self._channel(f"wiring.thermistors.{n}.readback", ref, "meters")
            meter.read = lambda kind, n=n: world.ntc_line_ohms(n) if kind == "resistance" else None
        for place, ref in spec.thermocouples.items():
            meter = self._channel(f"wiring.thermocouples.{place}.channel", ref, "meters")
            meter.read = lambda kind, place=place: (
                world.place_temperature(place) if kind == "temperature" else None
            )

    @classmethod
    def from_station_file(
        cls,
        path: str | Path,
        seed: int | None = None,
        sets: dict[str, object] | None = None,
        defects: list[str] | None = None,
    ) -> Lab:
        return cls(parse_station(path), seed=seed, sets=sets, defects=defects)

    def _channel(self, key: str, ref: tuple[str, int], kind: str) -> Any:
        name, ch = ref
        table = getattr(self.hardware[name], kind)
        if ch not in table:
            raise ValueError(
                f"{self.spec.source}: {key}: {name} ({self.hardware[name].model}) has no "
                f"channel {ch}; it has {sorted(table)}"
            )
        return table[ch]

    def _source(self, key: str, ref: tuple[str, int]) -> SourceChannel:
        return self._channel(key, ref, "sources")

    def _load(self, key: str, ref: tuple[str, int]) -> LoadInput:
        return self._channel(key, ref, "loads")

    # -- defects and link faults -----------------------------------------------------

    def add_defect(self, spec: object) -> str:
        """A firmware defect (simlab.firmware.defects) or a link fault (simlab.faults)."""
        if isinstance(spec, str) and is_fault(spec):
            fault = parse_fault(spec, list(self.spec.instruments))
            self.faults.add(fault)
            return fault.spec()
        name = spec.strip().partition(":")[0].strip() if isinstance(spec, str) else ""
        if name and name not in DEFECTS:
            raise ValueError(
                f"unknown defect {name!r}; BMS defects: {', '.join(DEFECTS)}; link faults: "
                f"{', '.join(FAULTS)} (`{program()} defects` describes each)"
            )
        return self.world.add_defect(spec)

    def _schedule(self, fault: Fault) -> None:
        if fault.kind == "scpi_reboot":
            self.world.at(float(fault.params["at_s"]), lambda t: self._reboot(fault))
        elif fault.kind == "scpi_runaway":
            start = float(fault.params["at_s"])
            self.world.at(start, lambda t: self._solve())
            end = start + float(fault.params["for_s"])
            if end < float("inf"):
                self.world.at(end, lambda t: self._solve())

    def _solve(self) -> None:
        """A device's solve after a setting or before a measurement: failed regulators
        first hold their outputs at their runaway voltage, whatever the command set; then
        the circuit is solved if anything changed since its last solve."""
        for fault in self.faults.runaways():
            src = self.hardware[fault.instrument].sources.get(int(fault.params["channel"]))
            if src is not None:
                fault.state.setdefault("saved", src.voltage_set)
                volts = float(fault.params["volts"])  # its output relay still obeys
                if src.voltage_set != volts:
                    src.voltage_set = volts
                    changes.touch()
        for fault in self.faults.ended("scpi_runaway"):
            src = self.hardware[fault.instrument].sources.get(int(fault.params["channel"]))
            if src is not None and "saved" in fault.state:
                src.voltage_set = fault.state.pop("saved")  # it holds its setpoint again
                changes.touch()
        self.world.refresh()

    def _reboot(self, fault: Fault) -> None:
        """The instrument powers up again: *RST state, PON set, offline while it boots."""
        name = fault.instrument
        device = self.devices[name]
        with self.lock:
            device.reset_state()
            device.errors.clear()
            device.esr = POWER_ON
            device.selected_channel = 1
            self.world.solve()
        for server in (self._scpi.get(name), self._links.get(name)):
            if server is not None:
                server.down_until = time.monotonic() + float(fault.params["down_s"])
                server.drop_connections()

    # -- lifecycle ---------------------------------------------------------------------

    def start(
        self, speed: float | None = None, delayed_ack: bool = True, transport: str | None = None
    ) -> Lab:
        """Open every server. `speed`: run free at that multiple of the wall clock, with
        the outputs at the station's safe state (a live pack for outside tools); None:
        time moves only when a client advances it. `delayed_ack`: the SCPI servers delay
        their TCP ACKs as instruments do (False: ACK at once). `transport` (default: the
        station's `simlab.transport`, else "socket"): every instrument is served on a raw
        socket; "hislip" also serves HiSLIP where the model speaks it, "serial" a pty
        where the model has an RS-232 port, and `endpoints["instruments"]` names those."""
        from simlab.servers.scpi_tcp import ScpiTcpServer

        transport = transport or self.spec.transport
        if transport not in TRANSPORTS:
            raise ValueError(f"transport {transport!r}: one of {', '.join(TRANSPORTS)}")
        self.transport = transport
        self.timekeeper = Timekeeper(self.world, speed)
        if speed is not None:
            with self.lock:
                outputs.make_safe(self.spec, self.hardware)
                self.world.solve()
        try:
            for name, device in self.devices.items():
                server = ScpiTcpServer(
                    device,
                    self.lock,
                    delayed_ack=delayed_ack,
                    faults=lambda name=name: self.faults.scpi_state(name),
                )
                server.start()
                self._scpi[name] = server
                extra = self._extra_link(name, device, transport)
                if extra is not None:
                    extra.start()
                    self._links[name] = extra
            self._dut = DUT_SERVERS[self.spec.protocol].create(self.world, self.lock)
            self._dut.start()
            self._control = ControlServer(
                self.world,
                ops={
                    "outputs": lambda world, request: self.outputs(),
                    "fault": lambda world, request: {"active": self.add_defect(request["spec"])},
                    "defect": lambda world, request: {"active": self.add_defect(request["spec"])},
                    "clear_faults": lambda world, request: self.faults.clear() or {},
                    "faults": lambda world, request: {"active": self.faults.specs()},
                    "advance": self.timekeeper.op_advance,
                    "mode": self.timekeeper.op_mode,
                },
            )
            self._control.start()
            self.timekeeper.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every server; each is tried even if an earlier one fails.

        The servers stop side by side: each waits out its own poll interval, and in turn
        that would add up to most of a run's shutdown time.
        """
        servers: list[Any] = [
            self.timekeeper,
            self._control,
            self._dut,
            *self._scpi.values(),
            *self._links.values(),
        ]
        self._control, self._dut, self._scpi, self._links = None, None, {}, {}
        errors: list[Exception] = []

        def stop_one(server: Any) -> None:
            try:
                server.stop()
            except Exception as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=stop_one, args=(server,), daemon=True)
            for server in servers
            if server is not None
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoints(self) -> dict[str, Any]:
        if self._control is None or self._dut is None:
            raise RuntimeError("the lab is not started")
        chosen = {**self._scpi, **self._links}
        return {
            "instruments": {name: s.resource for name, s in chosen.items()},
            "links": {
                name: {
                    "socket": s.resource,
                    **({self.transport: self._links[name].resource} if name in self._links else {}),
                }
                for name, s in self._scpi.items()
            },
            "dut": {"protocol": self.spec.protocol, **self._dut.endpoint},
            "control": self._control.address,
            "seed": self.seed,
            "clock": self.timekeeper.describe(),
        }

    def _extra_link(self, name: str, device: Any, transport: str) -> Any:
        """The HiSLIP server or serial port `transport` asks for, where the model has one."""
        from simlab.scpi.links import links_of

        links = links_of(self.spec.instruments[name].model)
        faults = lambda name=name: self.faults.scpi_state(name)  # noqa: E731
        if transport == "hislip" and links.hislip:
            from simlab.servers.hislip import HislipServer

            return HislipServer(device, self.lock, faults=faults)
        if transport == "serial" and links.serial is not None:
            from simlab.servers.scpi_serial import ScpiSerialServer

            return ScpiSerialServer(device, self.lock, links.serial, faults=faults)
        return None

    # -- in-process helpers ------------------------------------------------------------

    def advance(self, dt: float) -> float:
        return self.world.advance(dt)

    def set(self, path: str, value: object) -> object:
        return self.world.set(path, value)

    def get(self, path: str) -> object:
        return self.world.get(path)

    def truth(self) -> dict[str, Any]:
        return self.world.truth()

    def make_safe(self) -> list[str]:
        """Put the bench in the station's safe state from simlab's own side, as an outboard
        watchdog does when its host goes quiet; returns how it was not safe before."""
        with self.lock:
            before = outputs.unsafe(self.spec, self.hardware, strict=True)
            outputs.make_safe(self.spec, self.hardware)
            self.world.solve()
        return before

    def wait_answering(self, timeout_s: float) -> bool:
        """Wait (wall time, the lab running free) until the BMS has booted and measured."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.world.bms_powered():
                return True
            time.sleep(0.01)  # real time: the free-running lab's own clock moves it
        return self.world.bms_powered()

    def idle_s(self) -> float:
        """Wall seconds since any instrument last heard a command."""
        servers = [*self._scpi.values(), *self._links.values()]
        if not servers:
            return 0.0
        return time.monotonic() - max(s.last_command_at for s in servers)

    def outputs(self) -> dict[str, Any]:
        """Every instrument output as its front panel shows it, and whether that is safe."""
        with self.lock:
            return outputs.report(self.spec, self.hardware)

    def events(self, since: int = 0) -> list[dict[str, object]]:
        return self.world.events(since)[0]

    @property
    def dut_server(self) -> Any:
        """The simulated BMS's protocol server (its `stats` count what it did)."""
        return self._dut
