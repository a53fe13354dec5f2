"""`rig station check`: bring a bench up and say, line by line, what passed and what to fix.

Run before the first plan on a bench that is new, was rewired or had an instrument
swapped. Every instrument is opened on its own, so one unreachable unit does not hide
what is wrong with the others: the link, the identity against the station file's model
and serial, the options or modules fitted, the calibration date, and whatever the error
queue held from before (then cleared). With every instrument reachable, each role is
exercised at safe levels inside the station's limits (set, read back, output off), the
bench is put in its safe state, and the wiring pin check runs with the DUT connected.

`--dry-run` enables no output: the same opening checks, each output's present state read
(not changed), the role exercises and the pin check listed as not run. Nothing is put
in the safe state either (the cells' safe state powers them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from instruments.errors import (
    LINK_ERRORS,
    IdentityError,
    InstrumentError,
    InstrumentRebooted,
    InstrumentReplyError,
)
from instruments.registry import open_instrument
from instruments.serial_line import is_serial
from rig.config.spec import DutSpec
from rig.config.station import SIM_RESOURCE, StationConfig
from rig.safety import SafetyManager
from rig.station.checks import (
    StationCheck,
    check_calibration,
    check_cell_count,
    check_modules,
    check_serial,
    pin_check,
)
from rig.station.station import Station, open_dut

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "not run"
DEVICE_ERRORS = (*LINK_ERRORS, InstrumentReplyError, InstrumentError, InstrumentRebooted)
PROBE_CURRENT_A = 0.1  # the charger's limit and the load's draw while exercised
READY_WAIT_S = 10.0  # longest wait for the BMS to switch both FETs on before the power path


@dataclass
class Row:
    subject: str  # instrument name, role, "dut", "wiring"
    check: str
    result: str  # PASS | FAIL | WARN | not run
    details: str
    fix: str = ""


@dataclass
class CheckReport:
    rows: list[Row] = field(default_factory=list)

    def add(self, subject: str, check: str, result: str, details: str, fix: str = "") -> None:
        self.rows.append(Row(subject, check, result, details, fix))

    def add_check(self, check: StationCheck, fix: str = "", label: str = "") -> None:
        result = PASS if check.ok else (WARN if check.severity == "warning" else FAIL)
        fix = "" if check.ok else fix
        self.add(check.subject, label or check.check, result, check.message, fix)

    @property
    def failed(self) -> bool:
        return any(r.result == FAIL for r in self.rows)


# Further checks a station can declare (an interlock's state, operator steps): each is
# called with the open station, the report and whether this is a dry run, and adds rows.
EXTRA_CHECKS: list[Callable[[Station, CheckReport, bool], None]] = []


def check_bench(
    config: StationConfig,
    spec: DutSpec,
    dry_run: bool,
    endpoints: dict[str, Any] | None = None,
    clock: Any = None,
    today: date | None = None,
) -> CheckReport:
    """Every check in order; the bench is left in its safe state (dry run: as found)."""
    report = CheckReport()
    endpoints = endpoints or {}
    reachable = _check_instruments(config, endpoints, report, today or date.today())
    if not reachable:
        report.add("station", "roles", SKIP, "an instrument is not reachable or not as stated")
        return report
    safety = SafetyManager()
    station = Station.open(config, safety, endpoints)
    try:
        _report_outputs(station, report)
        for extra in EXTRA_CHECKS:
            extra(station, report, dry_run)
        if dry_run:
            for role in _roles(station):
                report.add(role, "exercise", SKIP, "dry run: no output enabled")
            report.add("wiring", "pin", SKIP, "dry run: the cells would be powered")
            return report
        _safe(station, report, "check started")  # the known state: NTCs at 25 °C, cells up
        _exercise(station, config, report, ("cells", "thermistors", "digitizer", "switch"))
        dut, counted = _open_dut(config, spec, endpoints, clock, report)
        ready = dut is not None and _wait_ready(dut, clock, READY_WAIT_S)
        if dut is not None and not ready:
            report.add(
                "dut",
                "ready",
                FAIL,
                f"the BMS's FETs were not both on within {READY_WAIT_S:g} s",
                "see its protections and its supply",
            )
        _exercise(station, config, report, ("charger", "load"))
        _safe(station, report, "exercised")
        if dut is not None:
            _check_wiring(station, spec, dut, counted, clock, report)
    finally:
        if not dry_run:
            _safe(station, report, "check done")
        station.close()
    return report


def _check_instruments(
    config: StationConfig, endpoints: dict[str, Any], report: CheckReport, today: date
) -> bool:
    """Open each instrument alone: link, identity, serial, options/modules, calibration,
    and the error queue as found. True when every one is reachable and as stated."""
    all_ok = True
    for name, inst in config.instruments.items():
        resource = inst.resource
        if resource == SIM_RESOURCE:
            resource = endpoints.get("instruments", {}).get(name, resource)
        try:
            driver = open_instrument(
                inst.model,
                resource,
                name,
                timeout_ms=inst.timeout_ms,
                accuracy=inst.accuracy,
                visa_library=config.visa_library,
                serial_line=inst.serial_line.model_dump() if inst.serial_line else None,
            )
        except DEVICE_ERRORS as exc:
            report.add(name, "link", FAIL, str(exc), _link_fix(resource))
            all_ok = False
            continue
        try:
            report.add(name, "link", PASS, resource)
            try:
                identity = driver.check_identity()
            except IdentityError as exc:
                report.add(
                    name,
                    "identity",
                    FAIL,
                    str(exc),
                    "another unit answers here: fix the resource or the model in the station file",
                )
                all_ok = False
                continue
            except DEVICE_ERRORS as exc:
                report.add(name, "identity", FAIL, str(exc), _link_fix(resource))
                all_ok = False
                continue
            report.add(name, "identity", PASS, str(identity))
            serial = check_serial(name, inst, identity)
            report.add_check(serial, "the station file's serial must be this unit's", "serial")
            all_ok &= serial.ok
            options = _options(driver)
            if options is not None:
                report.add(name, "options", PASS, options or "none installed")
            modules = check_modules(name, inst, driver)
            if modules is not None:
                report.add_check(
                    modules, "fit the modules the station file lists, or list the ones fitted"
                )
                all_ok &= modules.ok
            enforce = config.calibration == "enforce"
            calibration = check_calibration(name, inst, today, enforce)
            report.add_check(calibration, "calibrate the unit and state calibration_due")
            all_ok &= calibration.ok or calibration.severity == "warning"
            errors = driver.read_errors()
            if errors:
                listed = "; ".join(f"{c},{m!r}" for c, m in errors)
                report.add(
                    name,
                    "error queue",
                    WARN,
                    f"held from before: {listed}",
                    "find out what sent them; the check cleared the queue",
                )
            else:
                report.add(name, "error queue", PASS, "empty")
            driver.clear()
        except DEVICE_ERRORS as exc:
            report.add(name, "link", FAIL, str(exc), _link_fix(resource))
            all_ok = False
        finally:
            with contextlib.suppress(Exception):
                driver.adapter.close()  # a switch's close() closes relays, not the link
    return all_ok


def _link_fix(resource: str) -> str:
    if is_serial(resource):
        return (
            "check the port, the cable (null-modem or straight), the user's access "
            "(dialout group) and the line settings (serial_line: baud_rate, ...)"
        )
    if resource.upper().startswith("USB"):
        return "check the USB cable, the udev rule for USBTMC and that no other program holds it"
    if resource.upper().startswith("GPIB"):
        return "check the GPIB address, the adapter's driver (linux-gpib or the vendor's VISA)"
    return (
        "check the address (ping it), the port, that the instrument's LAN interface is "
        "enabled and that no other client holds its only session"
    )


def _options(driver: Any) -> str | None:
    """`*OPT?` where the model answers it (not every model has the query)."""
    if not getattr(driver, "HAS_OPT", False):
        return None
    return driver.ask("*OPT?").strip()


def _roles(station: Station) -> list[str]:
    names = ["charger", "load", "cells", "thermistors", "digitizer", "switch"]
    return [n for n in names if getattr(station, f"_{n}", None) is not None]


def _report_outputs(station: Station, report: CheckReport) -> None:
    """What each output is doing now, as found (before anything is set)."""
    if station._charger is not None:
        on = station._charger.driver.output_enabled(station._charger.channel)
        report.add("charger", "output as found", WARN if on else PASS, "on" if on else "off")
    if station._load is not None:
        on = station._load.driver.input_enabled()
        report.add("load", "input as found", WARN if on else PASS, "on" if on else "off")
    if station._short is not None:
        closed = station._short.is_closed()
        report.add(
            "short",
            "relay as found",
            FAIL if closed else PASS,
            "CLOSED" if closed else "open",
            "the short relay must be open" if closed else "",
        )
    if station._supply is not None:
        cut = station._supply.is_cut()
        report.add(
            "supply",
            "BMS supply relay as found",
            WARN if cut else PASS,
            "CLOSED: the BMS's supply cut" if cut else "open: the BMS powered",
            "the safe state opens it and the BMS boots" if cut else "",
        )


def _exercise(
    station: Station, config: StationConfig, report: CheckReport, roles: tuple[str, ...]
) -> None:
    """Each of `roles` at safe levels inside the station's limits: set, read back, off."""
    limits, safe = config.limits, config.safe_state
    steps: list[tuple[str, Callable[[], tuple[str, str]]]] = []
    if station._cells is not None:
        steps.append(("cells", lambda: _cells(station, safe.cell_voltage)))
    if station._charger is not None:
        steps.append(("charger", lambda: _charger(station, config)))
    if station._load is not None:
        steps.append(
            ("load", lambda: _load(station, min(PROBE_CURRENT_A, limits.discharge_current.max)))
        )
    if station._thermistors is not None:
        steps.append(("thermistors", lambda: _thermistors(station)))
    if station._digitizer is not None:
        steps.append(("digitizer", lambda: _digitizer(station)))
    if station._switch is not None:
        steps.append(("switch", lambda: _switch(station)))
    for role, step in steps:
        if role not in roles:
            continue
        try:
            result, details = step()
        except Exception as exc:
            result, details = FAIL, f"{type(exc).__name__}: {exc}"
        fix = "" if result == PASS else f"see the {role}'s wiring and the instrument's display"
        report.add(role, "exercise", result, details, fix)


