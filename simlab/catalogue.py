"""`python -m simlab params` and `python -m simlab defects`: what a run can change.

`params` lists every path `--set` (`rig run --sim-set`) accepts, with the model's default,
the station file's own value where it sets one, and the unit. `defects` lists every
defect `--defect` (`rig run --sim-defect`) accepts, with its arguments and defaults and
what it breaks. Both read the models themselves, so the lists cannot drift from them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from simlab.faults import CATALOGUE as FAULTS
from simlab.firmware.defects import CATALOGUE
from simlab.lab import Lab
from simlab.params import program, unit_for
from simlab.station_file import parse_station


def _shown(value: object) -> str:
    return json.dumps(value) if isinstance(value, str | bool) else f"{value:g}"


def params(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog=f"{program()} params", description=params.__doc__)
    ap.add_argument("--station", required=True, help="station YAML file")
    ap.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    args = ap.parse_args(argv)
    try:
        spec = parse_station(args.station)
        defaults = Lab(dataclasses.replace(spec, sets={}, defects=[])).world.parameters()
        station = Lab(spec).world.parameters()
    except (ValueError, KeyError) as exc:
        print(f"simlab: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    rows = [
        {
            "path": path,
            "default": default,
            "station": station.get(path) if station.get(path) != default else None,
            "unit": unit_for(path, default),
        }
        for path, default in defaults.items()
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    width = max(len(r["path"]) for r in rows)
    print(f"{'path':<{width}}  {'default':>12}  {'this station':>12}  unit")
    for r in rows:
        station_value = "" if r["station"] is None else _shown(r["station"])
        print(f"{r['path']:<{width}}  {_shown(r['default']):>12}  {station_value:>12}  {r['unit']}")
    print(f"\n{len(rows)} parameters; set one with --set PATH=VALUE (rig run --sim-set)")
    return 0


def defects(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog=f"{program()} defects", description=defects.__doc__)
    ap.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = ap.parse_args(argv)
    kinds = [*CATALOGUE.values(), *FAULTS.values()]
    if args.json:
        listing = {
            k.name: {
                "breaks": k.description,
                "arguments": k.defaults,
                "kind": "link fault" if k.name in FAULTS else "BMS defect",
            }
            for k in kinds
        }
        print(json.dumps(listing, default=str))
        return 0
    for title, group in (("BMS defects", CATALOGUE), ("link faults", FAULTS)):
        print(f"{title}:")
        for kind in group.values():
            arguments = ",".join(
                f"{k}={v if v != '' else 'NAME'}" for k, v in kind.defaults.items()
            )
            print("  " + kind.name + (f":{arguments}" if arguments else ""))
            print(f"      {kind.description}")
    print(
        f"\n{len(kinds)} in all; inject one with --defect NAME[:key=value,...] "
        "(rig run --sim-defect); the arguments shown are the defaults. A link fault's "
        "at_s/for_s are the lab's time; instrument= names one from the station file"
    )
    return 0
