"""Markers, declared in one place: select plans by protection, standard and duration.

Plans declare `protection(name)` and `clause(*refs)`; at collection each plan also gets
a plain marker per protection (`-m cell_ov`, `-m "short_circuit or cell_ov"`) and per
standard family (`-m iec62619`, `-m ul1973`), so a lab selects without knowing test names.
"""

from __future__ import annotations

import re

PROTECTION_NAMES = (
    "cell_ov",
    "cell_uv",
    "pack_ov",
    "pack_uv",
    "charge_oc",
    "discharge_oc",
    "discharge_oc1",
    "discharge_oc2",
    "short_circuit",
    "charge_ot",
    "charge_ut",
    "discharge_ot",
    "discharge_ut",
    "balancing",
    "soc",
    "communications",
    "reporting",
    "cell_imbalance",
    "wiring_faults",
    "standby",
    "heating",
    "inverter_limits",
)

# Station roles a plan may `need`: wired in the station file or not applicable there.
STATION_ROLES = frozenset(
    {"cells", "thermistors", "digitizer", "short", "switch", "shunt", "thermocouples"}
)

STANDARDS = {  # marker: how the spec and the plans spell the standard
    "iec62619": "IEC 62619",
    "iec62133": "IEC 62133",
    "ul1973": "UL 1973",
    "ul2271": "UL 2271",
    "ul2580": "UL 2580",
    "un38_3": "UN 38.3",
}

MARKERS = {
    "protection(name)": "the protection function a plan exercises (cell_ov, cell_uv, ...)",
    "clause(*refs)": "standard clauses a plan serves, e.g. 'IEC 62619 8.2.2'",
    "needs(*capabilities)": (
        "BMS link capabilities or station roles (cells, thermistors, digitizer, short, "
        "switch, shunt) the plan needs (not applicable without)"
    ),
    "spec_states(*paths)": (
        "spec settings the plan needs, e.g. 'reporting.current_levels_a' (not applicable "
        "where the DUT spec leaves them empty)"
    ),
    "carries(*what)": (
        "operating points beyond its protections' the bench must carry "
        "(rig.station.fitness, e.g. 'current_reporting'; not applicable where it cannot)"
    ),
    "operator_step(id, text, timeout_s=None)": (
        "a manual step the operator confirms before the plan runs (rig.operator)"
    ),
    "quick": "plan takes seconds of simulated time",
    "slow": "plan takes minutes of simulated time (long dwell, thermal ramps)",
    "long": "plan takes minutes or more of real time on a bench",
    **{name: f"plans of the {name} protection" for name in PROTECTION_NAMES},
    **{mark: f"plans serving {text}" for mark, text in STANDARDS.items()},
}


def standard_markers(clauses: list[str]) -> set[str]:
    """The standard-family markers a list of clause references implies."""
    found = set()
    for mark, text in STANDARDS.items():
        pattern = re.compile(re.escape(text).replace(r"\ ", r"\s*"), re.IGNORECASE)
        if any(pattern.search(c) for c in clauses):
            found.add(mark)
    return found
