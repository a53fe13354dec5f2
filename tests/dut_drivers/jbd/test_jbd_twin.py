"""JbdBms against simlab's JBD twin over a real pty: status, configuration both ways."""

from __future__ import annotations

import pytest
import serial

from dut_drivers.base import BmsLink, Capability, ProtectionConfig, ProtectionSetting
from dut_drivers.errors import BmsCapabilityError
from dut_drivers.jbd.client import JbdBms


@pytest.fixture
def jbd(twin):
    rig, server = twin("jbd")
    link = JbdBms(server.port, timeout_s=0.3)
    yield rig, server, link
    link.close()


def test_status_and_identity(jbd):
    _rig, _, link = jbd
    assert isinstance(link, BmsLink)
    status = link.read_status()
    assert status.pack_voltage == pytest.approx(16 * 3.3, abs=0.02)
    assert status.cell_count == 16 and status.protections == frozenset()
    assert link.read_cell_voltages() == [pytest.approx(3.3, abs=0.002)] * 16
    ident = link.identity()
    assert ident.hardware == "JBD-SP16S020-L16S-100A" and ident.firmware == "1.0"


def test_configuration_read_equals_what_simlab_was_set_to(jbd):
    rig, _, link = jbd
    rig.world.set("firmware.cell_ov.threshold_v", 3.7)
    rig.world.set("firmware.cell_uv.release_v", 2.95)
    rig.world.set("firmware.pack_ov.delay_s", 4.0)
    config = link.read_protection_config()
    steps = {"threshold": 0.001, "release": 0.001, "delay_s": 1.0}  # mV and whole seconds
    assert config["cell_ov"] == ProtectionSetting(3.7, 3.4, 2.0, None, steps)
    assert config["pack_ov"].steps == {"threshold": 0.01, "release": 0.01, "delay_s": 1.0}
    assert config["charge_oc"].steps["release_delay_s"] == 1.0
    assert config["cell_uv"].release == 2.95
    assert config["pack_ov"].delay_s == 4.0
    assert config.extra["cell_cnt"] == 16 and config.extra["device_name"].startswith("JBD")


def test_configuration_written_changes_behaviour(jbd):
    rig, server, link = jbd
    new = ProtectionSetting(threshold=3.55, release=3.35, delay_s=1.0)
    link.write_protection_config(ProtectionConfig({"cell_ov": new}))
    assert rig.world.get("firmware.cell_ov.threshold_v") == 3.55
    assert rig.world.get("firmware.cell_ov.delay_s") == 1.0
    held = link.read_protection_config()["cell_ov"]
    assert (held.threshold, held.release, held.delay_s, held.release_delay_s) == (
        3.55,
        3.35,
        1.0,
        None,
    )
    assert not server.factory_mode
    rig.set_cell(4, 3.58)  # below the old 3.65 V threshold, above the new one
    rig.world.advance(1.5)
    status = link.read_status()
    assert "cell_ov" in status.protections and not status.charge_fet


def test_unwritable_value_leaves_bms_unchanged(jbd):
    rig, server, link = jbd
    with pytest.raises(ValueError, match="whole seconds"):
        link.write_protection_config(ProtectionConfig({"cell_ov": ProtectionSetting(delay_s=1.5)}))
    assert rig.world.get("firmware.cell_ov.delay_s") == 2.0
    assert not server.factory_mode and not server.eeprom.shadow


def test_capabilities_declared(jbd):
    _, _, link = jbd
    assert Capability.config_write in link.capabilities
    assert Capability.charge_limits not in link.capabilities
    with pytest.raises(BmsCapabilityError, match="does not provide charge_limits"):
        link.require(Capability.charge_limits)


def test_fet_control(jbd):
    _rig, _, link = jbd
    link.set_fets(charge=False, discharge=True)
    status = link.read_status()
    assert not status.charge_fet and status.discharge_fet
    link.set_fets(charge=True, discharge=True)
    assert link.read_status().charge_fet


@pytest.fixture
def jbd_with(twin):
    opened: list[JbdBms] = []

    def make(**sets):
        rig, server = twin("jbd", **sets)
        link = JbdBms(server.port, timeout_s=0.3)
        opened.append(link)
        return rig, server, link

    yield make
    for link in opened:
        link.close()


@pytest.mark.parametrize(
    "sets",
    [
        {"bms__jbd__extra_bytes": 8},  # newer firmware appends to basic info
        {"bms__uart__trailing_bytes": 4},  # bytes after the end byte
        {"bms__uart__fragment_bytes": 3},  # the reply dribbles in
    ],
    ids=["extra-data", "trailing-bytes", "fragmented"],
)
def test_reply_habits_give_the_same_values(jbd_with, sets):
    _rig, _, link = jbd_with(**sets)
    for _ in range(3):
        status = link.read_status()
        assert status.cell_count == 16 and status.temperatures_c == (25.0, 25.0)
        assert status.pack_voltage == pytest.approx(52.8, abs=0.02)
        assert link.read_cell_voltages() == [pytest.approx(3.3, abs=0.002)] * 16


