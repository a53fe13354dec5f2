"""A station file's certificate figures reach the roles through the opened drivers."""

from __future__ import annotations

from pathlib import Path

import pytest

from instruments.accuracy import Accuracy
from instruments.cell_emulators.keysight_n6705c import KeysightN6705C
from rig.config import load_station
from rig.config.station import InstrumentConfig
from rig.safety import SafetyManager
from rig.station import Station
from simlab.lab import Lab

REPO = Path(__file__).resolve().parents[3]
SIM = REPO / "stations" / "sim-16s.yaml"


@pytest.fixture(scope="module")
def lab():
    with Lab.from_station_file(SIM) as lab:
        yield lab


def test_certificate_overrides_datasheet_for_that_instrument_only(lab):
    config = load_station(SIM)
    raw = config.instruments["cellsim_b"].model_dump(exclude={"accuracy"})
    raw["accuracy"] = {"voltage_meas": [{"pct": 0.01, "offset": 3e-4, "range_max": 20.4}]}
    instruments = {**config.instruments, "cellsim_b": InstrumentConfig.model_validate(raw)}
    station = Station.open(
        config.model_copy(update={"instruments": instruments}), SafetyManager(), lab.endpoints
    )
    try:
        # position 5 is cellsim_b:1, position 1 is cellsim_a:1
        assert station.cells.accuracy(5, "voltage_meas", 3.3) == Accuracy(
            0.01, 3e-4, 20.4, "station file"
        )
        assert (
            station.cells.accuracy(1, "voltage_meas", 3.3)
            == (KeysightN6705C.ACCURACY["voltage_meas"][0])
        )
        assert (
            station.cells.accuracy(5, "current_set", 1.0)
            == (KeysightN6705C.ACCURACY["current_set"][0])
        )
    finally:
        station.close()


def test_set_all_is_one_message_per_pack_emulator():
    """A PackEmulator's cells are set in one program message (an N83624's pack, an
    N6705C's channel list), checked once (test_roles holds the one-channel-a-message case)."""
    from pymeasure.test import expected_protocol

    from instruments.cell_emulators.ngi_n83624 import NgiN83624
    from rig.station.roles import CellChannel, Cells

    config = load_station(SIM)
    ok = ("SYST:ERR?", '+0,"No error"')
    listed = [("VOLT 3.3,(@1,2)", None), ok]
    with (
        expected_protocol(NgiN83624, [("SOUR:VOLT 3.3(@1,2,3,4)", None), ok]) as ngi,
        expected_protocol(KeysightN6705C, listed) as n6705c,
    ):
        channels = {p: CellChannel("ngi", ngi, p) for p in range(1, 5)}
        channels |= {5: CellChannel("smu", n6705c, 1), 6: CellChannel("smu", n6705c, 2)}
        cells = Cells(channels, config.limits, config.safe_state)
        cells.set_all(3.3)
        assert [cells.setpoint(p) for p in range(1, 7)] == [3.3] * 6
