"""What the BMS says it measures, against what the station's instruments applied.

A BMS protects on its own readings: a cell read 30 mV high trips 30 mV early, a current
read 10 % high trips every current protection 10 % early, an NTC read through the wrong
curve protects at the wrong temperature. So each reading is judged on its own
(`evidence: dut`), the error being the BMS's reading minus the station's, with the
uncertainty of the station's side (the reference instrument's accuracy, and for a
current the drift between the readings taken around the BMS's), against the spec's
`reporting` limits:

- cell voltages: every emulator channel at each of `levels_v`, position by position;
- pack current: the charger (charging, +) or the load (discharging, -) at each of
  `current_levels_a`, the BMS's reported current against the instrument's read-back;
- temperatures: one NTC input at a time at each of `temperature_levels_c` (the others
  at 25 °C), the BMS's reported temperature against the emulated one; the emulator's
  resistance accuracy enters through the NTC's curve there.
"""

from __future__ import annotations

from dut_drivers.base import BmsLink
from rig.clock import Clock
from rig.config import DutSpec
from rig.measure import Component, Stimulus, rectangular
from rig.plugin.fixtures import Recorder
from rig.safety import check_limit
from rig.station import Station
from test_plans._power_path import PowerPath, open_pack, pack_ceiling


def cell_voltages(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    tc, limit = spec.test_conditions, spec.reporting.cell_voltage_error_v
    cells = station.cells
    for level in spec.reporting.levels_v or [tc.nominal_cell_voltage]:
        cells.set_all(level)
        clock.sleep(tc.settle_s)
        reported = dut.read_cell_voltages()
        for position in cells.positions:
            readback = cells.measure_voltage(position)
            band = cells.accuracy(position, "voltage_meas", readback)
            ch = cells.channel_of(position)
            record(
                f"cell{position}_reading_error_at_{level:.2f}V",
                reported[position - 1] - readback,
                "V",
                low=limit.low,
                high=limit.high,
                nominal=limit.nominal,
                clause=spec.reporting.clause,
                budget=[
                    rectangular("emulator read-back accuracy", band.limit(readback), band.source)
                ],
                evidence="dut",
                instrument="dut",
                stimulus=Stimulus(
                    "cell_voltage", "V", level, readback, f"{ch.instrument}:{ch.channel}"
                ),
                context={"cell": position, "level_v": level, "reported_v": reported[position - 1]},
            )


def pack_current(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    """Each level through its own path: charging on the charger, discharging on the load,
    the cells at nominal (the charger's CV above the pack, so the current is its limit)."""
    tc, rep = spec.test_conditions, spec.reporting
    limits = station.config.limits
    for level in rep.current_levels_a:
        charging = level > 0
        lim = limits.charge_current if charging else limits.discharge_current
        what = "charge current" if charging else "discharge current"
        role = station.charger if charging else station.load
        check_limit(role.name, what, abs(level), lim.min, lim.max, "A")
    pack = pack_ceiling(station, spec)
    largest = max(abs(a) for a in rep.current_levels_a)
    wiring = station.config.wiring
    if wiring.cells and wiring.pack is None:
        # the emulated cells carry the current: their channels limit it to what the
        # station's safe state allows unless told more (as for a state-of-charge run)
        check_limit("cells", "cell current", largest, 0.0, limits.cell_current.max, "A")
        station.cells.set_current_limit(min(limits.cell_current.max, largest * 1.2 + 0.1))
    open_pack(station, largest * 1.2 + 0.1)  # a battery simulator on the battery terminals
    for level in rep.current_levels_a:
        charging = level > 0
        path = PowerPath(station, spec, "charge" if charging else "discharge")
        path.current_a = abs(level)
        role = station.charger if charging else station.load
        sign = 1.0 if charging else -1.0
        path.start(pack)
        clock.sleep(tc.settle_s)
        before = sign * abs(role.measure_current())
        bms = dut.read_status().current
        after = sign * abs(role.measure_current())
        path.stop()
        station_a = (before + after) / 2
        band = role.accuracy("current_meas", abs(station_a))
        budget: list[Component] = [
            rectangular(f"{role.name} current read-back", band.limit(station_a), band.source),
            rectangular(
                "current drift around the BMS's reading",
                abs(after - before) / 2,
                "measured: half the change between the read-backs before and after it",
            ),
        ]
        record(
            f"current_reading_error_at_{level:+g}A",
            bms - station_a,
            "A",
            low=rep.current_error_a.low,
            high=rep.current_error_a.high,
            nominal=rep.current_error_a.nominal,
            clause=rep.clause,
            budget=budget,
            evidence="dut",
            instrument="dut",
            stimulus=Stimulus("pack_current", "A", level, station_a, role.name),
            context={"level_a": level, "reported_a": bms, "station_a": [before, after]},
            note=f"BMS reports {bms:+.4g} A; {role.name} reads {station_a:+.4g} A",
        )


def temperatures(
    station: Station, dut: BmsLink, clock: Clock, spec: DutSpec, record: Recorder
) -> None:
    tc, rep = spec.test_conditions, spec.reporting
    therm = station.thermistors
    lim = station.config.limits.temperature
    for level in rep.temperature_levels_c:
        check_limit("thermistors", "temperature", level, lim.min, lim.max, "°C")
    ntcs = [n for n in spec.ntcs_under_test if n in therm.positions]
    for ntc in ntcs:
        for level in rep.temperature_levels_c:
            therm.set_all(therm.SAFE_C)
            therm.set_temperature(ntc, level)
            clock.sleep(tc.settle_s)
            reported = dut.read_temperatures()
            ohms = therm.resistance(ntc)
            emulated = therm.celsius_at(ntc, ohms)
            band_c = therm.temperature_band(ntc, emulated)
            ch = therm.channel_of(ntc)
            value = reported[ntc - 1] - emulated if len(reported) >= ntc else None
            record(
                f"ntc{ntc}_reading_error_at_{level:g}C",
                value,
                "°C",
                low=rep.temperature_error_c.low,
                high=rep.temperature_error_c.high,
                nominal=rep.temperature_error_c.nominal,
                clause=rep.clause,
                budget=[
                    rectangular(
                        "emulated resistance through the NTC curve",
                        band_c,
                        f"{ch.instrument}:{ch.channel} resistance accuracy at {ohms:.5g} Ω, "
                        f"through the curve's slope at {emulated:.1f} °C",
                    )
                ],
                evidence="dut",
                instrument="dut",
                stimulus=Stimulus(
                    "ntc_temperature", "°C", level, emulated, f"{ch.instrument}:{ch.channel}"
                ),
                context={"ntc": ntc, "level_c": level, "reported_c": list(reported)},
                note=""
                if value is not None
                else f"the BMS reports {len(reported)} temperatures; NTC {ntc} is not among them",
            )
    therm.set_all(therm.SAFE_C)
