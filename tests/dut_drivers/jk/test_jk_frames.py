"""JK frames (GPS port 4E 57, JK02, JK-PB Modbus) against the frames published with their
protocol descriptions, and the parsers fuzzed.

Published frames: the read-all request and reply of syssi/esphome-jk-bms
(docs/protocol-design-uart-ttl-gps-port.md), the JK-B1A20S15P reply mpp-solar's JKSERIAL
protocol carries as its test response, and the three JK-PB2A16S15P frames (device info,
settings, cell data) with their Modbus requests and echoes from mpp-solar's JKPB
protocol; the JK02 device-info command from esphome-jk-bms's BLE protocol notes.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dut_drivers.errors import BmsChecksumError, BmsError, BmsFrameError
from dut_drivers.jk import gps, jk02

GPS_REQUEST = "4E 57 00 13 00 00 00 00 06 03 00 00 00 00 00 00 68 00 00 01 29"
# esphome-jk-bms, docs/protocol-design-uart-ttl-gps-port.md: a 14S board's read-all reply
GPS_REPLY = bytes.fromhex(
    "4E 57 01 1B 00 00 00 00 06 00 01 79 2A 01 0E ED 02 0E FA 03 0E F7 04 0E EC 05 0E F8"
    " 06 0E FA 07 0E F1 08 0E F8 09 0E E3 0A 0E FA 0B 0E F1 0C 0E FB 0D 0E FB 0E 0E F2"
    " 80 00 1D 81 00 1E 82 00 1C 83 14 EF 84 80 D0 85 0F 86 02 87 00 04 89 00 00 00 00"
    " 8A 00 0E 8B 00 00 8C 00 07 8E 16 26 8F 10 AE 90 0F D2 91 0F A0 92 00 05 93 0B EA"
    " 94 0C 1C 95 00 05 96 01 2C 97 00 07 98 00 03 99 00 05 9A 00 05 9B 0C E4 9C 00 08"
    " 9D 01 9E 00 5A 9F 00 46 A0 00 64 A1 00 64 A2 00 14 A3 00 46 A4 00 46 A5 FF EC"
    " A6 FF F6 A7 FF EC A8 FF F6 A9 0E AA 00 00 00 0E AB 01 AC 01 AD 04 11 AE 01 AF 01"
    " B0 00 0A B1 14 B2 31 32 33 34 35 36 00 00 00 00 B3 00 B4 49 6E 70 75 74 20 55 73"
    " B5 32 31 30 31 B6 00 00 E2 00 B7 48 36 2E 58 5F 5F 53 36 2E 31 2E 33 53 5F 5F"
    " B8 00 B9 00 00 00 00 BA 42 54 33 30 37 32 30 32 30 31 32 30 30 30 30 32 30 30 35"
    " 32 31 30 30 31 C0 01 00 00 00 00 68 00 00 54 D1"
)


def _mppsolar(module: str, command: str) -> bytes:
    """A published test response of mpp-solar's protocol tables."""
    protocol = pytest.importorskip(f"mppsolar.protocols.{module}")
    return protocol.COMMANDS[command]["test_responses"][-1]


def test_gps_read_all_request_is_the_published_one():
    assert gps.build_read_all() == bytes.fromhex(GPS_REQUEST)
    assert gps.checksum(bytes.fromhex(GPS_REQUEST)[:-4]) == 0x0129


def test_gps_reply_decodes_as_the_description_says():
    frame = gps.parse_frame(GPS_REPLY)
    assert (frame.command, frame.source, frame.frame_type) == (0x06, 0x00, 0x01)
    r = gps.decode_reading(gps.parse_tags(frame.data))
    assert r.cells[0] == 3.821 and r.cells[13] == 3.826 and len(r.cells) == 14
    s = r.status
    assert s.pack_voltage == 53.59 and s.soc_percent == 15 and s.cycles == 4
    # the count is a whole-% SoC: no remaining capacity; the capacity setting is 14 Ah
    assert s.remaining_capacity_ah is None and s.full_capacity_ah == 14
    # ... each in the step its tag codes it in: a plan budgets these, not a spec's 10 mAh
    assert s.steps == {"soc_percent": 1.0, "full_capacity_ah": 1.0}
    assert s.current == 2.08  # 0x80D0, protocol version 1: top bit set = charging
    assert s.temperatures_c == (30.0, 28.0) and r.mos_temperature_c == 29.0
    assert s.charge_fet and s.discharge_fet and r.extra["balancing_switch"]
    assert not s.protections and not s.alarms
    assert r.settings["cell_ov_v"] == 4.05 and r.settings["cell_ov_delay_s"] == 5
    assert r.settings["charge_ut_c"] == -20 and r.settings["pack_ov_v"] == 56.7
    assert r.software == "H6.X__S6.1.3S__" and r.manufacturer_id == "BT3072020120000200521001"
    cfg = gps.protection_config(r.settings)
    assert cfg["cell_ov"].threshold == 4.05 and cfg["cell_ov"].steps["threshold"] == 0.001
    assert cfg["pack_ov"].steps["threshold"] == 0.01 and cfg["charge_oc"].delay_s == 5