def _cells(station: Station, volts: float) -> tuple[str, str]:
    cells = station.cells
    cells.set_current_limit(station.config.safe_state.cell_current_limit)
    cells.set_all(volts)
    cells.on()
    off = []
    for p in cells.positions:
        read = cells.measure_voltage(p)
        band = cells.accuracy(p, "voltage_meas", volts).limit(volts) * 2 + 0.005
        if abs(read - volts) > band:
            off.append(f"cell {p} read {read:.4f} V")
    if off:
        return FAIL, f"set {volts:g} V: " + "; ".join(off)
    return PASS, f"{cells.count} cells set to {volts:g} V and read back"


def _charger(station: Station, config: StationConfig) -> tuple[str, str]:
    charger = station.charger
    amps = min(PROBE_CURRENT_A, config.limits.charge_current.max)
    cells = station._cells
    volts = cells.pack_setpoint() if cells is not None else config.limits.pack_voltage.min
    volts = min(max(volts, config.limits.pack_voltage.min), config.limits.pack_voltage.max)
    charger.set_current_limit(amps)
    charger.set_voltage(volts)
    charger.on()
    try:
        read_v, read_a = charger.measure_voltage(), charger.measure_current()
    finally:
        charger.off()
    if charger.driver.output_enabled(charger.channel):
        return FAIL, "output still on after switching it off"
    if cells is not None and abs(read_v - volts) > 0.05 * volts + 0.5:
        return FAIL, f"set {volts:.2f} V (the pack), read {read_v:.3f} V"
    if read_a > amps * 1.2 + 0.02:
        return FAIL, f"limit {amps:g} A, read {read_a:.3f} A"
    return PASS, f"{volts:.2f} V / {amps:g} A: read {read_v:.3f} V, {read_a:.3f} A; off"


