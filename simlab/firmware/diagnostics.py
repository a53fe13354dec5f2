"""What the board makes of broken wiring: open sense leads and NTC lines open or shorted.

**Sense leads.** Lead n is the wire from the tap at the top of cell n to the front end
(lead 0, B-, is the front end's own ground: not modelled). With lead n open its input
floats; the front end's equal input filters hold it at the middle of its neighbours, so
ordinary conversions read cells n and n+1 both as their mean: plausible voltages, both
wrong unless the two cells are equal. With the top lead open the input follows the one
below, and the top cell reads as its neighbour. That is why front ends run an open-wire
check: they sink a small current from each input in turn, a floating input collapses
onto the one below, and cell n then reads near 0 V, far below any cell. A board that finds
an open lead raises `sense_wire_open`, which cuts both paths (the protection table), and
reports the cells either side of it as 0 V: a value no one takes for a cell.

**NTC lines.** An NTC input reads through a pull-up divider; an open line reads at the
cold rail, a shorted one at the hot rail. A reading beyond the curve's range is no
temperature at all: the board raises `temp_sensor_fault` (both paths cut) and reports
the input as `NTC_INVALID_C`, the 0 K of its protocol's field.

The defects `open_wire_undetected`, `open_ntc_reads_cold` and `open_ntc_reads_plausible`
are the field faults of boards that skip these checks.
"""

from __future__ import annotations

from dataclasses import dataclass

NTC_INVALID_C = -273.1  # what a board reports for an input it has found faulty (0 K)


@dataclass
class DiagnosticParams:
    """`firmware.diagnostics.*`"""

    open_wire_check: bool = True  # the front end's open-wire check runs at every scan
    ntc_fault_check: bool = True  # readings beyond the curve's range flag the input


def afe_inputs(cells_v: list[float], open_leads: set[int]) -> list[float]:
    """The cell voltages the front end's ordinary conversions see with `open_leads`
    (1-based, the lead at the top of that cell) floating."""
    sensed = list(cells_v)
    n = len(sensed)
    for lead in sorted(open_leads):
        if not 1 <= lead <= n:
            continue
        if lead == n:  # the top input follows the one below: the top cell reads its neighbour
            sensed[lead - 1] = sensed[lead - 2] if n > 1 else 0.0
            continue
        mean = (sensed[lead - 1] + sensed[lead]) / 2
        sensed[lead - 1] = sensed[lead] = mean
    return sensed


def open_wire_check(cell_count: int, open_leads: set[int]) -> set[int]:
    """Leads the check finds open: a floating input collapses onto the one below while
    the check's current flows, so the cell under it reads near 0 V: every open lead."""
    return {lead for lead in open_leads if 1 <= lead <= cell_count}


def masked_cells(readings: list[float], found: set[int]) -> list[float]:
    """What a board that found `found` open reports: the cells either side at 0 V."""
    out = list(readings)
    for lead in found:
        for cell in (lead, lead + 1):
            if 1 <= cell <= len(out):
                out[cell - 1] = 0.0
    return out