def test_gps_reply_of_mppsolar_test_response():
    raw = _mppsolar("jkserial", "getBalancerData")
    r = gps.decode_reading(gps.parse_tags(gps.parse_frame(raw).data))
    assert len(r.cells) == 14 and r.cells[0] == 3.984
    assert r.status.pack_voltage == 55.78 and r.status.current == 4.53
    assert r.manufacturer_id.endswith("JK_B1A20S15P")


@pytest.mark.parametrize(
    ("raw", "version", "amps"),
    [(0x87D0, 1, 20.0), (0x07D0, 1, -20.0), (9500, 0, 5.0), (11000, 0, -10.0), (0, 1, 0.0)],
)
def test_gps_current_both_protocol_versions(raw, version, amps):
    """The description's own examples: version 1, 20 A charging is 0x87D0."""
    assert gps.decode_current(raw, version) == amps


def test_gps_warning_bits_map_onto_the_vocabulary():
    assert gps.decode_flags(1 << 10 | 1 << 4, gps.WARNING_BITS) == {"cell_ov", "ot"}
    status = gps.decode_reading(
        gps.parse_tags(gps.parse_frame(GPS_REPLY).data.replace(b"\x8b\x00\x00", b"\x8b\x04\x00"))
    ).status
    assert status.indicates("cell_ov") and "cell_uv" not in status.protections


def test_gps_bad_frames_are_typed_errors():
    broken = bytearray(GPS_REPLY)
    broken[20] ^= 0xFF
    with pytest.raises(BmsChecksumError):
        gps.parse_frame(bytes(broken))
    with pytest.raises(BmsFrameError, match="not 4e 57"):
        gps.parse_frame(b"\x4e\x58" + GPS_REPLY[2:])
    with pytest.raises(BmsFrameError, match="unknown tag"):
        gps.parse_tags(b"\x88\x00\x00")
    with pytest.raises(BmsFrameError, match="cut short"):
        gps.parse_tags(b"\x83\x14")


@given(st.binary(max_size=400))
def test_gps_parsers_never_crash_on_noise(data):
    with contextlib.suppress(BmsError):
        frame = gps.parse_frame(data)
        gps.decode_reading(gps.parse_tags(frame.data))
    with contextlib.suppress(BmsError):
        gps.decode_reading(gps.parse_tags(data))


@given(
    cells=st.lists(st.integers(0, 5000), min_size=1, max_size=32),
    volts=st.integers(0, 0xFFFF),
    amps=st.integers(0, 0x7FFF),
    charging=st.booleans(),
    soc=st.integers(0, 100),
)
def test_gps_frames_round_trip(cells, volts, amps, charging, soc):
    triples = b"".join(bytes([i + 1]) + mv.to_bytes(2, "big") for i, mv in enumerate(cells))
    tags = {
        gps.CELLS: triples,
        0x83: volts.to_bytes(2, "big"),
        0x84: (amps | (0x8000 if charging else 0)).to_bytes(2, "big"),
        0x85: bytes([soc]),
        0x8B: b"\x00\x00",
        0x8C: b"\x00\x03",
        0xC0: b"\x01",
    }
    frame = gps.build_frame(gps.READ_ALL, gps.encode_tags(tags), gps.SOURCE_BMS, gps.TYPE_REPLY)
    r = gps.decode_reading(gps.parse_tags(gps.parse_frame(frame).data))
    assert r.cells == [mv / 1000 for mv in cells]
    assert r.status.pack_voltage == volts / 100
    assert r.status.current == (amps / 100 if charging or not amps else -amps / 100)


# -- JK02 -----------------------------------------------------------------------------------


def test_jk02_device_info_command_is_the_published_one():
    assert jk02.build_command(0x97) == bytes.fromhex("AA5590EB97" + "00" * 14 + "11")
    assert jk02.build_command(0x96)[-1] == 0x10


