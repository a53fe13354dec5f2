"""The JK drivers against simlab's JK twins (ptys and BLE), and the BLE link's habits.

BLE goes through real host stacks on both sides: simlab's board is a bumble peripheral on
a virtual controller, the driver a bumble host on the other controller's HCI socket, so
GATT discovery, MTU exchange, subscription and reassembly of split notifications run.
"""

from __future__ import annotations

import pytest

from dut_drivers.errors import BmsChecksumError, BmsFrameError, BmsTimeout
from dut_drivers.registry import LinkOptions, open_link
from simlab.faults import LinkFaults, parse_fault


def _open(server, protocol: str, **kw):
    ep = server.endpoint
    if "ble" in ep:
        radio = ep["ble"]
        options = LinkOptions(
            ble_device=radio["address"], ble_backend="bumble", ble_hci=radio["hci"], **kw
        )
    else:
        options = LinkOptions(port=ep["port"], **kw)
    return open_link(protocol, options)


@pytest.mark.parametrize("protocol", ["jk_gps", "jk_pb", "jk_ble"])
def test_driver_reads_the_twin(twin, protocol):
    _rig, server = twin(protocol, firmware__cell_ov__threshold_v=3.62)
    link = _open(server, protocol)
    try:
        s = link.read_status()
        assert s.cell_count == 16 and s.pack_voltage == pytest.approx(52.8, abs=0.05)
        assert s.charge_fet and s.discharge_fet and not s.protections
        assert link.read_cell_voltages() == [pytest.approx(3.3, abs=0.002)] * 16
        assert link.read_temperatures() == [25.0, 25.0]
        cfg = link.read_protection_config()
        assert cfg["cell_ov"].threshold == 3.62 and cfg["cell_uv"].release == 2.9
        assert cfg["cell_ov"].steps["threshold"] == 0.001
        ident = link.identity()
        assert ident.cell_count == 16 and ident.firmware and ident.serial
    finally:
        link.close()


@pytest.mark.parametrize("protocol", ["jk_gps", "jk_pb", "jk_ble", "jbd_ble"])
def test_a_trip_shows_in_the_protocol_flags(twin, protocol):
    rig, server = twin(protocol)
    rig.cells[3].voltage_set = 3.7
    rig.world.advance(3.0)
    link = _open(server, protocol)
    try:
        s = link.read_status()
        assert s.indicates("cell_ov") and not s.charge_fet and s.discharge_fet
    finally:
        link.close()


def test_jbd_over_ble_reads_eeprom_and_counters(twin):
    _rig, server = twin("jbd_ble", firmware__cell_ov__threshold_v=3.61)
    link = _open(server, "jbd_ble")
    try:
        assert link.read_protection_config()["cell_ov"].threshold == 3.61
        assert set(link.read_error_counters().values()) == {0}
        assert link.read_status().cell_count == 16
    finally:
        link.close()


def test_split_notifications_are_put_back_together(twin):
    """20-byte notifications (the default ATT MTU's): a JK02 frame is 15 of them."""
    _rig, server = twin("jk_ble", bms__ble__chunk_bytes=20)
    link = _open(server, "jk_ble")
    try:
        notified = link.link._serial.notifications
        assert link.read_status().cell_count == 16
        assert link.link._serial.notifications - notified == 30  # settings + cell data
    finally:
        link.close()


def test_a_lost_notification_is_a_timeout_then_a_resend(twin):
    """A JK02 reply with a piece lost is never taken: the request is sent again (a
    status is 30 notifications of 20 bytes)."""
    _rig, server = twin("jk_ble", bms__ble__chunk_bytes=20, bms__ble__drop_every=45)
    link = _open(server, "jk_ble", timeout_s=0.2, retries=2)
    try:
        for _ in range(4):
            assert link.read_status().cell_count == 16
        assert link.link.resends >= 1 and server.stats["dropped_notification"] >= 1
    finally:
        link.close()


def test_jbd_over_ble_never_takes_a_reply_with_a_piece_lost(twin):
    """JBD's strict framing: a reply missing its first or a later piece is a typed error
    (a frame error, or a timeout resent), never a wrong value."""
    _rig, server = twin("jbd_ble", bms__ble__chunk_bytes=20, bms__ble__drop_every=3)
    link = _open(server, "jbd_ble", timeout_s=0.2, retries=1)
    errors = 0
    try:
        for _ in range(6):
            try:
                assert link.read_status().pack_voltage == pytest.approx(52.8, abs=0.05)
            except (BmsTimeout, BmsFrameError):
                errors += 1
        assert errors and server.stats["dropped_notification"] >= 3
    finally:
        link.close()


def test_a_reply_to_the_wrong_request_is_never_taken(twin):
    """JK: a device-info frame for a status request is skipped, the request resent.
    JBD: a reply for another register is a typed error naming both."""
    _rig, server = twin("jk_ble", bms__ble__wrong_reply_every=2)
    link = _open(server, "jk_ble", timeout_s=0.1)
    try:
        for _ in range(2):
            assert link.read_status().cell_count == 16
        assert server.stats["wrong_reply"] >= 1 and link.link.resends >= 1
    finally:
        link.close()
    _rig, server = twin("jbd_ble", bms__ble__wrong_reply_every=1)
    link = _open(server, "jbd_ble", timeout_s=0.2)
    try:
        with pytest.raises(BmsFrameError, match="register 0x04, asked 0x03"):
            link.read_status()
    finally:
        link.close()


def test_a_dropped_connection_is_made_again(twin):
    rig, server = twin("jk_ble")
    faults = LinkFaults(lambda: rig.world.t)
    rig.world.link_faults = faults
    link = _open(server, "jk_ble", timeout_s=0.3, retries=1, ble_connect_timeout_s=1.0)
    try:
        assert link.read_status().cell_count == 16
        faults.add(parse_fault(f"bms_ble_disconnect:at_s={rig.world.t},for_s=1", []))
        with pytest.raises(BmsTimeout, match=r"not seen advertising|no reply"):
            for _ in range(2000):  # the board drops the link within its poll period (50 ms)
                link.read_status()
        rig.world.advance(1.5)  # the fault is over: the board advertises again
        assert link.read_status().cell_count == 16
        assert link.link._serial.connects >= 2 and server.stats["ble_disconnect"] == 1
    finally:
        link.close()


def test_a_corrupted_reply_is_a_checksum_error(twin):
    rig, server = twin("jk_pb")
    faults = LinkFaults(lambda: rig.world.t)
    rig.world.link_faults = faults
    faults.add(parse_fault("bms_uart_corrupt", []))
    link = _open(server, "jk_pb", retries=0)
    try:
        with pytest.raises(BmsChecksumError):
            link.read_status()
    finally:
        link.close()
