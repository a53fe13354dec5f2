"""Opening a station over real transports: identities checked, limits enforced on the wire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from instruments.errors import IdentityError
from rig.config import load_station
from rig.safety import LimitError, SafetyManager
from rig.station import Station
from rig.station.station import open_dut
from simlab.lab import Lab

REPO = Path(__file__).resolve().parents[3]
SIM = REPO / "stations" / "sim-16s.yaml"


@pytest.fixture(scope="module")
def lab():
    with Lab.from_station_file(SIM) as lab:
        yield lab


def test_open_checks_identities_and_builds_roles(lab, tmp_path):
    config = load_station(SIM)
    safety = SafetyManager()
    station = Station.open(config, safety, lab.endpoints, transcript_dir=tmp_path)
    try:
        assert station.cells.count == 16
        assert {e.model for e in station.equipment} == {
            "Keysight E36234A",
            "Rigol DL3021",
            "Keysight N6705C",
            "Fluke 5522A",
            "Powertek MC642",
            "Rigol DS1104Z",
            "Keysight DAQ970A",
            "Keysight 33522B",
        }
        assert station.make_safe("test") == []
        assert station.cells.measure_voltage(16) == pytest.approx(config.safe_state.cell_voltage)
        lab.advance(0.5)  # let the BMS scan the cells it is now fed
        dut = open_dut(config, lab.endpoints)
        try:
            cells = dut.read_cell_voltages()
        finally:
            dut.close()
        assert cells == pytest.approx([config.safe_state.cell_voltage] * 16, abs=0.003)
    finally:
        station.close()


def test_wrong_instrument_at_address_is_refused(lab):
    """The station says the charger is a DL3021; the instrument there says E36234A."""
    config = load_station(SIM)
    wrong = config.model_copy(
        update={
            "instruments": {
                **config.instruments,
                "charger": config.instruments["charger"].model_copy(
                    update={"model": "Rigol DL3021"}
                ),
            }
        }
    )
    with pytest.raises(IdentityError) as err:
        Station.open(wrong, SafetyManager(), lab.endpoints)
    assert "DL3021" in str(err.value) and "E36234A" in str(err.value)
    port = lab.endpoints["instruments"]["charger"].split("::")[2]
    assert f"::{port}::" in err.value.resource


def test_limit_breach_sends_nothing(lab, tmp_path):
    config = load_station(SIM)
    station = Station.open(config, SafetyManager(), lab.endpoints, transcript_dir=tmp_path)
    try:
        before = (tmp_path / "cellsim_a.jsonl").read_text().count("\n")
        with pytest.raises(LimitError, match="cell 3"):
            station.cells.set_voltage(3, 4.2)
        with pytest.raises(LimitError, match="charger"):
            station.charger.set_voltage(75.0)
        with pytest.raises(LimitError, match="load"):
            station.load.set_current(55.0)
        after = (tmp_path / "cellsim_a.jsonl").read_text().count("\n")
        assert after == before
        sent = [
            json.loads(x)["data"] for x in (tmp_path / "charger.jsonl").read_text().splitlines()
        ]
        assert not any(cmd.startswith("VOLT 75") for cmd in sent)
    finally:
        station.close()
