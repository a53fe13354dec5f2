"""The BMS board's supply relay in simlab (`wiring.dut_supply`): closing its channel cuts
the board's feed from the module, the board goes dark and forgets, opening it boots it;
a relay the station file names wrongly is refused by key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simlab.lab import Lab
from simlab.station_file import parse_station

REPO = Path(__file__).resolve().parents[2]
STATION = REPO / "stations" / "sim-16s-module.yaml"


def test_closing_the_relay_powers_the_board_off_and_opening_it_boots_it_afresh():
    lab = Lab.from_station_file(STATION, defects=["release_blocked"])
    daq, fw, bench = lab.devices["daq"], lab.world.firmware, lab.world.bench
    lab.advance(1.0)
    assert fw.answering and bench.board_supply_v() == pytest.approx(bench.state.pack_v)
    charge_ot = next(p for p in fw.protections if p.row.name == "charge_ot")
    charge_ot.state.active = True  # tripped, and the defect keeps it so
    lab.advance(1.0)
    assert charge_ot.state.active and not bench.charge_fet
    daq.handle("ROUT:CLOS (@102)")
    assert daq.handle("ROUT:CLOS? (@102)") == "1" and bench.board_supply_v() == 0.0
    lab.advance(1.0)
    assert not fw.powered and not fw.answering
    assert not (bench.charge_fet or bench.discharge_fet)
    daq.handle("ROUT:OPEN (@102)")
    lab.advance(1.0)  # boot_s 0.5 and a first scan
    assert fw.answering and bench.charge_fet and bench.discharge_fet
    assert not charge_ot.state.active  # RAM lost with the supply: the trip is gone


def write(tmp_path: Path, supply: str) -> Path:
    doc = yaml.safe_load(STATION.read_text())
    doc["wiring"]["dut_supply"] = supply
    path = tmp_path / "station.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_relay_wired_twice_or_missing_is_refused_by_key(tmp_path):
    with pytest.raises(ValueError, match=r"wiring\.dut_supply: daq:101 is already wired"):
        parse_station(write(tmp_path, "daq:101"))
    with pytest.raises(ValueError, match=r"wiring.dut_supply: daq .* has no channel 130"):
        Lab.from_station_file(write(tmp_path, "daq:130"))
