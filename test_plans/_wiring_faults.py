"""The BMS's own wiring and sensors failing: an open cell sense lead, an NTC line open or
shorted, each inserted by the station's fault-insertion switch (`station.switch`, whose
wiring map says which channel opens which lead or line).

For each fault the station is the evidence, and the BMS's word is judged apart:

- **It trips safe in time.** The charger's test current flows; the fault is inserted
  and the path is polled: the time from the relay's command to the current stopping is
  `<fault>_detect_time`, judged against the spec's `detect_s` (its budget: the polls'
  bracket, and the relay's operate time, by which the fault may have come late). Where
  the spec says the fault opens both FETs, the load's test current must then be cut too
  (`<fault>_discharge_cut`); where it opens the charge FET only, it must still flow.
- **It says so, where it can.** The flag (`sense_wire_open`, `temp_sensor_fault`) is
  judged where the BMS's protocol has a bit for it (`dut_drivers.registry.can_report`).
- **It never reports a plausible wrong value as valid.** With a sense lead open, the
  cells either side are set apart (`cell_low_v`, `cell_high_v`), so a front end that
  reads the floating input as its neighbours' mean reads both wrong; each reading must
  be implausible (outside `plausible_cell_v`), flagged, or right (within the reporting
  tolerance and the emulator's accuracy). With an NTC line open or shorted, the reported
  temperature must be implausible (outside `plausible_c`: the board's rails -40 °C and
  120 °C are plausible-looking) or flagged.

Between faults the fault is removed, the cells and NTCs go back to rest and the path
must flow again (or the spec's recovery procedure runs).
"""

from __future__ import annotations

from dut_drivers.base import BmsLink, BmsStatus, Capability
from dut_drivers.registry import can_report
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.campaign_spec import FaultResponse, WiringFaults
from rig.measure import rectangular, trip_time_by_polling, wait_for
from rig.measure.budget import delay_budget
from rig.measure.traces import trip_waveform
from rig.plugin.fixtures import Ready, Recorder
from rig.station import Station
from rig.station.fitness import pack_volts
from rig.station.roles import Fault
from test_plans._power_path import PowerPath
from test_plans._trip import against


def settings(spec: DutSpec) -> WiringFaults:
    section = spec.wiring_faults
    if section is None:
        raise LookupError("the spec has no wiring_faults section")
    return section


def _flagged(dut: BmsLink, status: BmsStatus, condition: str) -> bool | None:
    """Whether the BMS names `condition` (None: its protocol has no flag for it)."""
    if Capability.protections not in dut.capabilities or not can_report(dut.protocol, condition):
        return None
    named = set(status.protections or ()) | set(status.alarms or ())
    return condition in named


def _detect(
    name: str,
    fault: Fault,
    response: FaultResponse,
    station: Station,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    clause: list[str],
    context: dict[str, object],
) -> bool:
    """Insert `fault` with the charge test current flowing; time the path's cut; then
    judge the other path. True once the fault is in (the BMS's word is judged then,
    whether or not it cut anything)."""
    tc = spec.test_conditions
    switch = station.switch
    charge = PowerPath(station, spec, "charge")
    charge.start(pack_volts(spec))
    amps = charge.read()
    if not charge.flowing(amps):
        record(
            f"{name}_detect_time", None, "s", **against(response.detect_s, clause),
            evidence="instrument", instrument=charge.instrument, context=context,
            note=f"no test current before the fault: {charge.label} {amps:.4g} A",
        )  # fmt: skip
        return False
    trip = trip_time_by_polling(
        clock,
        apply=lambda: switch.insert(fault.name),
        observe=charge.read,
        tripped=charge.interrupted,
        timeout_s=4 * response.detect_s.high + tc.settle_s,
        period_s=tc.poll_period_s,
    )
    charge.stop()
    operate, source = switch.operate_time(fault.name)
    bracket = None
    if trip.bracket is not None:
        bracket = (max(trip.bracket[0] - operate, 0.0), trip.bracket[1])
    value = None if bracket is None else (bracket[0] + bracket[1]) / 2
    wf = trip_waveform(f"{name}_detect", trip, charge.label, "A", charge.trip_below_a)
    record(
        f"{name}_detect_time",
        value,
        "s",
        **against(response.detect_s, clause),
        bracket=bracket,
        resolution=trip.resolution_s,
        budget=delay_budget(trip, clock.virtual, operate, source),
        evidence="instrument",
        instrument=charge.instrument,
        waveform=record.waveform(wf),
        context={
            **context,
            "relay": f"{fault.instrument}:{fault.channel}",
            "operate_s": operate,
            "t_step": trip.t_step,
        },
        note="" if trip.tripped else f"{charge.label} still flowing with the fault inserted",
    )
    if trip.tripped:
        _other_path(name, response, station, clock, spec, record, clause, context)
    return True


