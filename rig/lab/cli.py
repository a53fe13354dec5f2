"""`rig db ...` (the results database) and `rig place ...` (labgrid places).

Exit codes: 0 done; 1 the database or coordinator failed (or, for `rig db upload`, a run
did not get in); 2 a usage error (bad URL, lab file, filter, or not a run folder).
Every query can be written as CSV (`--csv FILE`, `-` for standard output) with the
values as stored.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rig.config import ConfigError
from rig.config.lab import LabConfig, lab_path, load_lab
from rig.results.verdict import EXIT_NOT_PASSED, EXIT_USAGE

db_app = typer.Typer(no_args_is_help=True, help="The results database: upload and ask across runs.")
place_app = typer.Typer(no_args_is_help=True, help="labgrid places: who holds what; release.")

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="database URL (default: $RIG_DB_URL, the lab file, else runs.sqlite)"
    ),
]
LabOpt = Annotated[str | None, typer.Option("--lab", help="lab file (default: $RIG_LAB)")]
RunsOpt = Annotated[
    Path, typer.Option("--runs-dir", help="the runs folder (its SQLite file is the default)")
]
CsvOpt = Annotated[
    str | None, typer.Option("--csv", help="also write the rows as CSV to FILE ('-': stdout)")
]


def _console() -> Console:
    console = Console(highlight=False)
    return console if console.is_terminal else Console(width=160, highlight=False)


def _fail(console: Console, message: str, code: int) -> typer.Exit:
    console.print(escape(message), style="bold red", soft_wrap=True)
    return typer.Exit(code)


def _lab(option: str | None) -> LabConfig | None:
    path = lab_path(option, None, None)
    return load_lab(path) if path is not None else None


def _target(console: Console, db: str | None, lab: str | None, runs_dir: Path) -> Any:
    """The database a `rig db` command names; a wrong URL or lab file exits 2."""
    from rig.lab.db import DatabaseUsageError, resolve

    try:
        config = _lab(lab)
        section = config.database if config else None
        return resolve(
            db,
            runs_dir,
            section.url if section else None,
            section.password_env if section else None,
            f"lab file {config.source}" if config else "lab file",
        )
    except (ConfigError, DatabaseUsageError) as exc:
        raise _fail(console, str(exc), EXIT_USAGE) from None


@contextmanager
def _database(console: Console, db: str | None, lab: str | None, runs_dir: Path) -> Iterator[Any]:
    """The database a `rig db` command works on; usage errors exit 2, failures 1."""
    from rig.lab.db import Database, DatabaseError

    target = _target(console, db, lab, runs_dir)
    if target.source == "default" and not Path(target.url.database or "").exists():
        raise _fail(
            console,
            f"no results database yet at {target.url.database} (no run has been uploaded "
            "there); give --db or --runs-dir",
            EXIT_NOT_PASSED,
        )
    try:
        database = Database(target)
    except DatabaseError as exc:
        raise _fail(console, str(exc), EXIT_NOT_PASSED) from None
    try:
        yield database
    except DatabaseError as exc:
        raise _fail(console, str(exc), EXIT_NOT_PASSED) from None
    except Exception as exc:
        if type(exc).__module__.startswith("sqlalchemy"):
            raise _fail(
                console, str(database.error("query failed", exc)), EXIT_NOT_PASSED
            ) from None
        raise
    finally:
        database.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # every digit stored, nothing rounded
    return "" if value is None else value


def write_csv(target: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row.get(c)) for c in columns])
    if target == "-":
        sys.stdout.write(buffer.getvalue())
    else:
        Path(target).write_text(buffer.getvalue())


def _table(title: str, columns: list[str], rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for c in columns:
        table.add_column(c.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*[escape(_cell(row.get(c))) for c in columns])
    return table


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def _filter(options: dict[str, Any]) -> Any:
    """The run filter from a command's options (its `locals()`)."""
    from dataclasses import fields

    from rig.lab.queries import RunFilter

    kw = {f.name: options.get(f.name) for f in fields(RunFilter)}
    kw["since"] = _date(kw["since"], "--since")
    kw["until"] = _date(kw["until"], "--until")
    return RunFilter(**kw)


def _answer(
    console: Console, csv_file: str | None, title: str, columns: list[str], rows: list[Any]
) -> bool:
    """The rows as CSV and/or as a table; False when the CSV went to standard output
    (then nothing else may be printed)."""
    if csv_file:
        write_csv(csv_file, columns, rows)
    if csv_file == "-":
        return False
    console.print(_table(title, columns, rows))
    return True


Serial = Annotated[str | None, typer.Option(help="DUT serial number")]
Model = Annotated[str | None, typer.Option(help="DUT model (as read) or name (as specified)")]
Firmware = Annotated[str | None, typer.Option(help="DUT firmware version")]
Station = Annotated[str | None, typer.Option(help="station name")]
Spec = Annotated[str | None, typer.Option(help="spec file (path or file name)")]
Verdict = Annotated[str | None, typer.Option(help="PASS, FAIL, ERROR, INCOMPLETE, ...")]
Operator = Annotated[str | None, typer.Option(help="who ran it")]
Since = Annotated[str | None, typer.Option(help="started on or after YYYY-MM-DD (UTC)")]
Until = Annotated[str | None, typer.Option(help="started on or before YYYY-MM-DD (UTC)")]


