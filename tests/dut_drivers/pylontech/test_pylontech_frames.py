"""Pylontech CAN frames decoded with the DBC: a published capture, and fuzzed."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dut_drivers.errors import BmsError, BmsFrameError
from dut_drivers.pylontech import frames as F
from simlab.servers.can_pylontech import encode_frames
from tests.simlab.simworld import make_rig

# A real capture from a Pylontech US-series battery bank (10 modules).
CAPTURE = {
    0x351: "14 02 74 0E 74 0E CC 01",
    0x355: "1A 00 64 00",
    0x356: "02 13 00 00 4A 01",
    0x359: "00 00 00 00 0A 50 4E",
    0x35C: "C0 00",
    0x35E: "50 59 4C 4F 4E 20 20 20",
}


def decoded(ident):
    return F.decode(ident, bytes.fromhex(CAPTURE[ident]))


def test_published_capture():
    assert F.limits(decoded(0x351)).charge_voltage == 53.2
    assert F.limits(decoded(0x351)).charge_current == 370.0
    assert F.limits(decoded(0x351)).discharge_voltage == 46.0
    assert decoded(0x355) == {"StateOfCharge": 26, "StateOfHealth": 100}
    m = decoded(0x356)
    assert m["PackVoltage"] == pytest.approx(48.66) and m["Temperature"] == pytest.approx(33.0)
    alarms = decoded(0x359)
    assert alarms["ModuleCount"] == 10 and not F.protections(alarms)
    assert decoded(0x35C)["ChargeEnable"] == 1 and decoded(0x35C)["DischargeEnable"] == 1
    assert decoded(0x35E) == {"Name": "PYLON"}


@pytest.mark.parametrize(
    ("byte", "bit", "name"),
    [(0, 1, "ov"), (0, 2, "uv"), (0, 3, "ot"), (0, 4, "ut"), (0, 7, "discharge_oc"),
     (1, 0, "charge_oc"), (1, 3, "system_error")],
)  # fmt: skip
def test_protection_flags(byte, bit, name):
    data = bytearray(bytes.fromhex(CAPTURE[0x359]))
    data[byte] |= 1 << bit
    assert F.protections(F.decode(0x359, bytes(data))) == {name}


def test_coarse_flag_covers_precise_names():
    data = bytearray(bytes.fromhex(CAPTURE[0x359]))
    data[0] |= 0b10
    found = F.protections(F.decode(0x359, bytes(data)))
    assert "cell_ov" in found and "pack_ov" in found and "cell_uv" not in found
    assert sorted(found) == ["ov"]  # what the BMS said, nothing added


def test_simlab_encoding_agrees_with_the_dbc():
    rig = make_rig(noise=0.0)
    rig.set_cell(3, 3.7)
    rig.world.advance(3)
    status, comms = rig.world.bms_status(), rig.world.comms
    by_id = dict(encode_frames(status, comms))
    assert F.limits(F.decode(0x351, by_id[0x351])).charge_current == 0.0
    assert F.decode(0x35C, by_id[0x35C])["ChargeEnable"] == 0
    assert "cell_ov" in F.protections(F.decode(0x359, by_id[0x359]))
    assert F.decode(0x356, by_id[0x356])["PackVoltage"] == pytest.approx(15 * 3.3 + 3.7, abs=0.01)


@pytest.mark.parametrize(
    ("ident", "data", "words"),
    [
        (0x123, "00", "not in"),
        (0x351, "14 02 74", "expected 8"),
        (0x355, "1A 00 64 00 00", "expected 4"),
        (0x355, "FF 00 64 00", "0..100"),
        (0x359, "00 00 00 00 0A 00 00", "'P' 'N'"),
    ],
)
def test_bad_frames(ident, data, words):
    with pytest.raises(BmsFrameError, match=words):
        F.decode(ident, bytes.fromhex(data))


@given(st.sampled_from([0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E, 0x305, 0x000, 0x7FF]),
       st.binary(max_size=16))  # fmt: skip
def test_any_payload_is_decoded_or_refused_with_a_typed_error(ident, data):
    try:
        signals = F.decode(ident, data)
    except BmsError:
        return
    if ident == 0x351:
        assert F.limits(signals).charge_current >= 0
    if ident == 0x355:
        assert 0 <= signals["StateOfCharge"] <= 100


@given(st.sampled_from(sorted(CAPTURE)), st.integers(0, 63))
def test_a_flipped_bit_never_breaks_the_decoder(ident, bit):
    data = bytearray(bytes.fromhex(CAPTURE[ident]))
    data[bit // 8 % len(data)] ^= 1 << (bit % 8)
    with contextlib.suppress(BmsError):
        F.decode(ident, bytes(data))
