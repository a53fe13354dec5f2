"""`serve --write-station FILE`: the served lab described as a real bench's station file.

The file is the station simlab was started from with every `resource: sim` replaced by
the address it serves, `dut.port: sim` by its pty, a `dut.can.interface: sim` by its
socketcand server, `dut.ble` `sim` by its BLE peripheral's address and HCI socket, and
`simulated: false`: the rig opens it exactly as it opens a bench in a lab, under the
wall clock, with no control channel. Comments in the source file are not carried over
(the YAML is rewritten).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


def station_for(source: str | Path, endpoints: dict[str, Any]) -> dict[str, Any]:
    doc = yaml.safe_load(Path(source).read_text())
    served = endpoints["instruments"]
    for name, inst in doc.get("instruments", {}).items():
        if inst.get("resource") == "sim" and name in served:
            inst["resource"] = served[name]
    dut = doc.get("dut") or {}
    served_dut = endpoints.get("dut") or {}
    if dut.get("port") == "sim" and "port" in served_dut:
        dut["port"] = served_dut["port"]
    can = dut.get("can") or {}
    if can.get("interface") == "sim" and "can" in served_dut:
        bus = served_dut["can"]
        can["interface"], can["channel"] = bus["interface"], bus["channel"]
        can["options"] = {**(can.get("options") or {}), "host": bus["host"], "port": bus["port"]}
    radio = dut.get("ble") or {}
    if "ble" in served_dut:
        if radio.get("device") == "sim":
            radio["device"] = served_dut["ble"]["address"]
        if radio.get("hci") == "sim":
            radio["hci"] = served_dut["ble"]["hci"]
    doc["simulated"] = False
    doc.pop("simlab", None)
    doc["name"] = f"{doc.get('name', 'station')}-served"
    doc["description"] = (
        f"simlab served from {source} (pid {os.getpid()}); control channel "
        f"{endpoints['control']} is for the lab's owner, not for a run"
    )
    doc["location"] = f"simlab ({endpoints.get('clock', 'wall clock')})"
    return doc


def write_station(source: str | Path, endpoints: dict[str, Any], path: Path) -> None:
    doc = station_for(source, endpoints)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(yaml.safe_dump(doc, sort_keys=False))
    os.replace(tmp, path)
