"""JbdBms against simlab's JBD twin over a real pty: status, configuration both ways."""

from __future__ import annotations

import pytest

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
    assert config["cell_ov"] == ProtectionSetting(3.7, 3.4, 2.0, None)
    assert config["cell_uv"].release == 2.95
    assert config["pack_ov"].delay_s == 4.0
    assert config.extra["cell_cnt"] == 16 and config.extra["device_name"].startswith("JBD")


def test_configuration_written_changes_behaviour(jbd):
    rig, server, link = jbd
    new = ProtectionSetting(threshold=3.55, release=3.35, delay_s=1.0)
    link.write_protection_config(ProtectionConfig({"cell_ov": new}))
    assert rig.world.get("firmware.cell_ov.threshold_v") == 3.55
    assert rig.world.get("firmware.cell_ov.delay_s") == 1.0
    assert link.read_protection_config()["cell_ov"] == ProtectionSetting(3.55, 3.35, 1.0, None)
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
