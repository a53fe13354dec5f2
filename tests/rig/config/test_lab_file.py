"""The lab file: found by --lab, $RIG_LAB or the station's `lab:`, errors by file, line
and field, recorded for the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.config import ConfigError, load_station
from rig.config.lab import lab_path, laboratory_of, load_lab
from rig.paths import REPO

EXAMPLE = REPO / "stations" / "labs" / "example.yaml"


def test_the_example_lab_file_loads():
    lab = load_lab(EXAMPLE).laboratory
    assert lab is not None and lab.name == "Example Battery Lab"
    assert lab.signatory("B. Manager").role == "Head of laboratory"
    assert lab.accreditation is not None and lab.accreditation.number == "EX-0000-00"


def test_a_bad_lab_file_names_file_line_and_field(tmp_path):
    bad = tmp_path / "lab.yaml"
    bad.write_text("laboratory:\n  name: X\n  signatories:\n    - {role: boss}\n  adress: typo\n")
    with pytest.raises(ConfigError) as err:
        load_lab(bad)
    text = str(err.value)
    assert str(bad) in text
    assert "line 4: laboratory.signatories.0.name" in text
    assert "line 5: laboratory.adress: unknown key" in text


def test_which_lab_file_applies(tmp_path, monkeypatch):
    station = load_station(REPO / "stations" / "sim-16s.yaml")
    monkeypatch.delenv("RIG_LAB", raising=False)
    assert lab_path(None, "", station.source) is None
    assert lab_path(None, "lab.yaml", Path("/benches/a/station.yaml")) == Path(
        "/benches/a/lab.yaml"
    )
    monkeypatch.setenv("RIG_LAB", str(EXAMPLE))
    assert lab_path(None, "lab.yaml", station.source) == EXAMPLE
    assert lab_path("/x/other.yaml", "lab.yaml", station.source) == Path("/x/other.yaml")
    recorded = laboratory_of(None, station)
    assert recorded is not None and recorded["name"] == "Example Battery Lab"
    assert recorded["signatories"][0] == {"name": "B. Manager", "role": "Head of laboratory"}
    monkeypatch.delenv("RIG_LAB")
    assert laboratory_of(None, station) is None  # no lab named: the report is a DRAFT
