"""The BMS supply relay on the module bench: a power cycle through the real switch
driver, every byte through pyvisa to simlab's DAQ970A twin, and the board it feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rig.config import load_station
from rig.safety import SafetyManager
from rig.station import Station
from simlab.lab import Lab

REPO = Path(__file__).resolve().parents[3]
MODULE = REPO / "stations" / "sim-16s-module.yaml"


def test_power_cycle_cuts_the_boards_supply_and_the_safe_state_restores_it(tmp_path):
    config = load_station(MODULE)
    with Lab.from_station_file(MODULE) as lab:
        station = Station.open(config, SafetyManager(), lab.endpoints, transcript_dir=tmp_path)
        try:
            fw, relay = lab.world.firmware, lab.hardware["daq"].relays[102]
            assert station.make_safe("start") == []
            lab.advance(1.0)
            assert fw.answering and lab.world.bench.charge_fet and not relay.closed
            fw.protections[0].state.active = True  # RAM state, which a reboot loses
            assert station.can_power_off_dut and station.power_off_dut()
            assert relay.closed and station.supply.is_cut()
            lab.advance(1.0)
            assert not fw.powered and not fw.answering  # it does not answer
            assert not (lab.world.bench.charge_fet or lab.world.bench.discharge_fet)
            assert "daq:102 relay is closed" in lab.outputs()["unsafe"]  # not its safe state
            assert station.make_safe("power on") == []
            assert not relay.closed and not station.supply.is_cut()
            lab.advance(1.0)
            assert fw.answering and lab.world.bench.charge_fet and lab.world.bench.discharge_fet
            assert not fw.protections[0].state.active
            kinds = [e["kind"] for e in fw.events if e["kind"] in ("power_off", "power_on")]
            assert kinds[-2:] == ["power_off", "power_on"]
        finally:
            station.make_safe("end")
            station.close()
    sent = [
        json.loads(line)["data"]
        for line in (tmp_path / "daq.jsonl").read_text().splitlines()
        if json.loads(line)["dir"] == "tx"
    ]
    cut = sent.index("ROUT:CLOS (@102)")  # the power cycle, then the safe state's restore
    assert sent[cut + 1] == "SYST:ERR?" and "ROUT:OPEN (@102)" in sent[cut:]


def test_a_module_bench_without_the_relay_cannot_power_cycle():
    config = load_station(MODULE)
    bare = config.model_copy(
        update={"wiring": config.wiring.model_copy(update={"dut_supply": None})}
    )
    station = Station(bare, SafetyManager())
    assert not station.can_power_off_dut and station.power_off_dut() is False
    with pytest.raises(Exception, match="no BMS supply relay"):
        station.supply  # noqa: B018


def test_the_bench_check_finds_the_bms_supply_cut():
    """`rig station check` reports the relay as it finds it (a dry run moves nothing): a
    cut supply is a warning with its remedy, as a closed short relay is a failure."""
    from rig.config import load_spec
    from rig.station.bringup import PASS, WARN, check_bench

    config, spec = load_station(MODULE), load_spec(REPO / "specs" / "jbd-16s-lfp.yaml")
    with Lab.from_station_file(MODULE) as lab:
        found = []
        for cut in (True, False):
            lab.hardware["daq"].relays[102].closed = cut
            report = check_bench(config, spec, dry_run=True, endpoints=lab.endpoints)
            found += [(r.result, r.details) for r in report.rows if r.subject == "supply"]
    assert found == [(WARN, "CLOSED: the BMS's supply cut"), (PASS, "open: the BMS powered")]
