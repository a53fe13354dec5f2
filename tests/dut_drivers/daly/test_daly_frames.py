"""Daly frames from known byte vectors, and fuzzed: typed errors, never a wrong value."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dut_drivers.daly import frames as F
from dut_drivers.errors import BmsChecksumError, BmsError, BmsFrameError, BmsIncomplete


def test_request_matches_published_bytes():
    # python-daly-bms documents a58095080000000000000000c2 for 0x95 over UART (0x80)
    assert F.build_request(0x95, F.HOST_UART) == bytes.fromhex("a58095080000000000000000c2")
    assert F.build_request(0x90, F.HOST_PC).hex() == "a540900800000000000000007d"


def test_soc_current_sign_and_scale():
    # 53.2 V, 30000 - 125 raw = 12.5 A charging, 87.3 %
    data = bytes.fromhex("0214 0000 74B3 0369".replace(" ", ""))
    soc = F.decode_soc(data)
    assert (soc.pack_voltage, soc.current, soc.soc_percent) == (53.2, 12.5, 87.3)


def test_soc_beyond_100_is_refused():
    with pytest.raises(BmsFrameError, match="beyond 100"):
        F.decode_soc(bytes.fromhex("0214000075300FA0"))


def test_mos_and_status():
    mos = F.decode_mos(bytes.fromhex("01 01 00 96 0000C3CB".replace(" ", "")))
    assert (mos.state, mos.charge_fet, mos.discharge_fet, mos.remaining_ah) == (
        1,
        True,
        False,
        50.123,
    )
    st_ = F.decode_status(bytes.fromhex("10 04 01 00 AA 04D2 00".replace(" ", "")))
    assert (st_.cell_count, st_.ntc_count, st_.charger, st_.load, st_.cycles) == (
        16,
        4,
        True,
        False,
        1234,
    )


def test_failure_bits_level_one_is_alarm_level_two_is_protection():
    data = bytes([0b0000_0010, 0b0000_0001, 0, 0, 0, 0b0000_0001, 0b0000_0100, 7])
    f = F.decode_failures(data)
    assert f.protections == {"cell_ov", "afe_error", "short_circuit"}
    assert f.alarms == {"charge_ot"} and f.fault_code == 7


def test_balance_bit_order():
    data = bytes([0b0000_0101, 0b1000_0000, 0, 0, 0, 0, 0, 0])
    assert F.decode_balance(data, 16) == {1, 3, 16}
    assert F.decode_balance(data, 8) == {1, 3}


def _cell_frames(mv):
    chunks = [mv[i : i + 3] for i in range(0, len(mv), 3)]
    return [
        bytes([n + 1]) + b"".join(v.to_bytes(2, "big") for v in c).ljust(7, b"\0")
        for n, c in enumerate(chunks)
    ]


def test_cells_by_frame_number_in_any_order_with_repeats():
    frames = _cell_frames(list(range(3300, 3316)))
    shuffled = [frames[5], frames[0], frames[3], frames[1], frames[2], frames[4], frames[5]]
    cells = F.decode_cells(F.by_frame_number(shuffled, 6, "0x95"), 16)
    assert cells == [v / 1000 for v in range(3300, 3316)]


def test_missing_frames_are_named():
    frames = _cell_frames(list(range(3300, 3316)))
    with pytest.raises(BmsIncomplete, match=r"frame\(s\) 2, 5 of 6 missing"):
        F.by_frame_number([frames[0], frames[2], frames[3], frames[5]], 6, "0x95")


def test_a_repeat_that_differs_is_an_error():
    frames = _cell_frames(list(range(3300, 3306)))
    bad = bytes([2]) + bytes(7)
    with pytest.raises(BmsFrameError, match="arrived twice"):
        F.by_frame_number([*frames, bad], 2, "0x95")


def test_split_frames_skips_noise():
    good = F.build_reply(0x90, bytes(8))
    frames, tail = F.split_frames(b"\x00\xa5\x12" + good + good[:5])
    assert frames == [good] and tail == good[:5]


@pytest.mark.parametrize(
    ("frame", "error", "words"),
    [
        (F.build_reply(0x90, bytes(8))[:-1] + b"\x00", BmsChecksumError, "checksum"),
        (F.build_request(0x90, 0x40), BmsFrameError, "address"),
        (F.build_reply(0x91, bytes(8)), BmsFrameError, "asked 0x90"),
        (F.build_reply(0x90, bytes(8))[:12], BmsFrameError, "not 13"),
    ],
)
def test_bad_frames(frame, error, words):
    with pytest.raises(error, match=words):
        F.parse_frame(frame, 0x90)


DECODERS = [F.decode_soc, F.decode_cell_range, F.decode_mos, F.decode_status, F.decode_failures]


@given(st.binary(max_size=40), st.sampled_from([0x90, 0x93, 0x94, 0x95, 0x98]))
def test_garbage_only_raises_typed_errors(blob, command):
    try:
        data = F.parse_frame(blob, command)
    except BmsError:
        return
    for decode in DECODERS:
        with contextlib.suppress(BmsError):
            decode(data)


@given(
    st.integers(0, 255), st.binary(min_size=8, max_size=8), st.integers(0, 12), st.integers(1, 255)
)
def test_any_single_byte_corruption_is_detected(command, data, position, flip):
    frame = bytearray(F.build_reply(command, data))
    frame[position] ^= flip
    with pytest.raises(BmsError):
        F.parse_frame(bytes(frame), command)


@given(st.lists(st.binary(min_size=8, max_size=8), max_size=20), st.integers(1, 16))
def test_multi_frame_assembly_never_invents_values(datas, needed):
    try:
        got = F.by_frame_number(datas, needed, "x")
    except BmsError:
        return
    assert sorted(got) == list(range(1, needed + 1))
    for n, data in got.items():
        assert data in datas and data[0] == n


@given(st.binary(max_size=200))
def test_split_frames_only_returns_valid_frames(stream):
    frames, tail = F.split_frames(stream)
    for f in frames:
        assert len(f) == 13 and f[0] == 0xA5 and f[12] == F.checksum(f[:12])
    assert len(tail) < 13