def _other_path(
    name: str,
    response: FaultResponse,
    station: Station,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    clause: list[str],
    context: dict[str, object],
) -> None:
    """The discharge path with the fault in: cut if the fault opens both FETs, else
    still conducting."""
    tc = spec.test_conditions
    load = PowerPath(station, spec, "discharge")
    load.start(pack_volts(spec))
    clock.sleep(tc.poll_period_s)
    amps = load.read()
    load.stop()
    band = station.load.accuracy("current_meas", amps)
    cut = response.opens in ("discharge", "both")
    limits = (
        {"low": None, "high": load.trip_below_a, "comparison": "LE"}
        if cut
        else {"low": load.trip_below_a, "high": None, "comparison": "GE"}
    )
    record(
        f"{name}_discharge_{'cut' if cut else 'continues'}",
        amps,
        "A",
        **limits,
        clause=clause,
        budget=[rectangular(f"{load.instrument} accuracy", band.limit(amps), band.source)],
        evidence="instrument",
        instrument=load.instrument,
        context={**context, "opens": response.opens},
        note=f"{load.label} with the fault inserted: the discharge path must "
        f"{'be cut' if cut else 'keep conducting'}",
    )


def _remove(
    fault: Fault, station: Station, clock: Clock, spec: DutSpec, ready: Ready, why: str
) -> None:
    """Fault out, bench back at rest, the charge path flowing again (or recovered)."""
    station.switch.remove(fault.name)
    if station.config.wiring.cells:  # a module's cells are its own
        station.cells.set_all(spec.test_conditions.nominal_cell_voltage)
    if station.config.wiring.thermistors:
        station.thermistors.set_all(station.thermistors.SAFE_C)
    rec = spec.recovery
    charge = PowerPath(station, spec, "charge")
    charge.start(pack_volts(spec))
    flows = wait_for(
        clock, lambda: charge.flowing(charge.read()), rec.release_timeout_s, rec.poll_s
    )
    charge.stop()
    if flows is None:
        ready.recover(why)


def sense_wires(
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
) -> None:
    """Every sense lead the switch can open, in turn."""
    s = settings(spec)
    response = s.sense_wire
    assert response is not None
    cells = station.cells
    n = cells.count
    faults = station.switch.wired("open_cell_sense")
    if not faults:
        raise LookupError("the station's switch opens no cell sense lead")
    for fault in faults:
        lead = fault.target
        # the cells set apart around the tap: below and above it (for the top lead, the
        # top cell and the one below, which its floating input follows)
        low, high = (lead, lead + 1) if lead < n else (lead - 1, lead)
        # the cells whose readings the open lead corrupts: those it is an input of
        affected = (lead, lead + 1) if lead < n else (lead,)
        cells.set_all(spec.test_conditions.nominal_cell_voltage)
        cells.set_voltage(low, s.cell_low_v)
        cells.set_voltage(high, s.cell_high_v)
        clock.sleep(spec.test_conditions.settle_s)
        name = f"sense_lead{lead}"
        context: dict[str, object] = {"lead": lead, "cells": list(affected), "fault": fault.name}
        try:
            if _detect(name, fault, response, station, clock, spec, record, s.clause, context):
                _sense_report(name, affected, station, dut, clock, spec, record, s, context)
        finally:
            _remove(fault, station, clock, spec, ready, f"after {fault.name}")