@pytest.mark.parametrize(
    ("frame_type", "asks", "echo"),
    [
        (jk02.DEVICE_INFO, "01 10 16 1C 00 01 02 00 00 D3 CD", "01 10 16 1C 00 01 C4 47"),
        (jk02.SETTINGS, "01 10 16 1E 00 01 02 00 00 D2 2F", "01 10 16 1E 00 01 65 87"),
        (jk02.CELL_INFO, "01 10 16 20 00 01 02 00 00 D6 F1", "01 10 16 20 00 01 04 4B"),
    ],
)
def test_jk_pb_modbus_requests_and_echoes_are_the_published_ones(frame_type, asks, echo):
    assert jk02.modbus_request(frame_type) == bytes.fromhex(asks)
    assert jk02.modbus_echo(frame_type) == bytes.fromhex(echo)


def _pb_frames() -> dict[int, bytes]:
    """mpp-solar's three JK-PB2A16S15P replies (its table names two of them crosswise)."""
    out = {}
    for command in ("getBalancerData", "getAdditionalInfo", "getCellData"):
        raw = _mppsolar("jkpb", command)
        out[jk02.parse_frame(raw)] = raw
    return out


def test_jk_pb_published_frames_decode():
    frames = _pb_frames()
    for frame_type, raw in frames.items():
        assert raw[jk02.FRAME_LEN :] == jk02.modbus_echo(frame_type)
    info = jk02.decode_device_info(frames[jk02.DEVICE_INFO])
    assert (info.model, info.hardware, info.software) == ("JK_PB2A16S15P", "15.XA", "15.10")
    assert info.serial == "31213480085" and info.manufacture_date == "240510"
    cells = jk02.decode_cell_info(frames[jk02.CELL_INFO])
    assert cells.cells == [3.357, 3.357, 3.357, 3.356, 3.356, 3.357, 3.356, 3.356]
    s = cells.status
    assert (s.pack_voltage, s.current, s.soc_percent, s.cycles) == (26.852, 17.841, 88, 101)
    assert s.temperatures_c == (29.6, 29.4) and s.charge_fet and s.discharge_fet
    assert s.remaining_capacity_ah == 193.465 and s.full_capacity_ah == 220.0
    settings = jk02.decode_settings(frames[jk02.SETTINGS])
    cfg = jk02.protection_config(settings)
    assert cfg["cell_ov"].threshold == 3.65 and cfg["cell_ov"].release == 3.498
    assert cfg["cell_uv"].threshold == 2.65 and cfg["charge_oc"].threshold == 150.0
    assert cfg["charge_oc"].delay_s == 30 and cfg["charge_oc"].release_delay_s == 60
    assert cfg["short_circuit"].delay_s == 0.0015 and cfg["charge_ut"].threshold == -10.0
    assert cfg["cell_ov"].steps == {"threshold": 0.001, "release": 0.001}
    assert cfg["charge_ot"].steps["threshold"] == 0.1
    assert cfg["short_circuit"].steps["delay_s"] == 1e-6


def test_jk02_error_bits_map_onto_the_vocabulary():
    frame = bytearray(_pb_frames()[jk02.CELL_INFO][: jk02.FRAME_LEN])
    frame[166:170] = (1 << 4 | 1 << 14 | 1 << 27).to_bytes(4, "little")
    frame[-1] = jk02.crc(frame[:-1])
    s = jk02.decode_cell_info(bytes(frame)).status
    assert set(s.protections) == {"cell_ov", "short_circuit", "discharge_ut"}


def test_jk02_bad_frames_are_typed_errors():
    frame = bytearray(_pb_frames()[jk02.CELL_INFO][: jk02.FRAME_LEN])
    frame[100] ^= 1
    with pytest.raises(BmsChecksumError):
        jk02.parse_frame(bytes(frame))
    with pytest.raises(BmsFrameError, match="not 300"):
        jk02.parse_frame(bytes(frame[:200]))
    with pytest.raises(BmsFrameError, match="55 aa eb 90"):
        jk02.parse_frame(b"\x00" * 300)


@given(st.binary(min_size=300, max_size=320))
def test_jk02_decoders_never_crash_on_noise(data):
    with contextlib.suppress(BmsError):
        jk02.parse_frame(data)
    framed = jk02.FRAME_HEADER + data[4:]
    jk02.decode_cell_info(framed)
    jk02.decode_settings(framed)
    jk02.decode_device_info(framed)


@given(st.integers(0, 0xFF), st.integers(0, 0xFFFFFFFF), st.integers(0, 0xFF))
def test_jk02_commands_check_byte(command, value, counter):
    c = jk02.build_command(command, value, 4, counter)
    assert len(c) == 20 and c[:4] == jk02.COMMAND_HEADER and c[-1] == sum(c[:19]) & 0xFF
    assert int.from_bytes(c[6:10], "little") == value and c[16] == counter
