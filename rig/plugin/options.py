"""Command-line options of the plugin, shared by `pytest` and `rig run`."""

from __future__ import annotations

import pytest

from rig.paths import DEFAULT_SPEC, DEFAULT_STATION


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("rig", "bms-rig station and DUT")
    group.addoption("--station", default=DEFAULT_STATION, help="station file (YAML)")
    group.addoption("--spec", default=DEFAULT_SPEC, help="DUT specification file (YAML)")
    group.addoption(
        "--sim-set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="set a simlab parameter, e.g. firmware.cell_ov.delay_s=1.3 (repeatable)",
    )
    group.addoption(
        "--sim-defect",
        action="append",
        default=[],
        metavar="NAME[:k=v,...]",
        help="inject a simlab firmware defect (repeatable)",
    )
    group.addoption("--seed", type=int, default=None, help="simlab random seed")
    group.addoption("--runs-dir", default="runs", help="where run folders are written")
    group.addoption("--run-id", default=None, help="run folder name (default: time + pid)")
    group.addoption(
        "--prompt-terminal",
        action="store_true",
        default=False,
        help="operator steps may also be answered at the controlling terminal (rig run "
        "sets it when started from one)",
    )
    group.addoption(
        "--tested-by",
        default=None,
        metavar="NAME",
        help="who ran the tests, named on the report (without it the report is a DRAFT)",
    )
    group.addoption(
        "--lab",
        default=None,
        metavar="FILE",
        help="the lab file (laboratory, signatories); default: $RIG_LAB, else the station's lab",
    )