@db_app.command("upload")
def db_upload(
    runs: Annotated[
        list[Path] | None,
        typer.Argument(help="run folders (default: every run of --runs-dir still waiting)"),
    ] = None,
    db: DbOpt = None,
    lab: LabOpt = None,
    runs_dir: RunsOpt = Path("runs"),
) -> None:
    """Upload run folders: idempotent by run ID (the same store twice writes nothing); a
    killed run goes in as INCOMPLETE. Without folders: every run of the runs folder whose
    upload is pending or failed (its db-upload.json says so) and whose process is gone.
    A run that did not get in has it noted in its folder, and is retried next time."""
    from rig.lab.db import Database, DatabaseError
    from rig.lab.upload import NotARun, upload_noted, waiting, write_note

    console = _console()
    for run_dir in runs or []:
        if not (run_dir / "results.jsonl").is_file():
            raise _fail(console, f"{run_dir}: not a run folder (no results.jsonl)", EXIT_USAGE)
    target = _target(console, db, lab, runs_dir)
    folders = list(runs) if runs else waiting(runs_dir, target)
    if not folders:
        console.print(f"nothing waits to be uploaded to {target.shown}")
        return
    try:
        database = Database(target)
    except DatabaseError as exc:
        for run_dir in folders:
            write_note(run_dir, "failed", target, error=str(exc))
        raise _fail(
            console, f"{exc}\nnot uploaded (noted in each run folder): {len(folders)} run(s)", 1
        ) from None
    failed = 0
    try:
        for run_dir in folders:
            try:
                done = upload_noted(database, run_dir)
            except (DatabaseError, NotARun) as exc:
                failed += 1
                console.print(f"{run_dir}: NOT uploaded: {exc}", style="bold red", soft_wrap=True)
                continue
            console.print(
                f"{done.run_id}: {done.action} ({done.verdict}"
                + ("" if done.complete else ", incomplete: the run did not end normally")
                + f"; {done.measurements} measurements, {done.seconds:.2f} s)",
                soft_wrap=True,
            )
    finally:
        database.close()
    if failed:
        raise typer.Exit(EXIT_NOT_PASSED)


@db_app.command("runs")
def db_runs(
    serial: Serial = None,
    model: Model = None,
    firmware: Firmware = None,
    station: Station = None,
    spec: Spec = None,
    verdict: Verdict = None,
    operator: Operator = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first (0: all)")] = 50,
    csv_file: CsvOpt = None,
    db: DbOpt = None,
    lab: LabOpt = None,
    runs_dir: RunsOpt = Path("runs"),
) -> None:
    """The runs that match, newest first."""
    from rig.lab.queries import RUN_COLUMNS, runs

    where = _filter(locals())
    console = _console()
    with _database(console, db, lab, runs_dir) as database:
        rows = runs(database, where, limit or None)
    _answer(console, csv_file, f"{len(rows)} run(s) in {database.target.shown}", RUN_COLUMNS, rows)


MEASUREMENT_COLUMNS = [
    "test",
    "name",
    "value",
    "uncertainty",
    "unit",
    "low",
    "high",
    "decision_rule",
    "verdict",
    "instrument",
]


@db_app.command("show")
def db_show(
    run_id: Annotated[str, typer.Argument(help="a run ID (or its unique beginning)")],
    csv_file: CsvOpt = None,
    db: DbOpt = None,
    lab: LabOpt = None,
    runs_dir: RunsOpt = Path("runs"),
) -> None:
    """One run as stored: who, where, what DUT, instruments, plans and measurements."""
    from rig.lab.queries import NotFound, show

    console = _console()
    with _database(console, db, lab, runs_dir) as database:
        try:
            detail = show(database, run_id)
        except NotFound as exc:
            raise _fail(console, str(exc), EXIT_NOT_PASSED) from None
    if csv_file:
        write_csv(csv_file, MEASUREMENT_COLUMNS, detail.measurements)
        if csv_file == "-":
            return
    r = detail.run
    lines = [
        f"[bold]{r['run_id']}[/bold]  {r['verdict']}"
        + ("" if r["complete"] else "  (incomplete: the run did not end normally)"),
        f"started {_cell(r['started'])} UTC, ended {_cell(r['ended']) or '-'}; "
        f"operator {r['operator'] or '-'}; host {r['host'] or '-'}",
        f"station {r['station']} ({r['station_file']}); places {_places(r['places'])}",
        f"DUT {r['dut_name']}: model {r['dut_model'] or '-'}, serial {r['dut_serial'] or '-'}, "
        f"firmware {r['dut_firmware'] or '-'}; spec {r['spec_file']}",
    ]
    lines += [f"  {escape(reason)}" for reason in r["reasons"]]
    console.print("\n".join(lines), soft_wrap=True)
    columns = ["name", "role", "model", "serial", "calibration_due", "calibration_expired"]
    console.print(_table("instruments", columns, detail.instruments))
    console.print(_table("plans", ["test", "outcome", "duration_s"], detail.plans))
    console.print(_table("measurements", MEASUREMENT_COLUMNS, detail.measurements))


