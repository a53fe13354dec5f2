"""Byte-level protocol of the Siglent SPD3303X driver (PyMeasure's SPD family + checks)."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from instruments.errors import InstrumentError
from instruments.power_supplies.siglent_spd3303x import SiglentSPD3303X
from instruments.roles import PowerSupply, ProtectedSupply

OK = ("SYST:ERR?", "0 No Error")
IDN = "Siglent Technologies,SPD3303X,SPD3XIDX4R0123,1.01.01.02.05,V3.0"


def test_identity_has_five_fields():
    with expected_protocol(SiglentSPD3303X, [("*IDN?", IDN), ("*IDN?", IDN)]) as psu:
        ident = psu.check_identity()
        assert (ident.serial, ident.firmware, ident.extra) == (
            "SPD3XIDX4R0123",
            "1.01.01.02.05",
            ("V3.0",),
        )
        assert str(psu.identity()) == IDN


def test_a_supply_without_protection_commands():
    with expected_protocol(SiglentSPD3303X, []) as psu:
        assert isinstance(psu, PowerSupply)
        assert not isinstance(psu, ProtectedSupply)


@pytest.mark.parametrize(
    ("call", "pairs"),
    [
        (lambda p: p.set_voltage(1, 12.5), [("CH1:VOLT 12.5", None), OK]),
        (lambda p: p.set_voltage(2, 32), [("CH2:VOLT 32", None), OK]),
        (lambda p: p.set_current_limit(1, 0.75), [("CH1:CURR 0.75", None), OK]),
        (lambda p: p.set_output(2, True), [("INST CH2", None), ("OUTP CH2,ON", None), OK]),
        (lambda p: p.set_output(1, False), [("INST CH1", None), ("OUTP CH1,OFF", None), OK]),
    ],
)
def test_settings(call, pairs):
    with expected_protocol(SiglentSPD3303X, pairs) as psu:
        call(psu)


def test_queries_and_status_bits():
    pairs = [
        ("MEAS:VOLT? CH1", "12.500"),
        ("MEAS:CURR? CH1", "0.250"),
        ("SYST:STAT?", "0x0014"),  # independent, CH1 on
        ("SYST:STAT?", "0x0014"),
    ]
    with expected_protocol(SiglentSPD3303X, pairs) as psu:
        assert psu.measure_voltage(1) == 12.5
        assert psu.measure_current(1) == 0.25
        assert psu.output_enabled(1) is True
        assert psu.output_enabled(2) is False


def test_siglent_error_format():
    pairs = [("CH1:VOLT 5", None), ("SYST:ERR?", "-222 Data out of range"), OK]
    with expected_protocol(SiglentSPD3303X, pairs) as psu, pytest.raises(InstrumentError) as err:
        psu.set_voltage(1, 5)
    assert err.value.errors == [(-222, "Data out of range")]


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.set_voltage(1, 32.01),  # PyMeasure's SPD channel would clamp this
        lambda p: p.set_voltage(2, -1),
        lambda p: p.set_current_limit(1, 3.3),
        lambda p: p.set_voltage(3, 3.3),  # CH3 is fixed by a switch
    ],
)
def test_out_of_range_refused_before_sending(call):
    with expected_protocol(SiglentSPD3303X, []) as psu, pytest.raises(ValueError):
        call(psu)
