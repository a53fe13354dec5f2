"""`rig`: run the test plans on a station, or serve the simulated lab for other tools."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer
from rich.console import Console
from rich.markup import escape

from rig.config import ConfigError, load_spec, load_station
from rig.paths import DEFAULT_SPEC, DEFAULT_STATION, resolve
from rig.results import new_run_id

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
sim_app = typer.Typer(no_args_is_help=True, help="The simulated lab.")
app.add_typer(sim_app, name="sim")

PLANS = Path(__file__).resolve().parent.parent / "test_plans"


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run(
    ctx: typer.Context,
    station: Annotated[str, typer.Option(help="station file")] = DEFAULT_STATION,
    spec: Annotated[str, typer.Option(help="DUT specification file")] = DEFAULT_SPEC,
    sim_set: Annotated[
        list[str] | None, typer.Option("--sim-set", help="PATH=VALUE simlab parameter (repeatable)")
    ] = None,
    sim_defect: Annotated[
        list[str] | None, typer.Option("--sim-defect", help="simlab firmware defect (repeatable)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="simlab random seed")] = None,
    runs_dir: Annotated[Path, typer.Option(help="where run folders go")] = Path("runs"),
    plans: Annotated[Path, typer.Option(help="folder of test plans")] = PLANS,
) -> None:
    """Run the test plans (default: every plan on the simulated 16S station).

    Extra arguments go to pytest, e.g. `rig run -k cell_ov` or `rig run -m quick`.
    """
    console = Console()
    if not console.is_terminal:  # logs and CI: wide enough that the table never wraps
        console = Console(width=140)
    try:  # a bad file is reported once, by name and field, before any instrument is touched
        station_config = load_station(resolve(station))
        load_spec(resolve(spec))
    except ConfigError as exc:
        console.print(escape(str(exc)), style="bold red", highlight=False)
        raise typer.Exit(2) from None
    if (sim_set or sim_defect or seed is not None) and not station_config.simulated:
        console.print(
            f"--sim-set, --sim-defect and --seed need a simulated station; {station} is real"
        )
        raise typer.Exit(2)
    run_id = new_run_id()
    args = [
        str(plans),
        "-p",
        "rig.plugin",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(plans.parent),
        "--station",
        station,
        "--spec",
        spec,
        "--runs-dir",
        str(runs_dir),
        "--run-id",
        run_id,
        "-v",
    ]
    for item in sim_set or []:
        args += ["--sim-set", item]
    for item in sim_defect or []:
        args += ["--sim-defect", item]
    if seed is not None:
        args += ["--seed", str(seed)]
    args += list(ctx.args)
    code = int(pytest.main(args))
    run_dir = runs_dir / run_id
    if (run_dir / "results.jsonl").exists():
        from rig.summary import summarize

        outcome = summarize(run_dir, console)
        if outcome["verdict"] != "PASS" and code == 0:
            code = 1
    else:
        console.print("[bold red]no results were written[/]")
        code = code or 1
    raise typer.Exit(code)


@sim_app.command(
    "serve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def sim_serve(ctx: typer.Context) -> None:
    """Serve the simulated lab: prints one JSON line of endpoints, runs until SIGINT/SIGTERM.

    Options: --station FILE, --set PATH=VALUE (also --sim-set), --defect NAME (also
    --sim-defect), --seed N.
    """
    argv = ["--station", str(resolve(DEFAULT_STATION))] if "--station" not in ctx.args else []
    for arg in ctx.args:
        argv.append({"--sim-set": "--set", "--sim-defect": "--defect"}.get(arg, arg))
    # simlab is the other side of the wire: run it as its own program, never import it.
    os.execv(sys.executable, [sys.executable, "-m", "simlab", "serve", *argv])
