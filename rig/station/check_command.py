"""`rig station check`: load the files, reach the bench (or start simlab for a simulated
station), run the checks (rig.station.bringup), print the table, and exit as `rig run`."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rig.clock import VirtualClock, WallClock
from rig.config import ConfigError, load_spec, load_station
from rig.results.verdict import EXIT_NOT_PASSED, EXIT_USAGE
from rig.simlink import SimControl, SimlabError, SimlabProcess
from rig.station.bringup import FAIL, PASS, WARN, CheckReport, check_bench
from rig.station.station import check_visa_library

STYLE = {PASS: "green", FAIL: "bold red", WARN: "yellow"}


def check_command(console: Console, station: Path, spec: Path, dry_run: bool) -> int:
    """0: every check passed (warnings allowed); 1: something to fix; 2: bad files."""
    try:
        config = load_station(station)
        spec_config = load_spec(spec)
        check_visa_library(config)
    except ConfigError as exc:
        console.print(escape(str(exc)), style="bold red", soft_wrap=True)
        return EXIT_USAGE
    simlab = None
    endpoints: dict = {}
    clock = WallClock()
    control = None
    try:
        if config.simulated:
            simlab = SimlabProcess(station=station)
            try:
                endpoints = simlab.start()
            except SimlabError as exc:
                console.print(f"simlab refused the station: {escape(str(exc))}", style="bold red")
                return EXIT_USAGE
            control = SimControl(endpoints["control"])
            clock = VirtualClock(control)
        what = (
            "dry run: no output is enabled" if dry_run else "outputs are exercised at safe levels"
        )
        console.print(f"checking {config.name} ({station}); {what}")
        report = check_bench(config, spec_config, dry_run, endpoints, clock)
    finally:
        if control is not None:
            control.close()
        if simlab is not None:
            simlab.stop()
    print_report(console, report)
    return EXIT_NOT_PASSED if report.failed else 0


def print_report(console: Console, report: CheckReport) -> None:
    table = Table(show_lines=False, pad_edge=False, expand=False)
    for column in ("subject", "check", "result", "details", "what to fix"):
        table.add_column(column, overflow="fold")
    for row in report.rows:
        style = STYLE.get(row.result, "dim")
        table.add_row(
            escape(row.subject),
            escape(row.check),
            f"[{style}]{row.result}[/]",
            escape(row.details),
            escape(row.fix),
        )
    console.print(table)
    failed = sum(r.result == FAIL for r in report.rows)
    warned = sum(r.result == WARN for r in report.rows)
    if failed:
        console.print(
            f"{failed} checks FAILED, {warned} warnings: fix the bench before a run",
            style="bold red",
        )
    else:
        console.print(f"station check passed ({warned} warnings)", style="green")
