"""`rig`: run the test plans on a station, or serve the simulated lab for other tools."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import sys
import time
from pathlib import Path
from typing import Annotated

import pytest
import typer
from rich.console import Console
from rich.markup import escape

from rig.config import ConfigError, load_spec, load_station
from rig.config.crosscheck import check_spec_against_station, check_station_against_models
from rig.config.lab import laboratory_of
from rig.cpus import Placement
from rig.lab.cli import db_app, place_app
from rig.lab.db import DatabaseUsageError
from rig.lab.places import PlaceError, PlaceUsageError
from rig.lab.run import RunLab, find_lab, hide_db_password
from rig.paths import DEFAULT_SPEC, DEFAULT_STATION, resolve
from rig.results import new_run_id
from rig.results.verdict import EXIT_NOT_PASSED, EXIT_USAGE, exit_code, signal_exit_code
from rig.safety import SIGNALS
from rig.simlink import SimlabProcess, early_pids, start_early, station_is_simulated, stop_early

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
sim_app = typer.Typer(no_args_is_help=True, help="The simulated lab.")
app.add_typer(sim_app, name="sim")
station_app = typer.Typer(no_args_is_help=True, help="Find, draft and check a bench.")
app.add_typer(station_app, name="station")
app.add_typer(db_app, name="db")
app.add_typer(place_app, name="place")

PLANS = Path(__file__).resolve().parent.parent / "test_plans"
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
        list[str] | None, typer.Option("--sim-defect", help="simlab defect (repeatable)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="simlab random seed")] = None,
    runs_dir: Annotated[Path, typer.Option(help="where run folders go")] = Path("runs"),
    plans: Annotated[Path, typer.Option(help="folder of test plans")] = PLANS,
    report: Annotated[
        bool, typer.Option(help="write the compliance report, JUnit and Allure into the run folder")
    ] = True,
    db: Annotated[
        str | None,
        typer.Option(
            help="results database URL (default: $RIG_DB_URL, the lab file, else an SQLite "
            "file beside the runs folder)"
        ),
    ] = None,
    no_db: Annotated[bool, typer.Option("--no-db", help="upload to no database")] = False,
    lab: Annotated[
        str | None,
        typer.Option(
            help="lab file: the laboratory and its signatories, its database, coordinator "
            "and panel (default: $RIG_LAB, else the station file's lab)"
        ),
    ] = None,
    place: Annotated[
        list[str] | None,
        typer.Option(
            "--place",
            help="labgrid place to hold while the run goes: NAME or tag=value,... (repeatable)",
        ),
    ] = None,
    coordinator: Annotated[
        str | None,
        typer.Option(help="labgrid coordinator HOST:PORT (default: lab file, $LG_COORDINATOR)"),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option(help="the run folder's name (default: UTC time and pid)")
    ] = None,
    tested_by: Annotated[
        str | None,
        typer.Option(help="who ran the tests, named on the report (without it: a DRAFT)"),
    ] = None,
    table: Annotated[
        bool, typer.Option("--table", help="end with every measurement in one table")
    ] = False,
) -> None:
    """Run the test plans (default: every plan on the simulated 16S station).

    Extra arguments go to pytest, e.g. `rig run -k cell_ov` or `rig run -m quick`.

    Exit codes: 0 PASS; 1 FAIL, ERROR, INCOMPLETE or CONDITIONAL (the summary says
    which); 2 usage or configuration error (nothing ran); 130 interrupted by Ctrl-C
    (SIGINT), 143 by SIGTERM.
    """
    console = Console(highlight=False)
    if not console.is_terminal:  # logs and CI: the summary is laid out for 80 columns
        console = Console(width=80, highlight=False)
    if run_id is not None and not _RUN_ID.match(run_id):
        console.print(f"--run-id {run_id!r}: letters, digits, '-', '_' only", style="bold red")
        raise typer.Exit(EXIT_USAGE)
    run_id = run_id or new_run_id()
    collect_only = any(a in ("--collect-only", "--co") for a in ctx.args)
    station_path = resolve(station)
    simulated = not collect_only and station_is_simulated(station_path)
    cpus = Placement.choose() if simulated else None  # placed once the plans begin
    if cpus is not None:
        ctx.call_on_close(cpus.release)  # whichever way the command ends
    if simulated and not place:
        # boot the lab now: it comes up while the files are checked and pytest starts
        # (with --place, the session boots it once the place is held)
        (runs_dir / run_id).mkdir(parents=True, exist_ok=True)
        start_early(
            SimlabProcess(
                station=station_path,
                sets=list(sim_set or []),
                defects=list(sim_defect or []),
                seed=seed,
                log=runs_dir / run_id / "simlab.log",
                final_state=runs_dir / run_id / "simlab-final.json",
            )
        )
    try:  # a bad file is reported once, by name, line and field, before anything is touched
        station_config = load_station(station_path)
        spec_config = load_spec(resolve(spec))
        check_spec_against_station(spec_config, station_config)
        check_station_against_models(station_config)
        laboratory_of(lab, station_config)
    except ConfigError as exc:
        _no_run(runs_dir / run_id)
        console.print(escape(str(exc)), style="bold red", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    try:  # the laboratory: lab file, results database, places (rig.lab.run)
        lab_run = RunLab.plan(
            find_lab(lab, station_config, station_path),
            runs_dir,
            db,
            no_db or collect_only,
            list(place or []),
            coordinator,
        )
    except (ConfigError, DatabaseUsageError, PlaceUsageError) as exc:
        _no_run(runs_dir / run_id)
        console.print(escape(str(exc)), style="bold red", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    hide_db_password(sys.argv, lab_run.target)
    if (sim_set or sim_defect or seed is not None) and not station_config.simulated:
        _no_run(runs_dir / run_id)
        console.print(
            f"--sim-set, --sim-defect and --seed need a simulated station; {station} is a "
            "real bench",
            style="bold red",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_USAGE)
    args = [
        str(plans),
        "-p",
        "rig.plugin",
        "-p",
        "no:cacheprovider",
        # Only the plugins named here: whatever else is installed (a test install's
        # hypothesis costs a second per run; a shuffling plugin would reorder the plans)
        # stays out of a run unless asked for with `-p NAME`.
        "--disable-plugin-autoload",
        # the plans' own settings, not the framework tests' (pyproject.toml's pytest table)
        "-c",
        os.devnull,
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
    ]
    if collect_only:  # pytest's own listing; otherwise the rig's console (rig.plugin.console)
        args += ["--no-header"]
    if tested_by:
        args += ["--tested-by", tested_by]
    if lab:
        args += ["--lab", lab]
    for item in sim_set or []:
        args += ["--sim-set", item]
    for item in sim_defect or []:
        args += ["--sim-defect", item]
    if seed is not None:
        args += ["--seed", str(seed)]
    if sys.stdin is not None and sys.stdin.isatty():
        args.append("--prompt-terminal")  # operator steps may be answered here too
    args += list(ctx.args)
    from rig.plugin import launch

    try:  # pytest's options, -k and -m checked before anything starts
        config = launch.prepare(args)
    except launch.LaunchError as exc:
        _no_run(runs_dir / run_id)
        console.print(f"rig run: {escape(str(exc))}", style="bold red", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    SIGNALS.install()
    if not collect_only:
        code = _take_places(lab_run, console, runs_dir / run_id)
        if code is not None:
            raise typer.Exit(code)
        lab_run.start_upload(runs_dir / run_id)
        for plugin in lab_run.plugins():  # the places held, written into the store
            config.pluginmanager.register(plugin)
    started = time.perf_counter()
    live = None
    if report and not collect_only:  # plots drawn and chapters printed as the run goes
        from reports.live import LivePrinter

        # it loads WeasyPrint (a second) on the core the starting run leaves idle, and
        # prints the PDF at the run's end while this process writes HTML, JUnit, Allure
        live = LivePrinter.start(runs_dir / run_id)
        # the report step's own modules (HTML, JUnit, Allure: 0.1-0.2 s), loaded now while
        # simlab boots (the session waits for it next), not after the run
        import reports.build  # noqa: F401
    refused = None
    if cpus is not None:  # the rig and its simlab on one CPU, the printer on the others
        cpus.pin(together=early_pids(), apart=[live.proc.pid] if live is not None else [])
    try:
        code = launch.run(config)
    except launch.LaunchError as exc:  # simlab refused its options: nothing ran
        refused, code = exc, int(pytest.ExitCode.USAGE_ERROR)
    except KeyboardInterrupt:  # a signal before pytest's session could take it
        code = int(pytest.ExitCode.INTERRUPTED)
    finally:
        lab_run.release_places()  # the plans are over, whatever ended them
        stop_early()  # started for a session that never took it
        if cpus is not None:
            cpus.release()  # the report's last steps may use every CPU
        if live is not None:
            from reports.live import NICE

            live.finish()  # it prints the chapters left while the report is built
            # and this process writes HTML, JUnit and Allure meanwhile, which nothing
            # waits for: at the printer's priority, not above it (CFS would give this
            # process nine tenths of a CPU the printer and its fork need for the PDF)
            _lower_priority_to(NICE)
    if refused is not None:
        if live is not None:
            live.stop()
        _no_run(runs_dir / run_id)
        console.print(f"rig run: {escape(str(refused))}", style="bold red", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)
    # The run is over; the summary and the exit status are its last word, and a signal
    # from here to the process's end is noted, never a cut or a second verdict.
    run_seconds = time.perf_counter() - started
    SIGNALS.hold()
    try:
        final = _conclude(
            code, runs_dir / run_id, collect_only, console, report, run_seconds, table, live
        )
    finally:
        if live is not None:
            live.stop()
    lab_run.finish_upload(console)  # printed, noted in the run folder; never the verdict
    raise typer.Exit(final)


def _lower_priority_to(niceness: int) -> None:
    """This process at `niceness` if it runs above it (a lower value): never raised."""
    with contextlib.suppress(OSError, AttributeError):
        now = os.nice(0)
        if now < niceness:
            os.nice(niceness - now)


def _take_places(lab_run: RunLab, console: Console, run_dir: Path) -> int | None:
    """Hold the run's labgrid places before the station opens; an exit code if the run
    cannot begin (coordinator unreachable, interrupted while waiting): nothing ran."""
    try:
        lab_run.take_places(console)
    except PlaceError as exc:
        _no_run(run_dir)
        console.print(escape(str(exc)), style="bold red", soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _no_run(run_dir)
        name = SIGNALS.first.name if SIGNALS.first else "SIGINT"
        console.print(f"interrupted ({name}) while waiting for a place: nothing ran")
        return signal_exit_code(name)
    return None


def _no_run(run_dir: Path) -> None:
    """Nothing will run: stop the lab booted early and leave no run folder behind."""
    stop_early()
    for name in ("simlab.log", "simlab-final.json"):
        with contextlib.suppress(OSError):
            (run_dir / name).unlink()
    with contextlib.suppress(OSError):
        run_dir.rmdir()


def _conclude(
    code: int,
    run_dir: Path,
    collect_only: bool,
    console: Console,
    report: bool = False,
    run_seconds: float = 0.0,
    table: bool = False,
    live=None,
) -> int:
    """The exit code: from the run's verdict when a run happened, else from what pytest said."""
    if code == pytest.ExitCode.USAGE_ERROR:
        return EXIT_USAGE  # pytest printed the one message
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        console.print(
            "no test plan matches the selection (check -k / -m)", style="bold red", soft_wrap=True
        )
        return EXIT_USAGE
    if collect_only:
        return 0 if code == pytest.ExitCode.OK else EXIT_NOT_PASSED
    if (run_dir / "results.jsonl").exists():
        from rig.summary import say_size, summarize

        final = exit_code(summarize(run_dir, console, table=table))
        if report:  # the compliance report, JUnit and Allure, from the store just written
            from reports.command import report_after_run

            if not report_after_run(console, run_dir, run_seconds, helper=live):
                final = final or EXIT_NOT_PASSED
        if live is not None:
            live.end(run_dir)  # the report is built: the helper's work left is redundant
        say_size(run_dir, console)
        return final
    if SIGNALS.first is not None:
        console.print(f"interrupted ({SIGNALS.first.name}) before the run began: nothing ran")
        return signal_exit_code(SIGNALS.first.name)
    console.print(
        f"no results were written (pytest exit status {code})", style="bold red", soft_wrap=True
    )
    return EXIT_NOT_PASSED


