"""Open a station from its file: drivers, identity checks, roles, safe-state registration.

Every instrument is checked against the model the station file names before anything is
driven: a wrong instrument at an address is an IdentityError, never a silent run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dut_drivers.base import BmsLink
from dut_drivers.registry import PROTOCOLS, LinkOptions
from instruments.battery_simulators.base import AsLoad
from instruments.registry import open_instrument, role_of
from instruments.roles import Identity
from rig.config.errors import ConfigError
from rig.config.station import SIM_RESOURCE, InstrumentConfig, StationConfig
from rig.safety import SafetyManager
from rig.station.checks import StationCheck, check_calibration, check_modules, check_serial
from rig.station.ntc import NtcCurve
from rig.station.roles import (
    BatterySimulator,
    CellChannel,
    Cells,
    Charger,
    DigitizerRole,
    Fault,
    FaultSwitch,
    Load,
    MeterChannel,
    NtcChannel,
    Probe,
    RoleNotFitted,
    ShortRelay,
    ShuntEmulation,
    SupplyRelay,
    Thermistors,
    Thermocouples,
)
from rig.station.transcript import Transcript


@dataclass(frozen=True)
class EquipmentRecord:
    """One line of the equipment list in the report."""

    name: str
    model: str
    resource: str
    identity: str
    serial_expected: str | None
    calibration_due: str | None
    role: str
    calibration_expired: bool | None = None  # None: no due date stated


class Station:
    def __init__(self, config: StationConfig, safety: SafetyManager):
        self.config = config
        self.safety = safety
        self.drivers: dict[str, Any] = {}
        self.equipment: list[EquipmentRecord] = []
        self.transcripts: list[Transcript] = []
        self.checks: list[StationCheck] = []  # identity, modules, calibration, per instrument
        self._charger: Charger | None = None
        self._load: Load | None = None
        self._cells: Cells | None = None
        self._thermistors: Thermistors | None = None
        self._digitizer: DigitizerRole | None = None
        self._short: ShortRelay | None = None
        self._switch: FaultSwitch | None = None
        self._shunt: ShuntEmulation | None = None
        self._pack: BatterySimulator | None = None
        self._supply: SupplyRelay | None = None
        # Where one regenerative source is both the charger and the load, the paths a
        # plan has started on it, the latest last (test_plans._power_path): emptied by
        # the safe state, which switches the source off.
        self.shared_paths: list[Any] = []
        self._thermocouples: Thermocouples | None = None

    @classmethod
    def open(
        cls,
        config: StationConfig,
        safety: SafetyManager,
        endpoints: dict[str, Any] | None = None,
        transcript_dir: Path | None = None,
    ) -> Station:
        station = cls(config, safety)
        try:
            station._open_instruments(endpoints or {}, transcript_dir)
            station._build_roles()
        except BaseException:
            station.close()
            raise
        return station

    def _resource(self, name: str, inst: InstrumentConfig, endpoints: dict[str, Any]) -> str:
        if inst.resource != SIM_RESOURCE:
            return inst.resource
        try:
            return endpoints["instruments"][name]
        except KeyError:
            raise ConfigError(
                self.config.source or "<station>",
                [(f"instruments.{name}.resource", "'sim' but simlab serves no such instrument")],
            ) from None

    def _open_instruments(self, endpoints: dict[str, Any], transcript_dir: Path | None) -> None:
        for name, inst in self.config.instruments.items():
            resource = self._resource(name, inst, endpoints)
            transcript = None
            if transcript_dir is not None:
                transcript = Transcript(transcript_dir / f"{name}.jsonl")
                self.transcripts.append(transcript)
            driver = open_instrument(
                inst.model,
                resource,
                name,
                transcript,
                inst.timeout_ms,
                accuracy=inst.accuracy,
                visa_library=self.config.visa_library,
                serial_line=inst.serial_line.model_dump() if inst.serial_line else None,
            )
            self.drivers[name] = driver
            identity: Identity = driver.check_identity()
            driver.clear()
            driver.raise_errors()
            calibration = check_calibration(
                name, inst, date.today(), self.config.calibration == "enforce"
            )
            self.checks.append(check_serial(name, inst, identity))
            modules = check_modules(name, inst, driver)
            if modules is not None:
                self.checks.append(modules)
            self.checks.append(calibration)
            self.equipment.append(
                EquipmentRecord(
                    name=name,
                    model=inst.model,
                    resource=resource,
                    identity=str(identity),
                    serial_expected=inst.serial,
                    calibration_due=inst.calibration_due.isoformat()
                    if inst.calibration_due
                    else None,
                    role=role_of(inst.model),
                    calibration_expired=calibration.details.get("expired"),
                )
            )

    def _build_roles(self) -> None:
        wiring, limits = self.config.wiring, self.config.limits
        # Safe order: open the short first, take energy off the pack terminals, remove
        # inserted faults, then settle the cells and thermistors; the digitizer last.
        if wiring.short is not None:
            ref = wiring.short
            self._short = ShortRelay(ref.instrument, self.drivers[ref.instrument], ref.channel)
            self.safety.register(
                "short relay open", self._kept(self._short.make_safe, ref.instrument), priority=5
            )
        if wiring.shunt is not None:
            sh = wiring.shunt
            self._shunt = ShuntEmulation(
                sh.channel.instrument,
                self.drivers[sh.channel.instrument],
                sh.channel.channel,
                sh.shunt_ohm,
                sh.attenuation,
                sh.positive,
                limits,
            )
            self.safety.register(
                "emulated current off",
                self._kept(self._shunt.make_safe, sh.channel.instrument),
                priority=6,
            )
        if wiring.switch:
            faults = {
                name: Fault(
                    name,
                    f.channel.instrument,
                    self.drivers[f.channel.instrument],
                    f.channel.channel,
                    f.action,
                    f.target,
                )
                for name, f in wiring.switch.items()
            }
            self._switch = FaultSwitch(faults)
            self.safety.register(
                "faults removed",
                self._kept(self._switch.make_safe, *{f.instrument for f in faults.values()}),
                priority=30,
            )
        if wiring.charger is not None and wiring.charger == wiring.load:
            self.safety.register("shared power paths ended", self.shared_paths.clear, priority=1)
        if wiring.load is not None:
            ref = wiring.load
            driver = self.drivers[ref.instrument]
            if role_of(self.config.instruments[ref.instrument].model) == "battery_simulator":
                driver = AsLoad(driver, ref.channel)  # a regenerative source sinking
            self._load = Load(ref.instrument, driver, limits)
            self.safety.register(
                "load off", self._kept(self._load.make_safe, ref.instrument), priority=10
            )
        if wiring.charger is not None:
            ref = wiring.charger
            self._charger = Charger(
                ref.instrument, self.drivers[ref.instrument], ref.channel, limits
            )
            self.safety.register(
                "charger off", self._kept(self._charger.make_safe, ref.instrument), priority=20
            )
        if wiring.pack is not None:
            ref, safe = wiring.pack, self.config.safe_state
            volts = safe.pack_voltage or safe.cell_voltage * self.config.dut.cell_count
            self._pack = BatterySimulator(
                ref.instrument,
                self.drivers[ref.instrument],
                ref.channel,
                limits,
                volts,
                safe.pack_current_limit,
            )
            self.safety.register(
                "battery simulator to nominal",
                self._kept(self._pack.make_safe, ref.instrument),
                priority=35,
            )
        if wiring.dut_supply is not None:
            ref = wiring.dut_supply
            self._supply = SupplyRelay(ref.instrument, self.drivers[ref.instrument], ref.channel)
            # after the charger, the load and the faults are off and out: the board boots
            # on a quiet bench, as it does where the cells come back at nominal
            self.safety.register(
                "BMS supply on", self._kept(self._supply.make_safe, ref.instrument), priority=38
            )
        if wiring.cells:
            channels = {
                pos: CellChannel(ref.instrument, self.drivers[ref.instrument], ref.channel)
                for pos, ref in wiring.cells.items()
            }
            self._cells = Cells(channels, limits, self.config.safe_state)
            self.safety.register(
                "cells to nominal",
                self._kept(
                    self._cells.make_safe,
                    *{r.instrument for r in wiring.cells.values()},
                    confirm=self._cells.confirm_safe,
                ),
                priority=40,
            )
        if wiring.thermistors:
            ntcs = {
                n: NtcChannel(
                    w.channel.instrument,
                    self.drivers[w.channel.instrument],
                    w.channel.channel,
                    NtcCurve(w.r25_ohm, w.beta_k, tuple(w.table) if w.table else None),
                    self._meter(w.readback),
                )
                for n, w in wiring.thermistors.items()
            }
            self._thermistors = Thermistors(ntcs, limits)
            self.safety.register(
                "thermistors to 25 °C",
                self._kept(
                    self._thermistors.make_safe,
                    *{w.channel.instrument for w in wiring.thermistors.values()},
                ),
                priority=45,
            )
        if wiring.thermocouples:
            self._thermocouples = Thermocouples(
                {
                    place: (self._meter(t.channel), t.type)
                    for place, t in wiring.thermocouples.items()
                }
            )
        if wiring.digitizer is not None:
            d = wiring.digitizer
            self._digitizer = DigitizerRole(
                d.channel.instrument,
                self.drivers[d.channel.instrument],
                d.channel.channel,
                d.measures,
                d.scale,
                tuple(Probe(p.channel.channel, p.measures, p.scale) for p in d.also),
            )
            self.safety.register(
                "digitizer idle",
                self._kept(self._digitizer.make_safe, d.channel.instrument),
                priority=60,
            )

    def _kept(
        self,
        make_safe: Callable[[], None],
        *instruments: str,
        confirm: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """A role's safe-state step, left out while none of its instruments has been sent
        a command since the step last succeeded: the bench is as that step left it.

        Between two plans the safe state runs three times with nothing but the BMS's
        status read in between (after the plan, at its end, before the next); the first
        one commands and reads back, the other two cost nothing but `confirm`, a read
        that the state still holds (the cells' voltages: a regulator that drifted, or a
        hand on the bench). Any command to one of the role's instruments (the plan's, a
        power cycle's, a reconnect's), a failed step or a failed confirmation makes the
        step run whole.
        """
        drivers = [self.drivers[name] for name in dict.fromkeys(instruments)]
        left: list[int | None] = [None]  # the command count as the step last left it

        def step() -> None:
            count = sum(d.commands_sent for d in drivers)
            if left[0] == count:
                try:
                    if confirm is not None:
                        confirm()
                    return
                except Exception:  # not as left: the whole step puts it right, or says why
                    pass
            left[0] = None
            make_safe()
            left[0] = sum(d.commands_sent for d in drivers)

        return step

    def _meter(self, ref: Any) -> Any:
        if ref is None:
            return None
        return MeterChannel(ref.instrument, self.drivers[ref.instrument], ref.channel)

    @property
    def thermocouples(self) -> Thermocouples:
        """Thermocouples on DMM channels (`wiring.thermocouples`)."""
        return self._need(self._thermocouples, "thermocouples (wiring.thermocouples)")

    @property
    def charger(self) -> Charger:
        return self._need(self._charger, "charger")

    @property
    def load(self) -> Load:
        return self._need(self._load, "load")

    @property
    def cells(self) -> Cells:
        return self._need(self._cells, "cells")

    @property
    def thermistors(self) -> Thermistors:
        return self._need(self._thermistors, "thermistors")

    @property
    def digitizer(self) -> DigitizerRole:
        return self._need(self._digitizer, "digitizer")

    @property
    def short(self) -> ShortRelay:
        return self._need(self._short, "short relay")

    @property
    def switch(self) -> FaultSwitch:
        return self._need(self._switch, "fault-insertion switch")

    @property
    def pack(self) -> BatterySimulator:
        """The battery simulator on the BMS's battery terminals."""
        return self._need(self._pack, "battery simulator (wiring.pack)")

    @property
    def can_power_off_dut(self) -> bool:
        """Whether something on the bench carries the BMS's supply (cell emulators, a
        battery simulator, a relay in its supply feed); a real module alone powers it
        itself."""
        return self._pack is not None or self._cells is not None or self._supply is not None

    def power_off_dut(self) -> bool:
        """Take away what the BMS runs from (the cells, a battery simulator, the feed
        through its supply relay); False when nothing on the bench can (a real module
        without a supply relay). The safe state gives it back."""
        done = False
        if self._supply is not None:
            self._supply.cut()
            done = True
        if self._pack is not None:
            self._pack.off()
            done = True
        if self._cells is not None:
            self._cells.off()
            done = True
        return done

    @property
    def supply(self) -> SupplyRelay:
        """The relay in the BMS board's supply feed (`wiring.dut_supply`)."""
        return self._need(self._supply, "BMS supply relay (wiring.dut_supply)")

    @property
    def shunt(self) -> ShuntEmulation:
        """Current-sense emulation: a generator into the BMS's shunt sense input."""
        return self._need(self._shunt, "current-sense emulation (wiring.shunt)")

    def _need(self, role: Any, name: str) -> Any:
        if role is None:
            raise RoleNotFitted(f"station {self.config.name!r} has no {name} wired")
        return role

    def make_safe(self, reason: str) -> list:
        return self.safety.make_safe(reason)

    def close(self) -> None:
        """Release every link. (Through the adapter: a switch's own `close()` closes
        relays, and called with no channels it raised, so its session stayed open.)"""
        for driver in self.drivers.values():
            with contextlib.suppress(Exception):
                driver.adapter.close()
        for transcript in self.transcripts:
            transcript.close()


