"""`rig station scan`: run the scan (rig.station.scan), print what answered, draft a file."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rig.results.verdict import EXIT_NOT_PASSED, EXIT_USAGE
from rig.station.draft import draft_station
from rig.station.scan import parse_ports, scan


def scan_command(
    console: Console,
    resources: list[str],
    host: str | None,
    ports: str,
    discover: bool,
    serial: bool,
    can: bool,
    bms_ports: list[str],
    visa_library: str,
    timeout_ms: int,
    write: Path | None,
) -> int:
    try:
        port_list = parse_ports(ports) if host else []
    except ValueError as exc:
        console.print(f"--ports: {exc}", style="bold red")
        return EXIT_USAGE
    try:
        result = scan(
            resources,
            visa_library=visa_library,
            discover=discover,
            host=host,
            ports=port_list,
            serial=serial,
            can=can,
            bms_ports=bms_ports,
            timeout_ms=timeout_ms,
        )
    except (OSError, ValueError) as exc:  # the VISA library does not load
        console.print(f"visa_library {visa_library!r} does not load: {exc}", style="bold red")
        return EXIT_USAGE
    table = Table(pad_edge=False)
    for column in ("resource", "*IDN?", "recognised as", "note"):
        table.add_column(column, overflow="fold")
    for found in result.instruments:
        note = found.error
        if found.baud:
            note = f"{found.baud} baud " + note
        if found.facts.get("modules"):
            note += f" modules {', '.join(found.facts['modules'])}"
        cells = (found.resource, found.idn or "-", found.model or "-", note)
        table.add_row(*map(escape, cells))
    console.print(table)
    if result.bms:
        bms = result.bms
        console.print(f"BMS: {bms['protocol']} on {bms['port']} ({bms['cell_count']} cells)")
    for config in result.can:
        console.print(f"CAN: {config.get('interface')} {config.get('channel')}")
    known = [f for f in result.instruments if f.model and not f.error]
    console.print(
        f"{len(known)} instruments recognised of {len(result.instruments)} answering or listed"
    )
    if write is not None:
        tmp = write.with_name(write.name + ".tmp")
        tmp.write_text(draft_station(result, visa_library, name=write.stem))
        os.replace(tmp, write)
        console.print(
            f"drafted {write}: decide every line marked DECIDE, then "
            f"`rig station check --station {write}`"
        )
    return 0 if known else EXIT_NOT_PASSED
