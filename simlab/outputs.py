"""What every simulated instrument's outputs are doing, and whether that is the safe state.

This is the bench seen from simlab's side of the wire: the front panels, not what a
client believes it sent. A test asks for it over the control channel (`outputs`), and
`serve` writes it once more as the lab stops, so "the run left the bench safe" is a fact
checked where the hardware would be, not a line in the rig's own log.

Two judgements. `safe`: nothing can push energy where it should not: every load input
off, every relay open (the short relay, fault insertion, the BMS supply relay, whose
open channel powers the board), every source that is not a cell emulator off, and every
powered cell position at `safe_state.cell_voltage` within `safe_state.cell_current_limit`
(an emulator channel that is off is safe, as at power-on). `at_safe_state`: exactly
the station's safe state, which also powers every wired cell position (an unpowered
sense line looks like a dead cell to the BMS): what the rig's safe-state sequence
leaves behind.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from simlab.hardware import InstrumentHardware
from simlab.station_file import StationSpec

VOLTAGE_TOLERANCE_V = 0.001


def outputs(hardware: dict[str, InstrumentHardware]) -> dict[str, Any]:
    """Every channel's setpoints and meter readings, keyed by instrument and channel."""
    return {
        name: {
            "model": hw.model,
            "sources": {str(ch): asdict(src) for ch, src in hw.sources.items()},
            "loads": {str(ch): asdict(load) for ch, load in hw.loads.items()},
            "resistors": {
                str(ch): {"resistance_ohm": r.resistance_ohm, "output_on": r.output_on}
                for ch, r in hw.resistors.items()
            },
            "relays": {str(ch): {"closed": r.closed} for ch, r in hw.relays.items()},
            "generators": {
                str(ch): {"output_on": g.output_on, "level_v": g.level_v}
                for ch, g in hw.generators.items()
            },
        }
        for name, hw in hardware.items()
    }


def unsafe(
    spec: StationSpec, hardware: dict[str, InstrumentHardware], strict: bool = False
) -> list[str]:
    """Each way the bench is not safe (`strict`: not at the station's safe state)."""
    findings: list[str] = []
    cells = {ref: pos for pos, ref in spec.cells.items()}
    for name, hw in hardware.items():
        if spec.pack is not None and spec.pack[0] == name:
            findings += _pack_unsafe(spec, hw, strict)
        for ch, load in hw.loads.items():
            if load.input_on:
                findings.append(f"{name}:{ch} load input is on")
        for ch, relay in hw.relays.items():  # the short, fault insertion, the BMS supply
            if relay.closed:
                findings.append(f"{name}:{ch} relay is closed")
        for ch, gen in hw.generators.items():  # a generator on a BMS's shunt input
            if gen.output_on:
                findings.append(f"{name}:{ch} generator output is on")
        for ch, src in hw.sources.items():
            position = cells.get((name, ch))
            if (name, ch) == spec.pack:
                continue
            if position is None:
                if src.output_on:
                    findings.append(f"{name}:{ch} output is on")
                continue
            where = f"cell {position} ({name}:{ch})"
            if not src.output_on:
                if strict:
                    findings.append(f"{where} output is off")
                continue
            if spec.safe_cell_voltage is not None and (
                abs(src.voltage_set - spec.safe_cell_voltage) > VOLTAGE_TOLERANCE_V
            ):
                findings.append(
                    f"{where} set to {src.voltage_set:g} V, safe is {spec.safe_cell_voltage:g} V"
                )
            if src.current_limit > spec.safe_cell_current_limit + 1e-9:
                findings.append(
                    f"{where} current limit {src.current_limit:g} A, "
                    f"safe is {spec.safe_cell_current_limit:g} A"
                )
    return findings


def _pack_unsafe(spec: StationSpec, hw: InstrumentHardware, strict: bool) -> list[str]:
    """A battery simulator is safe at the station's pack voltage within its safe limits
    (the BMS runs from it), or off (safe, but not the safe state)."""
    assert spec.pack is not None
    name, ch = spec.pack
    src = hw.sources[ch]
    where = f"battery simulator {name}:{ch}"
    if not src.output_on:
        return [f"{where} output is off"] if strict else []
    found = []
    if spec.safe_pack_voltage is not None and (
        abs(src.voltage_set - spec.safe_pack_voltage) > VOLTAGE_TOLERANCE_V * 10
    ):
        found.append(f"{where} set to {src.voltage_set:g} V, safe is {spec.safe_pack_voltage:g} V")
    sink = src.current_limit if src.sink_limit is None else src.sink_limit
    if max(src.current_limit, sink) > spec.safe_pack_current_limit + 1e-9:
        found.append(
            f"{where} current limits {src.current_limit:g}/{sink:g} A, safe is "
            f"{spec.safe_pack_current_limit:g} A"
        )
    return found


def report(spec: StationSpec, hardware: dict[str, InstrumentHardware]) -> dict[str, Any]:
    found = unsafe(spec, hardware)
    off_state = unsafe(spec, hardware, strict=True)
    return {
        "safe": not found,
        "unsafe": found,
        "at_safe_state": not off_state,
        "not_at_safe_state": off_state,
        "outputs": outputs(hardware),
    }


def make_safe(spec: StationSpec, hardware: dict[str, InstrumentHardware]) -> None:
    """Put every output in the station's safe state from simlab's own side (the NTC
    emulators too: 25 °C, connected; an open line reads −40 °C to a BMS).

    What an outboard watchdog does on a real bench when its host goes quiet, and what a
    free-running lab starts from. The caller holds the lab lock and re-solves the circuit.
    """
    cells = set(spec.cells.values())
    ntc_ohms = {
        spec.thermistors[n]: ohms
        for n, ohms in spec.thermistor_safe_ohms.items()
        if n in spec.thermistors
    }
    for name, hw in hardware.items():
        for load in hw.loads.values():
            load.input_on = False
            load.current_set = 0.0
        for relay in hw.relays.values():
            relay.closed = False
        for gen in hw.generators.values():
            gen.output_on = False
            gen.level_v = 0.0
            gen.trace.hold(hw.clock(), 0.0)
        for ch, res in hw.resistors.items():  # the NTCs at 25 °C, connected
            ohms = ntc_ohms.get((name, ch))
            if ohms is not None:
                res.resistance_ohm, res.output_on = ohms, True
        for ch, src in hw.sources.items():
            if (name, ch) == spec.pack:
                if spec.safe_pack_voltage is not None:
                    src.voltage_set = spec.safe_pack_voltage
                src.priority = "voltage"
                src.current_limit = src.sink_limit = spec.safe_pack_current_limit
                src.output_on = True
                continue
            if (name, ch) not in cells:
                src.output_on = False
                continue
            if spec.safe_cell_voltage is not None:
                src.voltage_set = spec.safe_cell_voltage
            src.current_limit = min(src.current_limit, spec.safe_cell_current_limit)
            if src.current_limit <= 0:
                src.current_limit = spec.safe_cell_current_limit
            src.output_on = True
