"""The JBD EEPROM register map: every register decodes and encodes, fuzzed."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dut_drivers.errors import BmsFrameError
from dut_drivers.jbd import registers as R


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("covp", "0E 42", {"covp": 3.65}),
        ("povp", "16 D0", {"povp": 58.40}),
        ("chgot", "0C 9F", {"chgot": 50.0}),  # 3231 dK = 50.0 °C
        ("dsgut", "09 E3", {"dsgut": -20.0}),
        ("dsgoc", "F0 60", {"dsgoc": -40.0}),
        ("cell_v_delays", "03 02", {"cuvp_delay": 3, "covp_delay": 2}),
        ("mfg_date", "30 6F", {"mfg_date": "2024-03-15"}),
        ("func_config", "00 0C", {"balance_en": True, "chg_balance_en": True, "switch": False}),
        (
            "sc_dsgoc2",
            "13 53",
            {"sc_mv": 56, "sc_delay_us": 200, "dsgoc2_mv": 17, "dsgoc2_delay_ms": 320},
        ),
        ("cxvp_high_delay_sc_rel", "10 05", {"covp_high_delay": 2, "cuvp_high_delay": 1}),
        ("device_name", "03 4A 42 44", {"device_name": "JBD"}),
    ],
)
def test_known_values(name, data, expected):
    reg = R.BY_NAME[name]
    decoded = R.decode(reg, bytes.fromhex(data))
    assert {k: decoded[k] for k in expected} == expected
    assert R.encode(reg, decoded) == bytes.fromhex(data)


def test_every_documented_register_is_mapped():
    addresses = {r.address for r in R.REGISTERS}
    assert set(range(0x10, 0x40)) <= addresses
    assert {0xA0, 0xA1, 0xA2} <= addresses
    names = [n for r in R.REGISTERS for n in r.names()]
    assert len(names) == len(set(names))  # one name, one place


def test_every_protection_field_exists():
    for fields in R.PROTECTION_FIELDS.values():
        for name in filter(None, fields):
            assert name in R.BY_NAME


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("covp", 70.0, "does not fit"),
        ("covp_delay", 1.5, "whole seconds"),
        ("sc_mv", 50, "not one of"),
    ],
)
def test_values_a_register_cannot_hold_are_refused(name, value, why):
    reg = R.BY_NAME[name]
    values = R.decode(reg, bytes(2)) if reg.kind not in ("u16", "s16", "temp") else {}
    with pytest.raises(ValueError, match=why):
        R.encode(reg, {**values, name: value})


def test_multi_value_register_needs_all_values():
    with pytest.raises(ValueError, match="also needs"):
        R.encode(R.BY_NAME["covp_delay"], {"covp_delay": 2})


two_bytes = st.binary(min_size=2, max_size=2)


@given(st.sampled_from([r for r in R.REGISTERS if r.kind != "str"]), two_bytes)
def test_any_two_bytes_decode_and_reencode_to_the_same_values(reg, data):
    values = R.decode(reg, data)
    assert R.decode(reg, R.encode(reg, values)) == values


@given(st.sampled_from(R.REGISTERS), st.binary(max_size=40))
def test_wrong_lengths_are_typed_errors(reg, data):
    with contextlib.suppress(BmsFrameError):
        R.decode(reg, data)