def open_dut(
    config: StationConfig,
    endpoints: dict[str, Any] | None = None,
    transcript: Transcript | None = None,
    clock: Any | None = None,
    current_sign: int = 1,
) -> BmsLink:
    """The BMS link named by the station file, through the protocol registry.

    'sim' means what simlab serves: its pty for a UART protocol, its socketcand bus for
    a CAN one. `clock` lets a broadcast protocol wait for frames in the run's time;
    `current_sign` is the DUT spec's sign convention.
    """
    dut = config.dut
    source = config.source or "<station>"
    info = PROTOCOLS[dut.protocol]
    served = (endpoints or {}).get("dut") or {}
    if dut.simulated_link and served.get("protocol") not in (None, dut.protocol):
        raise ConfigError(
            source,
            [("dut.protocol", f"{dut.protocol!r} but simlab serves {served.get('protocol')!r}")],
        )
    port, can_interface, can_channel, can_options = dut.port, None, None, {}
    bitrate = 500_000
    if dut.can is not None:
        can_interface, can_channel = dut.can.interface, dut.can.channel
        can_options, bitrate = dict(dut.can.options), dut.can.bitrate
    if port == SIM_RESOURCE:
        if "port" not in served:
            raise ConfigError(source, [("dut.port", "'sim' but simlab serves no BMS UART")])
        port = served["port"]
    if can_interface == SIM_RESOURCE:
        bus = served.get("can")
        if not bus:
            raise ConfigError(source, [("dut.can.interface", "'sim' but simlab serves no CAN bus")])
        can_interface, can_channel = bus["interface"], bus["channel"]
        can_options = {"host": bus["host"], "port": bus["port"], **can_options}
    ble: dict[str, Any] = {}
    if dut.ble is not None:
        ble = {
            "ble_device": dut.ble.device,
            "ble_backend": dut.ble.backend,
            "ble_hci": dut.ble.hci,
            "ble_adapter": dut.ble.adapter,
            "ble_connect_timeout_s": dut.ble.connect_timeout_s,
        }
        if SIM_RESOURCE in (dut.ble.device, dut.ble.hci):
            radio = served.get("ble")
            if not radio:
                raise ConfigError(source, [("dut.ble", "'sim' but simlab serves no BLE BMS")])
            if dut.ble.device == SIM_RESOURCE:
                ble["ble_device"] = radio["address"]
            if dut.ble.hci == SIM_RESOURCE:
                ble["ble_hci"] = radio["hci"]
    options = LinkOptions(
        **ble,
        port=port,
        baudrate=dut.baudrate,
        timeout_s=dut.timeout_s,
        retries=dut.retries,
        min_interval_s=dut.min_interval_s,
        current_sign=current_sign,
        address=dut.address,
        can_interface=can_interface,
        can_channel=can_channel,
        can_bitrate=bitrate,
        can_options=can_options,
        silence_s=dut.silence_s,
        clock=clock,
        transcript=transcript,
    )
    return info.open(options)


