"""Markers, declared in one place: select plans by protection, standard and duration."""

MARKERS = {
    "protection(name)": "the protection function a plan exercises (cell_ov, cell_uv, ...)",
    "clause(*refs)": "standard clauses a plan serves, e.g. 'IEC 62619 8.2.2'",
    "quick": "plan takes seconds of simulated time",
    "long": "plan takes minutes or more of real time on a bench",
}
