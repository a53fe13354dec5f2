"""What the laboratory adds to one `rig run`: where its results go, which places it holds.

`rig run` asks this module at three points: after the files are checked (which lab
file, which database, which places: any mistake is a usage error before anything
starts), before the plans (wait for and acquire the places, start opening the database),
and after the summary (release, upload). The order is the run's: the places are held
from before the station opens until the plans are over, whatever ends them; the upload
comes after the verdict is printed and never changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from rig.config.lab import LabConfig, lab_path, load_lab
from rig.lab.db import DbTarget, resolve
from rig.lab.places import Holding, PlaceClient, Wanted, coordinator_address
from rig.safety import SIGNALS

if TYPE_CHECKING:
    from rich.console import Console

    from rig.config.station import StationConfig
    from rig.lab.upload import RunUpload


def find_lab(
    option: str | None, station: StationConfig | None, station_path: Path
) -> LabConfig | None:
    """The lab file for a run: --lab, else $RIG_LAB, else the station file's `lab:`;
    ConfigError if it is named and wrong."""
    path = lab_path(option, station.lab if station else None, station_path)
    return load_lab(path) if path is not None else None


@dataclass
class RunLab:
    """The database and places of one run, planned before anything starts."""

    target: DbTarget | None
    wanted: list[Wanted]
    coordinator: str | None
    holding: Holding | None = None
    upload: RunUpload | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def plan(
        cls,
        lab: LabConfig | None,
        runs_dir: Path,
        db: str | None,
        no_db: bool,
        places: list[str],
        coordinator: str | None,
    ) -> RunLab:
        """Raises ConfigError, DatabaseUsageError or PlaceUsageError (exit 2, nothing ran)."""
        target = None
        if not no_db:
            section = lab.database if lab else None
            target = resolve(
                db,
                runs_dir,
                section.url if section else None,
                section.password_env if section else None,
                f"lab file {lab.source}" if lab else "lab file",
            )
        wanted = [Wanted.parse(p) for p in places]
        address = None
        if wanted:
            address = coordinator_address(
                coordinator, lab.coordinator.address if lab and lab.coordinator else None
            )
        return cls(target, wanted, address)

    def take_places(self, console: Console) -> None:
        """Wait for and acquire every place; PlaceError or KeyboardInterrupt leaves none
        held (the caller says so and ends the run before it began)."""
        if not self.wanted:
            return
        assert self.coordinator is not None

        def say(text: str) -> None:
            console.print(text, soft_wrap=True, highlight=False, markup=False)

        client = PlaceClient(self.coordinator)
        self.holding = Holding(client, say)
        try:
            self.holding.take(self.wanted)
        except BaseException:
            client.close()
            self.holding = None
            raise

    def release_places(self) -> None:
        """Give back every place and reservation; signals wait until it is done."""
        if self.holding is None:
            return
        holding, self.holding = self.holding, None
        with SIGNALS.deferred(reraise=False):
            holding.release()
            holding.client.close()

    def start_upload(self, run_dir: Path) -> None:
        if self.target is not None:
            from rig.lab.upload import RunUpload

            self.upload = RunUpload(self.target, run_dir)

    def finish_upload(self, console: Console) -> None:
        if self.upload is not None:
            self.upload.finish(console)

    def plugins(self) -> list[Any]:
        """pytest plugins for the run: the places it holds, written into its store."""
        return [PlaceRecorder(self.holding)] if self.holding is not None else []


class PlaceRecorder:
    """Writes a `place` record per place held into the run's store, once it is open."""

    def __init__(self, holding: Holding):
        self.holding = holding

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from rig.plugin.hooks import session_key

        rig = session.config.stash.get(session_key, None)
        if rig is None or rig.store is None:
            return
        for record in self.holding.records():
            rig.record(record)


def hide_db_password(argv: list[str], target: DbTarget | None) -> None:
    """Take the password out of `--db URL` in argv, which the store's run_start keeps."""
    if target is None or not target.password:
        return
    for i, arg in enumerate(argv):
        if arg == "--db" and i + 1 < len(argv):
            argv[i + 1] = target.scrub(argv[i + 1])
        elif arg.startswith("--db="):
            argv[i] = target.scrub(arg)