def _load(station: Station, amps: float) -> tuple[str, str]:
    load = station.load
    load.set_current(amps)
    load.on()
    try:
        read_v, read_a = load.measure_voltage(), load.measure_current()
    finally:
        load.off()
        load.set_current(0.0)
    if load.driver.input_enabled():
        return FAIL, "input still on after switching it off"
    if abs(read_a - amps) > 0.2 * amps + 0.02:
        return FAIL, (
            f"drew {read_a:.3f} A of {amps:g} A at {read_v:.2f} V: is the pack "
            "connected and the BMS's discharge path on?"
        )
    return PASS, f"{amps:g} A at {read_v:.2f} V: read {read_a:.3f} A; off"


def _thermistors(station: Station) -> tuple[str, str]:
    ntcs = station.thermistors
    ntcs.set_all(25.0)
    ntcs.on()
    off = []
    for n in ntcs.positions:
        want, read = ntcs.ohms_at(n, 25.0), ntcs.resistance(n)
        if abs(read - want) > 0.01 * want:
            off.append(f"NTC {n} read {read:.1f} Ω for {want:.1f} Ω")
    if off:
        return FAIL, "; ".join(off)
    return PASS, f"{ntcs.count} NTC inputs at 25 °C, read back"


def _digitizer(station: Station) -> tuple[str, str]:
    digitizer = station.digitizer
    digitizer.abort()
    state = digitizer.state()
    return (PASS if state == "idle" else FAIL), f"aborted; state {state}"


