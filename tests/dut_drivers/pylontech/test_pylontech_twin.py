"""PylontechCanBms against simlab's CAN node: python-can `virtual` in-process, and
socketcand over TCP, with the lab's virtual time driving the broadcasts."""

from __future__ import annotations

import itertools
import time

import can
import pytest

from dut_drivers.base import BmsLink, Capability
from dut_drivers.errors import BmsCapabilityError, BmsSilent
from dut_drivers.pylontech.client import PylontechCanBms
from simlab.servers.can_pylontech import PylontechCanServer
from tests.simlab.simworld import make_rig

_channels = itertools.count()


class WorldClock:
    """The rig's VirtualClock, minus the control channel: sleeping advances the world."""

    virtual = True

    def __init__(self, world):
        self.world = world

    def now(self):
        return self.world.t

    def sleep(self, dt):
        self.world.advance(dt)


@pytest.fixture(params=["virtual", "socketcand"])
def pylon(request):
    rig = make_rig(noise=0.0)
    rig.charger.voltage_set, rig.charger.output_on = 53.0, True
    rig.world.advance(1.0)
    channel = f"pylon-test-{next(_channels)}"
    server = PylontechCanServer(rig.world, rig.world.lock, virtual_channel=channel)
    server.start()
    if request.param == "virtual":
        bus = can.Bus(interface="virtual", channel=channel)
    else:
        e = server.endpoint["can"]
        bus = can.Bus(interface="socketcand", channel=e["channel"], host=e["host"], port=e["port"])
    link = PylontechCanBms(bus, request.param, clock=WorldClock(rig.world))
    yield rig, server, link
    link.close()
    server.stop()


def test_status_from_broadcasts(pylon):
    rig, server, link = pylon
    assert isinstance(link, BmsLink)
    status = link.read_status()
    assert status.pack_voltage == pytest.approx(52.8, abs=0.02)
    assert status.current == pytest.approx(rig.state["current_a"], abs=0.1)
    assert status.charge_fet and status.discharge_fet and status.protections == frozenset()
    assert status.limits.charge_current == 50.0 and status.cell_count is None
    assert link.identity().manufacturer == "PYLON"
    # the link talks like an inverter; its keep-alive crosses a thread on the way in
    deadline = time.monotonic() + 5.0
    while server.stats["keepalive"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.stats["keepalive"] >= 1


def test_over_voltage_sets_the_flag_and_zeroes_the_charge_limit(pylon):
    rig, _, link = pylon
    rig.set_cell(5, 3.7)
    rig.world.advance(3.0)
    status = link.read_status()
    assert status.indicates("cell_ov") and "cell_ov" in status.protections
    assert status.limits.charge_current == 0.0 and status.limits.discharge_current == 100.0
    assert not status.charge_fet and status.discharge_fet


def test_broadcasts_follow_virtual_time(pylon):
    rig, server, link = pylon
    link.read_status()
    before = server.stats["broadcasts"]
    rig.world.advance(10.0)
    link.read_status()
    assert server.stats["broadcasts"] - before == 10


def test_silent_bms_is_detected_within_the_stated_time(pylon):
    rig, _, link = pylon
    link.read_status()
    rig.world.advance(0.5)
    last = rig.world.t  # last broadcast at or before this (1 s period)
    rig.world.set("bms.can.silent", True)
    with pytest.raises(BmsSilent, match="BMS silent") as err:
        while True:
            rig.world.advance(0.1)
            link.read_status()
    detected = rig.world.t
    assert detected - last <= link.silence_s + 1.0 + 0.1 + 1e-9  # silence + period + poll
    assert "0x351" in str(err.value) and link.name in str(err.value)


def test_undeclared_capabilities_raise(pylon):
    _, _, link = pylon
    assert Capability.cell_voltages not in link.capabilities
    for call in (link.read_cell_voltages, link.read_protection_config):
        with pytest.raises(BmsCapabilityError, match="pylontech_can"):
            call()


def test_broadcast_timestamps_give_the_period(pylon):
    rig, _, link = pylon
    link.read_status()
    start = link.link_timing()
    assert start.kind == "broadcast"
    for _ in range(5):
        rig.world.advance(1.0)
        link.read_status()
    stamps = link.link_timing().since(start.total)
    assert len(stamps) == 5
    if link.name == "socketcand":  # stamped with the lab's time (virtual: the host's)
        assert [round(b - a, 9) for a, b in itertools.pairwise(stamps)] == [1.0] * 4
    rig.world.set("bms.can.period_s", 2.0)
    rig.world.advance(8.0)
    link.read_status()
    later = link.link_timing()
    assert later.total - start.total in (8, 9)