def _places(places: list[Any]) -> str:
    names = [str(p.get("place")) for p in places if isinstance(p, dict)]
    return ", ".join(names) if names else "-"


@db_app.command("trend")
def db_trend(
    measurement: Annotated[str, typer.Argument(help="measurement name, e.g. cell_ov_threshold")],
    test: Annotated[
        str | None, typer.Option(help="only plan cases whose name contains this")
    ] = None,
    serial: Serial = None,
    model: Model = None,
    firmware: Firmware = None,
    station: Station = None,
    spec: Spec = None,
    verdict: Verdict = None,
    since: Since = None,
    until: Until = None,
    plot: Annotated[Path | None, typer.Option(help="draw the trend into this PNG file")] = None,
    horizon: Annotated[
        int, typer.Option(help="flag a drift that reaches the guard band within this many runs")
    ] = 20,
    csv_file: CsvOpt = None,
    db: DbOpt = None,
    lab: LabOpt = None,
    runs_dir: RunsOpt = Path("runs"),
) -> None:
    """A measurement across runs and DUTs: every stored value with its U and limits,
    oldest first; series drifting towards a limit are flagged."""
    from rig.lab.queries import TREND_COLUMNS, trend

    where = _filter(locals())
    console = _console()
    with _database(console, db, lab, runs_dir) as database:
        result = trend(database, measurement, where, test, horizon)
    if plot is not None:
        from rig.lab.trend_plot import draw_trend

        draw_trend(result, plot)
    title = f"{measurement}: {len(result.points)} value(s)"
    if not _answer(console, csv_file, title, TREND_COLUMNS, result.points):
        return
    for d in result.drifts:
        console.print("DRIFT " + escape(d.describe(result.unit)), style="bold yellow")
    if not result.drifts and result.points:
        console.print("no series drifts towards a limit")
    if plot is not None:
        console.print(f"plot: {plot}")


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None, lab: LabOpt = None, runs_dir: RunsOpt = Path("runs")) -> None:
    """Bring the database's schema to this bms-rig's newest (done by any command anyway)."""
    from rig.lab.schema import HEAD

    console = _console()
    with _database(console, db, lab, runs_dir) as database:
        console.print(f"{database.target.shown}: schema at revision {HEAD}")


# -- places ------------------------------------------------------------------------------

CoordOpt = Annotated[
    str | None,
    typer.Option("--coordinator", help="HOST:PORT (default: lab file, $LG_COORDINATOR)"),
]


@contextmanager
def _places_client(console: Console, coordinator: str | None, lab: str | None) -> Iterator[Any]:
    from rig.lab.places import PlaceClient, PlaceError, PlaceUsageError, coordinator_address

    try:
        config = _lab(lab)
        address = coordinator_address(
            coordinator, config.coordinator.address if config and config.coordinator else None
        )
        client = PlaceClient(address)
    except (ConfigError, PlaceUsageError) as exc:
        raise _fail(console, str(exc), EXIT_USAGE) from None
    except PlaceError as exc:
        raise _fail(console, str(exc), EXIT_NOT_PASSED) from None
    try:
        yield client
    except PlaceError as exc:
        raise _fail(console, str(exc), EXIT_NOT_PASSED) from None
    finally:
        client.close()


@place_app.command("list")
def place_list(coordinator: CoordOpt = None, lab: LabOpt = None) -> None:
    """Every place: its tags, who holds it since when, and whether that client still runs."""
    console = _console()
    with _places_client(console, coordinator, lab) as client:
        places = client.places()
    table = Table(title=f"places on {client.address}", title_justify="left")
    for column in ("place", "tags", "held"):
        table.add_column(column, overflow="fold")
    for name, p in sorted(places.items()):
        tags = ", ".join(f"{k}={v}" for k, v in sorted(p.tags.items()))
        held = p.holder.describe() if p.holder else "free"
        table.add_row(escape(name), escape(tags), escape(held))
    console.print(table)


@place_app.command("release")
def place_release(
    name: Annotated[str, typer.Argument(help="the place")],
    force: Annotated[
        bool, typer.Option(help="also when it cannot be told that its holder is gone")
    ] = False,
    coordinator: CoordOpt = None,
    lab: LabOpt = None,
) -> None:
    """Release a place its owner's run left held (a run killed with SIGKILL). Only the
    owner's; a running holder only with --force. Check the bench is safe first."""
    from rig.lab.places import release_for_owner

    console = _console()
    with _places_client(console, coordinator, lab) as client:
        holder = release_for_owner(client, name, force)
    if holder is None:
        console.print(f"{name} was not held")
    else:
        console.print(f"{name} released (it was held by {holder.text})")
