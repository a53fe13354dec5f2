"""JBD frame encoding and decoding, from known byte vectors and by fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dut_drivers.base import BmsStatus
from dut_drivers.errors import BmsChecksumError, BmsError, BmsFrameError, BmsNack
from dut_drivers.jbd import frames
from dut_drivers.jbd.frames import PROTECTION_BITS

# A 15S pack's basic-info reply as published for the Overkill Solar / JBD protocol.
BASIC_REPLY = bytes.fromhex(
    "DD 03 00 1B 17 00 00 00 02 D0 03 E8 00 00 20 78 00 00 00 00 00 00 10 48 03 0F 02"
    " 0B 76 0B 82 FB FF 77"
)


@pytest.mark.parametrize(
    ("register", "frame"),
    [
        (0x03, "DD A5 03 00 FF FD 77"),
        (0x04, "DD A5 04 00 FF FC 77"),
        (0x05, "DD A5 05 00 FF FB 77"),
    ],
)
def test_read_requests(register, frame):
    assert frames.build_read(register) == bytes.fromhex(frame)


def test_write_request_checksum_covers_register_length_data():
    # Enter factory mode: DD 5A 00 02 56 78 chk 77; 0x10000 - (0+2+0x56+0x78) = 0xFF30.
    assert frames.build_write(0x00, b"\x56\x78") == bytes.fromhex("DD 5A 00 02 56 78 FF 30 77")


def test_decode_known_basic_info():
    info = frames.decode_basic_info(frames.parse_reply(BASIC_REPLY, 0x03))
    s = info.status
    assert s.pack_voltage == pytest.approx(58.88)
    assert s.current == 0
    assert s.remaining_capacity_ah == pytest.approx(7.2)
    assert s.full_capacity_ah == pytest.approx(10.0)
    assert s.soc_percent == 72
    assert (s.charge_fet, s.discharge_fet) == (True, True)
    assert s.cell_count == 15
    assert s.temperatures_c == pytest.approx((20.3, 21.5))
    assert s.protections == frozenset() and s.balancing == frozenset()
    assert info.software_version == "1.0"
    assert info.production_date == "2016-03-24"


def _basic(**overrides) -> bytes:
    data = bytearray(frames.parse_reply(BASIC_REPLY, 0x03))
    for offset, value in overrides.items():
        start = int(offset[1:])
        data[start : start + 2] = value.to_bytes(2, "big", signed=value < 0)
    return bytes(data)


def test_negative_current_is_discharge():
    assert frames.decode_basic_info(_basic(o2=-1234)).status.current == pytest.approx(-12.34)


def test_balancing_bitmap_to_positions():
    status = frames.decode_basic_info(_basic(o12=0b1000_0000_0000_0101, o14=0b10)).status
    assert status.balancing == frozenset({1, 3, 16, 18})


@pytest.mark.parametrize("bit", range(13))
def test_each_protection_bit(bit):
    status = frames.decode_basic_info(_basic(o16=1 << bit)).status
    assert status.protections == frozenset({PROTECTION_BITS[bit]})


def test_protection_names_in_jbd_bit_order():
    assert frames.decode_protections(0b1_0000_0000_0011) == {"cell_ov", "cell_uv", "fet_lock"}
    assert frames.decode_protections(1 << 10) == {"short_circuit"}


def test_trailing_bytes_tolerated():
    data = frames.parse_reply(BASIC_REPLY, 0x03) + b"\x00\x01\x02\x03"
    assert frames.decode_basic_info(data).status.cell_count == 15


def test_short_basic_info_rejected():
    with pytest.raises(BmsFrameError):
        frames.decode_basic_info(frames.parse_reply(BASIC_REPLY, 0x03)[:-2])


def test_cell_voltages():
    reply = frames.build_reply(0x04, bytes.fromhex("0CE4 0CE5 0D02"))
    assert frames.decode_cell_voltages(frames.parse_reply(reply, 0x04)) == [3.300, 3.301, 3.330]


def test_hardware_string():
    reply = frames.build_reply(0x05, b"JBD-SP04S020-L4S-200A\x00")
    assert frames.decode_hardware(frames.parse_reply(reply, 0x05)) == "JBD-SP04S020-L4S-200A"


def test_bad_checksum():
    bad = BASIC_REPLY[:-2] + b"\x00\x77"
    with pytest.raises(BmsChecksumError):
        frames.parse_reply(bad, 0x03)


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        (b"\xaa" + BASIC_REPLY[1:], "starts"),
        (BASIC_REPLY[:-1] + b"\x78", "ends"),
        (BASIC_REPLY[:-1], "bytes"),
    ],
)
def test_bad_layout(frame, why):
    with pytest.raises(BmsFrameError, match=why):
        frames.parse_reply(frame, 0x03)


def test_wrong_register():
    with pytest.raises(BmsFrameError, match="register"):
        frames.parse_reply(BASIC_REPLY, 0x04)


def test_nack():
    with pytest.raises(BmsNack):
        frames.parse_reply(frames.build_reply(0x03, b"", status=0x80), 0x03)


statuses = st.builds(
    BmsStatus,
    pack_voltage=st.integers(0, 0xFFFF).map(lambda r: r / 100),
    current=st.integers(-0x8000, 0x7FFF).map(lambda r: r / 100),
    remaining_capacity_ah=st.integers(0, 0xFFFF).map(lambda r: r / 100),
    full_capacity_ah=st.integers(0, 0xFFFF).map(lambda r: r / 100),
    cycles=st.integers(0, 0xFFFF),
    soc_percent=st.integers(0, 100).map(float),
    charge_fet=st.booleans(),
    discharge_fet=st.booleans(),
    protections=st.frozensets(st.sampled_from(PROTECTION_BITS)),
    balancing=st.frozensets(st.integers(1, 32)),
    cell_count=st.integers(0, 32),
    temperatures_c=st.lists(st.integers(0, 0xFFFF).map(lambda r: (r - 2731) / 10), max_size=8).map(
        tuple
    ),
)


@given(statuses, st.integers(0, 0xFF), st.integers(0, 0xFFFF))
def test_basic_info_round_trip(status, version, date):
    data = frames.encode_basic_info(status, version, date)
    reply = frames.build_reply(0x03, data)
    info = frames.decode_basic_info(frames.parse_reply(reply, 0x03))
    assert info.status == status
    assert info.software_version == f"{version >> 4}.{version & 15}"


@given(st.binary(max_size=300), st.integers(0, 255))
def test_garbage_only_raises_typed_errors(blob, register):
    try:
        data = frames.parse_reply(blob, register)
    except BmsError:
        return
    for decode in (frames.decode_basic_info, frames.decode_cell_voltages, frames.decode_hardware):
        with contextlib.suppress(BmsError):
            decode(data)


@given(st.integers(0, 255), st.binary(max_size=255), st.integers(0, 255))
def test_any_single_byte_corruption_is_detected(register, data, position):
    frame = bytearray(frames.build_reply(register, data))
    frame[position % len(frame)] ^= 0x5A
    with pytest.raises(BmsError):
        frames.parse_reply(bytes(frame), register)
