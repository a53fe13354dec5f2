"""DalyBms against simlab's Daly twin over a real pty, including real units' habits."""

from __future__ import annotations

import pytest
import serial

from dut_drivers.base import BmsLink, Capability
from dut_drivers.daly.client import DalyBms
from dut_drivers.errors import BmsCapabilityError, BmsIncomplete
from simlab.servers.uart_daly import request


@pytest.fixture
def daly(twin):
    def make(**sets):
        rig, server = twin("daly", **sets)
        link = DalyBms(server.port, timeout_s=0.3, min_interval_s=0.0)
        opened.append(link)
        return rig, server, link

    opened: list[DalyBms] = []
    yield make
    for link in opened:
        link.close()


def test_status_identity_cells(daly):
    rig, _, link = daly()
    assert isinstance(link, BmsLink)
    status = link.read_status()
    assert status.pack_voltage == pytest.approx(52.8, abs=0.1)
    assert status.current == pytest.approx(rig.state["current_a"], abs=0.1)
    assert status.cell_count == 16 and status.protections == frozenset()
    assert status.temperatures_c == (25.0, 25.0)
    assert link.read_cell_voltages() == [pytest.approx(3.3)] * 16
    ident = link.identity()
    assert ident.manufacturer == "Daly" and ident.firmware and ident.serial
    assert Capability.config_read not in link.capabilities
    with pytest.raises(BmsCapabilityError, match="does not provide config_read"):
        link.read_protection_config()


def test_protection_through_failure_bits(daly):
    rig, _, link = daly()
    rig.set_cell(3, 3.7)
    rig.world.advance(3)
    status = link.read_status()
    assert status.indicates("cell_ov") and not status.charge_fet and status.discharge_fet
    assert status.cell_max_v == pytest.approx(3.7)


@pytest.mark.parametrize(
    "sets",
    [
        {"bms__daly__frame_order": "reversed"},
        {"bms__daly__frame_order": "swapped", "bms__daly__repeat_last": True},
        {"bms__uart__fragment_bytes": 5},
        {"bms__uart__trailing_bytes": 3},
    ],
    ids=["reversed", "swapped+repeated", "fragmented", "trailing-bytes"],
)
def test_multi_frame_habits_give_the_right_cells(daly, sets):
    rig, _, link = daly(**sets)
    rig.set_cell(16, 3.21)
    rig.set_cell(1, 3.35)
    rig.world.advance(0.2)
    cells = link.read_cell_voltages()
    assert cells[0] == pytest.approx(3.35) and cells[15] == pytest.approx(3.21)
    assert cells[1:15] == [pytest.approx(3.3)] * 14


def test_missing_frame_is_named_not_guessed(daly):
    _, _, link = daly(bms__daly__drop_frame=4)
    with pytest.raises(BmsIncomplete, match=r"frame\(s\) 4 of 6 missing"):
        link.read_cell_voltages()


def test_unanswered_command_is_a_declared_gap(daly):
    _, server, link = daly(bms__uart__unanswered="0x97")
    assert link.read_status().balancing is None
    assert Capability.balancing not in link.capabilities
    asked = server.stats["unanswered"]
    assert link.read_status().balancing is None
    assert server.stats["unanswered"] == asked  # not asked again: no repeated timeouts


def test_current_sign_per_firmware(daly):
    rig, _, link = daly(bms__current_sign=-1)
    assert link.read_status().current == pytest.approx(-rig.state["current_a"], abs=0.1)
    link.current_sign = -1
    assert link.read_status().current == pytest.approx(rig.state["current_a"], abs=0.1)


def test_first_request_after_idle_is_resent(daly):
    _, server, link = daly(bms__uart__sleep_after_s=30.0)
    assert link.read_soc().pack_voltage > 0
    assert server.stats["asleep"] == 1 and link.link.resends == 1


def test_too_fast_polling_drops_replies_and_pacing_avoids_it(daly):
    _, server, link = daly(bms__uart__min_interval_s=0.05)
    link.link.retries = 0
    with pytest.raises(Exception, match="no reply"):
        for _ in range(3):
            link.read_soc()
    paced = DalyBms(server.port, timeout_s=0.3, min_interval_s=0.06)
    try:
        dropped = server.stats["too_fast"]
        for _ in range(5):
            paced.read_soc()
        assert server.stats["too_fast"] == dropped and paced.link.resends == 0
    finally:
        paced.close()


def test_fet_control(daly):
    _, _, link = daly()
    link.set_fets(charge=False, discharge=True)
    status = link.read_status()
    assert not status.charge_fet and status.discharge_fet
    link.set_fets(charge=True, discharge=True)
    assert link.read_status().charge_fet


def test_port_survives_close_and_reopen_between_requests(twin):
    _, server = twin("daly")
    for _ in range(5):
        with serial.Serial(server.port, 9600, timeout=0.5) as port:
            port.write(request(0x90))
            assert len(port.read(13)) == 13
        with serial.Serial(server.port, 9600, timeout=0.5) as port:
            port.write(request(0x90)[:6])  # a client that gives up mid-frame
    with serial.Serial(server.port, 9600, timeout=0.5) as port:
        port.write(request(0x94))
        assert port.read(13)[2] == 0x94