def test_sleeping_unit_swallows_the_first_request_and_the_driver_resends(jbd_with):
    _, server, link = jbd_with(bms__uart__sleep_after_s=30.0)
    assert link.read_status().cell_count == 16
    assert server.stats["asleep"] == 1 and link.link.resends == 1
    link.read_status()
    assert link.link.resends == 1  # awake now


def test_older_firmware_without_error_counters_is_a_gap_not_a_hang(jbd_with):
    _, server, link = jbd_with(bms__uart__unanswered="0xAA")
    with pytest.raises(BmsCapabilityError, match="never answers the error counters"):
        link.read_error_counters()
    assert Capability.error_counters not in link.capabilities
    asked = server.stats["unanswered"]
    with pytest.raises(BmsCapabilityError):
        link.read_error_counters()
    assert server.stats["unanswered"] == asked
    assert link.read_status().cell_count == 16  # everything else still works


def test_silent_unit_is_a_timeout_naming_port_and_request(jbd_with):
    _, _, link = jbd_with(bms__uart__unanswered="0x03,0xAA")
    with pytest.raises(Exception, match=r"no reply to read of register 0x03") as err:
        link.read_status()
    assert link.port in str(err.value)
    with pytest.raises(Exception, match="no reply"):  # not mistaken for a capability gap
        link.read_error_counters()


def test_current_sign_per_firmware(jbd_with):
    rig, _, link = jbd_with(bms__current_sign=-1)
    charging = rig.state["current_a"]
    assert charging > 0
    assert link.read_status().current == pytest.approx(-charging, abs=0.02)
    link.current_sign = -1  # what the DUT spec's current_sign does
    assert link.read_status().current == pytest.approx(charging, abs=0.02)


def test_port_survives_close_and_reopen_between_requests(twin):
    from simlab.servers.uart_jbd import request_frame

    _, server = twin("jbd")
    for _ in range(5):
        with serial.Serial(server.port, 9600, timeout=0.5) as port:
            port.write(request_frame(0xA5, 0x03))
            head = port.read(4)
            assert head[:2] == b"\xdd\x03" and len(port.read(head[3] + 3)) == head[3] + 3
        with serial.Serial(server.port, 9600, timeout=0.5) as port:
            port.write(request_frame(0xA5, 0x04))
            assert port.read(4)  # reads part of the reply, then leaves
        with serial.Serial(server.port, 9600, timeout=0.5) as port:
            port.write(request_frame(0xA5, 0x05)[:4])  # gives up mid-frame
    link = JbdBms(server.port, timeout_s=0.3)
    try:
        assert link.read_status().cell_count == 16
    finally:
        link.close()


def test_each_exchange_is_timed_as_the_host_sees_it(jbd):
    rig, _, link = jbd
    start = link.link_timing()
    assert start.kind == "request_reply"
    link.read_status()
    (fast,) = link.link_timing().since(start.total)
    rig.world.set("bms.uart.reply_delay_s", 0.05)  # a slow unit: wall time on its side
    mark = link.link_timing().total
    link.read_status()
    (slow,) = link.link_timing().since(mark)
    # the delay is in what the host measured: the host stamps its request once the write
    # returns, and the twin may have started its 50 ms by then (seen: 0.0498 s), so a few
    # milliseconds below it still show the delay; a loaded machine only adds to it
    assert slow >= 0.045 and slow > fast


def test_coded_afe_settings_read_as_the_nearest_codes_with_their_step(jbd):
    """Register 0x38 holds table codes: the twin reads the codes nearest its firmware's
    short-circuit and OCD2 parameters (1.0 mΩ shunt), the driver says how coarse they are."""
    rig, _, link = jbd
    config = link.read_protection_config()
    sc, oc2 = config["short_circuit"], config["discharge_oc2"]
    # 150 A and 30 A fit best with the doubled tables: 78 mV × 2 and 14 mV × 2
    assert (sc.threshold, sc.delay_s, sc.release_delay_s) == (156.0, 0.0002, 5.0)
    assert (oc2.threshold, oc2.delay_s) == (28.0, 0.16)
    assert sc.steps["threshold"] == 22.0 and oc2.steps["threshold"] == 6.0
    rig.world.set("firmware.discharge_oc2.threshold_a", 50.0)
    rig.world.set("firmware.short_circuit.threshold_a", 100.0)
    config = link.read_protection_config()
    assert config["discharge_oc2"].threshold == 50.0 and config["short_circuit"].threshold == 100.0
    assert config.extra["sc_dsgoc_x2"] is False  # only the plain tables hold both exactly


def test_coded_afe_settings_written_set_the_firmware(jbd):
    rig, _, link = jbd
    extra = {"sc_mv": 67, "sc_delay_us": 400, "dsgoc2_mv": 25, "dsgoc2_delay_ms": 640}
    link.write_registers({**extra, "sc_dsgoc_x2": False})
    assert rig.world.get("firmware.short_circuit.threshold_a") == 67.0
    assert rig.world.get("firmware.short_circuit.delay_s") == 0.0004
    assert rig.world.get("firmware.discharge_oc2.threshold_a") == 25.0
    assert rig.world.get("firmware.discharge_oc2.delay_s") == 0.64