def _report_flag(
    name: str, condition: str, dut: BmsLink, record: Recorder, s: WiringFaults,
    context: dict[str, object],
) -> bool | None:  # fmt: skip
    """The BMS's flag for the fault, judged where its protocol can name it (None: it
    cannot)."""
    status = dut.read_status()
    flagged = _flagged(dut, status, condition)
    if flagged is not None:
        record.flag(
            f"{name}_reported_flag", flagged, clause=s.clause, context=context,
            note=f"BMS reports: {', '.join(sorted(status.protections or ())) or 'nothing'}",
        )  # fmt: skip
    return flagged


def _sense_report(
    name: str,
    affected: tuple[int, ...],
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    s: WiringFaults,
    context: dict[str, object],
) -> None:
    """The BMS's word with the lead open: its flag, and what it says of the two cells."""
    flagged = _report_flag(name, "sense_wire_open", dut, record, s, context)
    if Capability.cell_voltages not in dut.capabilities:
        return
    reported = dut.read_cell_voltages()
    tol = spec.reporting.cell_voltage_error_v
    lo, hi = s.plausible_cell_v
    for cell in affected:
        readback = station.cells.measure_voltage(cell)
        band = station.cells.accuracy(cell, "voltage_meas", readback).limit(readback)
        value = reported[cell - 1]
        plausible = lo <= value <= hi
        right = tol.low - band <= value - readback <= tol.high + band
        ok = bool(flagged) or not plausible or right
        record.flag(
            f"{name}_cell{cell}_not_plausibly_wrong",
            ok,
            clause=s.clause,
            context={**context, "reported_v": value, "station_v": readback},
            note=f"BMS reports cell {cell} at {value:.3f} V; the emulator holds {readback:.3f} V"
            + ("" if ok else ": a plausible wrong voltage, reported as valid"),
        )


def ntc_faults(
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
) -> None:
    """Every NTC line under test the switch can open or short, each in turn."""
    s = settings(spec)
    response = s.ntc
    assert response is not None
    switch = station.switch
    faults = [
        f
        for action in ("open_ntc", "short_ntc")
        for f in switch.wired(action)
        if f.target in spec.ntcs_under_test
    ]
    if not faults:
        raise LookupError("the station's switch opens or shorts no NTC line under test")
    for fault in faults:
        kind = "open" if fault.action == "open_ntc" else "short"
        name = f"ntc{fault.target}_{kind}"
        context: dict[str, object] = {"ntc": fault.target, "fault": fault.name}
        station.thermistors.set_all(station.thermistors.SAFE_C)
        clock.sleep(spec.test_conditions.settle_s)
        try:
            if _detect(name, fault, response, station, clock, spec, record, s.clause, context):
                _ntc_report(name, fault.target, station, dut, spec, record, s, context)
        finally:
            _remove(fault, station, clock, spec, ready, f"after {fault.name}")


def _ntc_report(
    name: str,
    ntc: int,
    station: Station,
    dut: BmsLink,
    spec: DutSpec,
    record: Recorder,
    s: WiringFaults,
    context: dict[str, object],
) -> None:
    """The BMS's word with the line faulted: its flag, and the temperature it reports."""
    flagged = _report_flag(name, "temp_sensor_fault", dut, record, s, context)
    if Capability.ntc_temperatures not in dut.capabilities:  # each input's own reading
        return
    temps = dut.read_temperatures()
    if len(temps) < ntc:
        return
    value = temps[ntc - 1]
    lo, hi = s.plausible_c
    plausible = lo <= value <= hi
    line = station.thermistors.reference(ntc) if station.thermistors.has_readback(ntc) else None
    ohms = None if line is None else line.ohms
    ok = bool(flagged) or not plausible
    record.flag(
        f"{name}_not_reported_as_valid",
        ok,
        clause=s.clause,
        context={
            **context,
            "reported_c": value,
            "line_ohms": "open" if ohms == float("inf") else ohms,
        },
        note=f"BMS reports NTC {ntc} at {value:g} °C"
        + ("" if ok else f": a plausible temperature ({lo:g}..{hi:g} °C), not flagged"),
    )