def check_visa_library(config: StationConfig) -> None:
    """The station's VISA library loads (`@py`: pyvisa-py; `@ivi`: the vendor's VISA; or a
    library path); a ConfigError on `visa_library` if not, before any instrument is tried."""
    import pyvisa

    try:
        manager = pyvisa.ResourceManager(config.visa_library)
    except (OSError, ValueError, pyvisa.errors.Error) as exc:
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        detail = " ".join(lines) or type(exc).__name__
        raise ConfigError(
            config.source or "<station>",
            [
                (
                    "visa_library",
                    f"{config.visa_library!r} does not load: {detail}. "
                    + _visa_hint(config.visa_library),
                )
            ],
        ) from None
    manager.close()


def _visa_hint(library: str) -> str:
    """What to install for the library a station names (docs/bench.md, "Install")."""
    if library.startswith("@ivi"):
        return (
            "'@ivi' is a vendor VISA (NI-VISA, Keysight IO Libraries Suite, R&S VISA): "
            "install one, or use '@py' (pyvisa-py, installed with bms-rig)"
        )
    if library.startswith("@py"):
        return "'@py' needs pyvisa-py: pip install 'pyvisa-py[usb,serial]'"
    return "give '@py', '@ivi' or the path of a VISA shared library (libvisa.so, visa64.dll)"
