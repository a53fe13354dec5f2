"""The lab file's database and coordinator sections: found as documented, checked like
the station and spec files (file, line, field), no password kept in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.config import ConfigError, load_station
from rig.config.lab import lab_path, load_lab
from rig.lab.db import DatabaseUsageError
from rig.lab.run import RunLab, find_lab
from tests.e2e.conftest import REPO


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_sections_load_and_a_password_in_the_url_is_refused_by_line(tmp_path):
    good = write(
        tmp_path / "lab.yaml",
        "database:\n  url: postgresql://rig@labdb/rig\n  password_env: RIG_DB_PW\n"
        "coordinator:\n  address: labserver:20408\n",
    )
    lab = load_lab(good)
    assert lab.database is not None and lab.database.password_env == "RIG_DB_PW"
    assert lab.coordinator is not None and lab.coordinator.address == "labserver:20408"
    bad = write(
        tmp_path / "bad.yaml",
        "coordinator:\n  address: x:1\ndatabase:\n  url: postgresql://rig:pw@labdb/rig\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_lab(bad)
    assert caught.value.line("database.url") == 4 and "holds a password" in str(caught.value)
    with pytest.raises(ConfigError, match="unknown key"):
        load_lab(write(tmp_path / "typo.yaml", "databse:\n  url: sqlite:///x\n"))


def test_found_by_option_then_environment_then_station_file(tmp_path, monkeypatch):
    monkeypatch.delenv("RIG_LAB", raising=False)
    station = tmp_path / "bench" / "station.yaml"
    assert lab_path(None, "lab.yaml", station) == tmp_path / "bench" / "lab.yaml"
    monkeypatch.setenv("RIG_LAB", "/etc/rig/lab.yaml")
    assert lab_path(None, "lab.yaml", station) == Path("/etc/rig/lab.yaml")
    assert lab_path("mine.yaml", "lab.yaml", station) == Path("mine.yaml")


def test_a_run_takes_its_database_and_password_from_the_lab_file(tmp_path, monkeypatch):
    monkeypatch.delenv("RIG_LAB", raising=False)
    monkeypatch.delenv("RIG_DB_URL", raising=False)
    lab_file = write(
        tmp_path / "lab.yaml",
        "database:\n  url: postgresql://rig@labdb/rig\n  password_env: RIG_TEST_PW\n",
    )
    station_text = (REPO / "stations/sim-16s.yaml").read_text() + f"lab: {lab_file}\n"
    station_path = write(tmp_path / "station.yaml", station_text)
    station = load_station(station_path)
    lab = find_lab(None, station, station_path)
    with pytest.raises(DatabaseUsageError, match="RIG_TEST_PW, which is not set"):
        RunLab.plan(lab, tmp_path / "runs", None, False, [], None)
    monkeypatch.setenv("RIG_TEST_PW", "pw-from-env")
    planned = RunLab.plan(lab, tmp_path / "runs", None, False, [], None)
    assert planned.target is not None and planned.target.password == "pw-from-env"
    assert planned.target.shown == "postgresql+psycopg://rig:***@labdb/rig"
    assert (
        RunLab.plan(lab, tmp_path / "runs", "other.sqlite", False, [], None).target.source == "--db"
    )
    assert RunLab.plan(lab, tmp_path / "runs", None, True, [], None).target is None
