"""Every driver states its datasheet accuracy; a station's certificate replaces it."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from pymeasure.test import expected_protocol

from instruments.accuracy import QUANTITIES, Accuracy, AccuracyUnknown, table_from
from instruments.cell_emulators.keysight_n6705c import KeysightN6705C
from instruments.loads.rigol_dl3021 import RigolDL3021
from instruments.ratings import RATINGS
from instruments.registry import MODELS, role_of
from rig.config import load_station
from rig.config.station import InstrumentConfig
from rig.station.roles import CellChannel, Cells, Charger, Load

REPO = Path(__file__).resolve().parents[2]
STATION = load_station(REPO / "stations" / "sim-16s.yaml")
SOURCES = ("voltage_set", "voltage_meas", "current_set", "current_meas")
# What each role's measurements need from its instruments (a switch measures nothing).
REQUIRED = {
    "power_supply": SOURCES,
    "electronic_load": SOURCES,
    "cell_emulator": SOURCES,
    "thermistor_emulator": ("resistance_set",),
    "digitizer": ("voltage_meas", "timebase"),
    "switch": (),
    "function_generator": ("voltage_set",),
    "battery_simulator": SOURCES,
}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_states_the_accuracy_its_role_needs(model):
    table = MODELS[model].driver.ACCURACY
    assert set(table) <= set(QUANTITIES)
    for quantity in REQUIRED[role_of(model)]:
        entries = table[quantity]
        assert entries, f"{model}: no {quantity}"
        for entry in entries:
            assert isinstance(entry, Accuracy)
            if quantity != "timebase":  # a clock's accuracy holds at any interval
                assert math.isfinite(entry.range_max), f"{model} {quantity}: range not stated"
            assert entry.pct > 0 or entry.offset > 0
            assert entry.source, f"{model} {quantity}: datasheet not named"


def _listed_sources() -> dict[str, list[str]]:
    """The rows of docs/instruments.md's "Accuracy and rating sources" table, by model."""
    text = (REPO / "docs" / "instruments.md").read_text(encoding="utf-8")
    section = text.split("### Accuracy and rating sources", 1)[1].split("\n### ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        found = re.match(r"\| `([^`]+)` \|(.*)", line)
        if found:
            rows.setdefault(found[1], []).append(found[2])
    return rows


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_figure_names_its_document_and_each_unconfirmed_one_is_listed(model):
    """A source names title, edition or revision (or says it was not read) and table;
    a model with a figure not read in its document has its row in the docs' list."""
    sources = [e.source for entries in MODELS[model].driver.ACCURACY.values() for e in entries]
    if model in RATINGS:
        sources.append(RATINGS[model].source)
    for source in sources:
        assert re.search(r"\((edition|revision) [^)]+\)", source), f"{model}: {source!r}"
    if any("unconfirmed" in source for source in sources):
        rows = _listed_sources().get(model, [])
        assert any("unconfirmed" in row for row in rows), f"{model}: not in the docs' list"


def test_band_at_a_value_is_pct_of_reading_plus_offset():
    with expected_protocol(KeysightN6705C, []) as cells:
        band = cells.accuracy("voltage_meas", 3.3)
        assert band.limit(3.3) == pytest.approx(0.025e-2 * 3.3 + 1.5e-3)
        assert "N6781A" in band.source
        # a negative (sink) current uses the magnitude
        assert cells.accuracy("current_meas", -2.0).limit(-2.0) == pytest.approx(
            0.03e-2 * 2.0 + 250e-6
        )


def test_value_beyond_every_range_or_unstated_quantity_is_an_error():
    with expected_protocol(RigolDL3021, []) as load:
        with pytest.raises(AccuracyUnknown, match="beyond"):
            load.accuracy("current_set", 41.0)
        with pytest.raises(AccuracyUnknown, match="timebase"):
            load.accuracy("timebase", 1e-3)


def test_station_override_replaces_whole_quantities_only():
    cert = {"voltage_meas": [{"pct": 0.01, "offset": 2e-4, "range_max": 20.4, "source": "cert"}]}
    with expected_protocol(KeysightN6705C, [], accuracy=cert) as cells:
        assert cells.accuracy("voltage_meas", 3.3) == Accuracy(0.01, 2e-4, 20.4, "cert")
        assert cells.accuracy("voltage_set", 3.3) == KeysightN6705C.ACCURACY["voltage_set"][0]
    # the class table is untouched by an instance's certificate
    assert KeysightN6705C.ACCURACY["voltage_meas"][0].pct == 0.025


def test_table_from_station_config_entries():
    """The station file's validated entries convert without the driver knowing pydantic."""
    raw = STATION.instruments["cellsim_a"].model_dump(exclude={"accuracy"})
    raw["accuracy"] = {
        "current_meas": [
            {"pct": 0.02, "offset": 1e-4, "range_max": 0.1},
            {"pct": 0.03, "offset": 2e-4, "range_max": 3.06, "source": "cert 42"},
        ]
    }
    inst = InstrumentConfig.model_validate(raw)
    table = table_from(inst.accuracy)
    assert table["current_meas"][0] == Accuracy(0.02, 1e-4, 0.1, "station file")
    assert table["current_meas"][1].source == "cert 42"
    with pytest.raises(AccuracyUnknown):
        table_from({"volts": [{"pct": 1, "offset": 0}]})


def test_roles_answer_through_their_driver():
    cert = {"current_set": [{"pct": 0.1, "offset": 1e-3, "range_max": 40, "source": "cert"}]}
    with (
        expected_protocol(KeysightN6705C, []) as emulator,
        expected_protocol(RigolDL3021, [], accuracy=cert) as dl,
        expected_protocol(MODELS["Keysight E36234A"].driver, []) as psu,
    ):
        cells = Cells(
            {1: CellChannel("cellsim_a", emulator, 1)}, STATION.limits, STATION.safe_state
        )
        assert cells.accuracy(1, "voltage_set", 3.3) == KeysightN6705C.ACCURACY["voltage_set"][0]
        load = Load("load", dl, STATION.limits)
        assert load.accuracy("current_set", 5.0).source == "cert"
        charger = Charger("charger", psu, 1, STATION.limits)
        assert charger.accuracy("voltage_meas", 55.0).range_max >= 55.0