@app.command("report")
def report_cmd(
    run_dir: Annotated[
        Path | None, typer.Argument(help="a run folder, e.g. runs/20261125T175406-05727")
    ] = None,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(help="two run folders: every measurement of both and what changed"),
    ] = None,
    tested_by: Annotated[str | None, typer.Option(help="name for 'tested by'")] = None,
    approved_by: Annotated[str | None, typer.Option(help="name for 'approved by'")] = None,
    pdf: Annotated[bool, typer.Option(help="also print the report to PDF")] = True,
    show_all: Annotated[
        bool, typer.Option("--all", help="with --compare: list the unchanged measurements too")
    ] = False,
    lab: Annotated[
        Path | None, typer.Option(help="lab file naming the laboratory (instead of the run's)")
    ] = None,
) -> None:
    """Rebuild a run's reports from its results store alone (also for a run that was
    interrupted or killed), or compare two runs measurement by measurement.

    Writes report.html, report.pdf, junit.xml, allure-results/ and plots/ into the run
    folder. Exit codes: 0 written (the verdict is in the report); 2 not a run folder.
    With --compare: 0 nothing changed beyond the combined uncertainty, 1 something did.
    """
    from reports.command import report_command

    console = Console(highlight=False)
    if not console.is_terminal:  # logs and CI: wide enough for the comparison table
        console = Console(width=120, highlight=False)
    raise typer.Exit(
        report_command(console, run_dir, compare, tested_by, approved_by, pdf, show_all, lab)
    )