def _switch(station: Station) -> tuple[str, str]:
    switch = station.switch
    switch.remove_all()
    stuck = [name for name in switch.names if switch.inserted(name)]
    if stuck:
        return FAIL, f"still inserted after removal: {', '.join(stuck)}"
    return PASS, f"{len(switch.names)} fault relays open"


def _safe(station: Station, report: CheckReport, reason: str) -> None:
    failures = station.make_safe(reason)
    for failure in failures:
        report.add("safe state", failure.action, FAIL, failure.error)


def _open_dut(
    config: StationConfig,
    spec: DutSpec,
    endpoints: dict[str, Any],
    clock: Any,
    report: CheckReport,
) -> tuple[Any, bool]:
    """The BMS answers and agrees on the cell count: (its link or None, counts agree)."""
    try:
        dut = open_dut(config, endpoints, clock=clock, current_sign=spec.dut.current_sign)
        identity = dut.identity()
    except Exception as exc:
        report.add(
            "dut",
            "link",
            FAIL,
            f"{type(exc).__name__}: {exc}",
            "check dut.port / dut.can, the link's settings and the BMS's supply",
        )
        return None, False
    report.add("dut", "identity", PASS, f"{identity.cell_count} cells reported")
    count = check_cell_count(config, spec, identity.cell_count)
    report.add_check(count, "station file, spec and BMS must agree on the cell count")
    return dut, count.ok


def _wait_ready(dut: Any, clock: Any, wait_s: float) -> bool:
    """The BMS has both FETs on (after the safe state set its NTCs and cells, it may still
    be releasing a protection: an NTC emulator in standby reads as an open, cold NTC)."""
    start = clock.now()
    while True:
        try:
            status = dut.read_status()
            if status.charge_fet and status.discharge_fet:
                return True
        except Exception:
            return False
        if clock.now() - start >= wait_s:
            return False
        clock.sleep(0.25)


def _check_wiring(
    station: Station, spec: DutSpec, dut: Any, counted: bool, clock: Any, report: CheckReport
) -> None:
    """Each cell position reaches the BMS input it is wired to (the pin check)."""
    try:
        if counted and station._cells is not None:
            tc = spec.test_conditions
            pin = pin_check(
                station.cells, dut, clock, tc.nominal_cell_voltage, tc.pin_check_step_v, tc.settle_s
            )
            report.add_check(pin, "swap the sense leads (or the wiring map) as the message says")
    except Exception as exc:
        report.add(
            "wiring",
            "pin",
            FAIL,
            f"{type(exc).__name__}: {exc}",
            "check the BMS link and that the BMS is powered",
        )
    finally:
        with contextlib.suppress(Exception):
            dut.close()