@app.command("answer")
def answer_cmd(
    run_dir: Annotated[Path, typer.Argument(help="the run folder, e.g. runs/20261125T1754-05727")],
    prompt: Annotated[str, typer.Argument(help="the prompt id the run printed, e.g. p1-cover")],
    by: Annotated[str, typer.Option(help="who answers (recorded with the answer)")],
    declined: Annotated[bool, typer.Option(help="the step was not done")] = False,
) -> None:
    """Answer an operator step of a running run (as the terminal and the panel do).

    Exit codes: 0 taken; 1 the prompt was answered already; 2 not a run folder or a bad id.
    """
    from rig.operator import post_answer

    console = Console(highlight=False)
    if not (run_dir / "results.jsonl").is_file():
        console.print(f"{escape(str(run_dir))}: not a run folder", style="bold red", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        taken = post_answer(run_dir, prompt, "declined" if declined else "done", by, "cli")
    except ValueError as exc:
        console.print(escape(str(exc)), style="bold red", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    if not taken:
        console.print(f"prompt {escape(prompt)} was answered already", soft_wrap=True)
    raise typer.Exit(0 if taken else EXIT_NOT_PASSED)


@app.command("panel")
def panel_cmd(
    runs_dir: Annotated[Path, typer.Option(help="the runs folder it shows and starts runs in")] = (
        Path("runs")
    ),
    bind: Annotated[
        str | None, typer.Option(help="address to listen on (default: lab file, else 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8765; 0: any free port)")] = None,
    lab: Annotated[str | None, typer.Option(help="the lab file (else $RIG_LAB)")] = None,
    stations: Annotated[Path, typer.Option(help="folder of station files it offers")] = (
        PLANS.parent / "stations"
    ),
    specs: Annotated[Path, typer.Option(help="folder of DUT spec files it offers")] = (
        PLANS.parent / "specs"
    ),
    db: Annotated[
        str | None,
        typer.Option(
            help="results database the history comes from (default: $RIG_DB_URL, the lab "
            "file, else the SQLite file beside the runs folder)"
        ),
    ] = None,
    no_db: Annotated[
        bool, typer.Option("--no-db", help="the history from the runs folder only")
    ] = False,
    coordinator: Annotated[
        str | None,
        typer.Option(
            help="labgrid coordinator HOST:PORT for the lab view (default: lab file, "
            "$LG_COORDINATOR; none: no lab view)"
        ),
    ] = None,
) -> None:
    """The operator's panel: follow runs live in a browser, start and stop them, answer
    operator steps, browse past runs and their reports, see the lab's benches.

    Read-only without the token; actions need it (the lab file's `panel:` section, else a
    new one printed here). Exit codes: 0 stopped with Ctrl-C; 2 a bad lab file, database
    URL, coordinator or address.
    """
    from rig.config.lab import lab_path, load_lab
    from rig.panel.lab import DEFAULT_PORT
    from rig.panel.serve import bind_socket, lab_sources, make_panel, panel_token, serve

    console = Console(highlight=False)
    try:
        lab_file = lab_path(lab, None, None)
        lab_config = load_lab(lab_file) if lab_file is not None else None
        section = lab_config.panel if lab_config is not None else None
        token, source = panel_token(section, lab_config)
        target, address = lab_sources(lab_config, runs_dir, db, no_db, coordinator)
    except (ConfigError, DatabaseUsageError, PlaceUsageError) as exc:
        console.print(escape(str(exc)), style="bold red", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    host = bind or (section.bind if section is not None else "127.0.0.1")
    chosen = port if port is not None else (section.port if section is not None else 8765)
    try:
        sock = bind_socket(host, chosen)
    except OSError as exc:
        console.print(f"cannot listen on {host}:{chosen}: {exc}", style="bold red")
        raise typer.Exit(EXIT_USAGE) from None
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{sock.getsockname()[1]}/"
    print(f"panel: {url}", flush=True)
    if source:
        print(f"token: from {source}", flush=True)
    else:
        print(f"token: {token}   (give it in the page to start, stop and answer)", flush=True)
    print(
        "history: "
        + (f"the results database {target.shown}" if target else "the runs folder only"),
        flush=True,
    )
    if address is not None:
        print(f"lab view: the labgrid coordinator {address}", flush=True)
    runs_dir.mkdir(parents=True, exist_ok=True)
    peer_port = section.port if section is not None else DEFAULT_PORT
    panel = make_panel(runs_dir.resolve(), stations, specs, token, host, target, address, peer_port)
    serve(panel, sock)


@sim_app.command(
    "serve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def sim_serve(ctx: typer.Context) -> None:
    """Serve the simulated lab: prints one JSON line of endpoints, runs until SIGINT/SIGTERM.

    Options: --station FILE, --set PATH=VALUE (also --sim-set), --defect NAME (also
    --sim-defect), --seed N.
    """
    argv = ["--station", str(resolve(DEFAULT_STATION))] if "--station" not in ctx.args else []
    _exec_simlab("serve", *argv, *ctx.args)


def _exec_simlab(*argv: str) -> None:
    # simlab is the other side of the wire: run it as its own program, never import it.
    os.environ["SIMLAB_PROG"] = "rig sim"  # its messages name the rig's commands
    os.execv(sys.executable, [sys.executable, "-m", "simlab", *argv])


@sim_app.command("params")
def sim_params(
    station: Annotated[str, typer.Option(help="station file")] = DEFAULT_STATION,
) -> None:
    """Every settable simlab parameter (for --sim-set), with its default and unit."""
    _exec_simlab("params", "--station", str(resolve(station)))


@sim_app.command("defects")
def sim_defects() -> None:
    """Every injectable defect (for --sim-defect), its arguments and what it breaks."""
    _exec_simlab("defects")


@station_app.command("scan")
def station_scan(
    resources: Annotated[
        list[str] | None, typer.Argument(help="VISA resources to ask as well")
    ] = None,
    host: Annotated[str | None, typer.Option(help="probe raw-socket ports on this host")] = None,
    ports: Annotated[str, typer.Option(help="ports for --host: 5025,5555,40000-40100")] = (
        "5025,5555"
    ),
    discover: Annotated[
        bool, typer.Option(help="ask the VISA library's list (pyvisa-py: a LAN broadcast)")
    ] = True,
    serial: Annotated[bool, typer.Option(help="ask every serial port pyserial lists")] = True,
    can: Annotated[bool, typer.Option(help="list CAN interfaces python-can detects")] = True,
    bms_port: Annotated[
        list[str] | None, typer.Option(help="a serial port to try the BMS protocols on")
    ] = None,
    visa_library: Annotated[str, typer.Option(help="@py, @ivi or a library path")] = "@py",
    timeout_ms: Annotated[int, typer.Option(help="per question")] = 500,
    write: Annotated[Path | None, typer.Option(help="draft a station file here")] = None,
) -> None:
    """List the instruments, serial ports and CAN interfaces this host reaches, recognise
    the models the rig knows by `*IDN?`, and with --write draft a station file from them
    (roles guessed, every line a person must decide marked `# DECIDE`).

    Exit codes: 0 something recognised; 1 nothing recognised; 2 bad options.
    """
    from rig.station.scan_command import scan_command

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(width=140, highlight=False)
    code = scan_command(
        console,
        list(resources or []),
        host=host,
        ports=ports,
        discover=discover,
        serial=serial,
        can=can,
        bms_ports=list(bms_port or []),
        visa_library=visa_library,
        timeout_ms=timeout_ms,
        write=write,
    )
    raise typer.Exit(code)


@station_app.command("check")
def station_check(
    station: Annotated[str, typer.Option(help="station file")] = DEFAULT_STATION,
    spec: Annotated[str, typer.Option(help="DUT spec (pin check settings)")] = DEFAULT_SPEC,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="enable no output: open, identify and read only")
    ] = False,
) -> None:
    """Bring a bench up: open every instrument, check identity, serial, options, modules,
    calibration and error queues, exercise each role at safe levels inside the station's
    limits (set, read back, off), run the wiring pin check with the DUT connected, and
    print what passed and what to fix.

    Exit codes as for `rig run`: 0 passed; 1 something to fix; 2 bad station or spec
    file; 130 / 143 interrupted (the bench is made safe first).
    """
    from rig.station.check_command import check_command

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(width=140, highlight=False)
    installed = SIGNALS.install()  # a signal interrupts where it lands; the bench is made safe
    try:
        code = check_command(console, resolve(station), resolve(spec), dry_run)
    except KeyboardInterrupt:
        code = signal_exit_code(SIGNALS.first.name if SIGNALS.first else "SIGINT")
    finally:
        if installed:
            SIGNALS.uninstall()
    raise typer.Exit(code)


def main() -> None:
    """The `rig` command. Once it has said its last word it leaves at once: the run's
    records are synced, its summary is printed, and tearing down the interpreter's module
    graph (pydantic, pyvisa, numpy, pytest) would add a third of a second to every run."""
    try:
        app(prog_name="rig")
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    atexit._run_exitfuncs()  # logging, pyvisa: what a normal exit would still do
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
