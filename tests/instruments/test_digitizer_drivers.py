"""Byte-level protocol of the digitizers: Keysight 34465A (digitize) and Rigol DS1104Z."""

from __future__ import annotations

import numpy as np
import pytest
from pymeasure.test import expected_protocol

from instruments.digitizers.keysight_34465a import Keysight34465A
from instruments.digitizers.rigol_ds1000z import RigolDS1104Z, plan_acquisition
from instruments.errors import InstrumentReplyError
from instruments.roles import Digitizer

OK = ("SYST:ERR?", '+0,"No error"')
RIGOL_OK = ("SYST:ERR?", '0,"No error"')


@pytest.mark.parametrize("cls", [Keysight34465A, RigolDS1104Z])
def test_is_a_digitizer(cls):
    with expected_protocol(cls, []) as dig:
        assert isinstance(dig, Digitizer)


def test_34465a_capture_set_up_trigger_and_arm():
    pairs = [
        ("CONF:VOLT:DC 10", None),
        OK,
        ("VOLT:DC:ZERO:AUTO OFF", None),
        OK,
        ("VOLT:DC:APER 2e-05", None),
        OK,
        ("SAMP:SOUR TIM", None),
        OK,
        ("SAMP:TIM 2e-05", None),
        OK,
        ("SAMP:COUN 5000", None),
        OK,
        ("SAMP:COUN:PRET 500", None),
        OK,
        ("SAMP:TIM?", "+2.00000000E-05"),
        ("TRIG:SOUR INT", None),
        OK,
        ("TRIG:LEV 2.5", None),
        OK,
        ("TRIG:SLOP NEG", None),
        OK,
        ("INIT", None),
        OK,
        ("STAT:OPER:COND?", "+48"),
        ("STAT:OPER:COND?", "+16"),
        ("STAT:OPER:COND?", "+0"),
    ]
    with expected_protocol(Keysight34465A, pairs) as dmm:
        settings = dmm.configure_capture(1, 5.0, 20e-6, 5000, 500)
        assert (settings.sample_interval_s, settings.full_scale_v) == (20e-6, 10.0)
        dmm.set_trigger(1, 2.5, rising=False)
        dmm.arm()
        assert [dmm.acquisition_state() for _ in range(3)] == ["armed", "triggered", "complete"]


def _configured_34465a(points: int) -> list:
    return [
        ("CONF:VOLT:DC 1", None),
        OK,
        ("VOLT:DC:ZERO:AUTO OFF", None),
        OK,
        ("VOLT:DC:APER 0.001", None),
        OK,
        ("SAMP:SOUR TIM", None),
        OK,
        ("SAMP:TIM 0.001", None),
        OK,
        (f"SAMP:COUN {points}", None),
        OK,
        ("SAMP:COUN:PRET 1", None),
        OK,
        ("SAMP:TIM?", "+1.00000000E-03"),
    ]


def test_34465a_fetch_block_and_ascii():
    block = "+1.00000000E-01,+2.00000000E-01,-9.90000000E+37"
    pairs = [
        *_configured_34465a(3),
        ("R? 3", f"#2{len(block)}{block}\n".encode()),
        ("FETC?", block),
    ]
    with expected_protocol(Keysight34465A, pairs) as dmm:
        dmm.configure_capture(1, 0.5, 1e-3, 3, 1)
        cap = dmm.fetch(1, binary=True)
        assert list(cap.values[:2]) == [0.1, 0.2] and cap.values[2] == -9.9e37
        assert list(cap.times) == pytest.approx([-1e-3, 0.0, 1e-3])
        assert list(dmm.fetch(1, binary=False).values[:2]) == [0.1, 0.2]


@pytest.mark.filterwarnings("ignore:Breaking on termination")
def test_34465a_short_or_garbled_block_is_a_typed_error():
    pairs = [*_configured_34465a(3), ("R? 3", b"+1.0,+2.0\n")]
    with expected_protocol(Keysight34465A, pairs) as dmm:
        dmm.configure_capture(1, 0.5, 1e-3, 3, 1)
        with pytest.raises(InstrumentReplyError, match="block"):
            dmm.fetch(1)


@pytest.mark.parametrize(
    "args",
    [
        (1, 1500.0, 20e-6, 100, 10),
        (1, 5.0, 10e-6, 100, 10),
        (1, 5.0, 20e-6, 100, 100),
        (2, 5, 1, 10, 1),
    ],
)
def test_34465a_refuses_before_any_byte(args):
    with expected_protocol(Keysight34465A, []) as dmm, pytest.raises(ValueError):
        dmm.configure_capture(*args)


def test_ds1000z_plan_is_at_least_as_fine_and_long_as_asked():
    tb, depth, offset, dt, pre = plan_acquisition(1e-6, 2000, 200)
    assert dt <= 1e-6 and min(depth, round(12 * tb / dt)) * dt >= 2000e-6
    assert pre * dt == pytest.approx(200e-6) and abs(offset) <= 6 * tb
    with pytest.raises(ValueError, match="no DS1000Z"):
        plan_acquisition(1e-10, 10, 1)


def test_ds1000z_capture_set_up_and_trigger():
    tb, depth, offset, _dt, _pre = plan_acquisition(1e-6, 2000, 200)
    pairs = [
        (":CHAN1:DISP 1", None),
        RIGOL_OK,
        (":CHAN2:DISP 0", None),
        RIGOL_OK,
        (":CHAN3:DISP 0", None),
        RIGOL_OK,
        (":CHAN4:DISP 0", None),
        RIGOL_OK,
        (":CHAN1:PROB 1", None),
        RIGOL_OK,
        (":CHAN1:SCAL 1", None),
        RIGOL_OK,
        (":CHAN1:OFFS 0", None),
        RIGOL_OK,
        (f":TIM:MAIN:SCAL {tb:g}", None),
        RIGOL_OK,
        (f":ACQ:MDEP {depth}", None),
        RIGOL_OK,
        (f":TIM:MAIN:OFFS {offset:g}", None),
        RIGOL_OK,
        (":ACQ:SRAT?", f"{depth / (12 * tb):e}"),
        (":TRIG:MODE EDGE", None),
        RIGOL_OK,
        (":TRIG:EDG:SOUR CHAN1", None),
        RIGOL_OK,
        (":TRIG:EDG:SLOP POS", None),
        RIGOL_OK,
        (":TRIG:EDG:LEV 0.2", None),
        RIGOL_OK,
        (":SING", None),
        RIGOL_OK,
        (":TRIG:STAT?", "WAIT"),
        (":TRIG:STAT?", "TD"),
        (":TRIG:STAT?", "STOP"),
    ]
    with expected_protocol(RigolDS1104Z, pairs) as scope:
        settings = scope.configure_capture(1, 3.5, 1e-6, 2000, 200)
        assert settings.full_scale_v == 4.0 and settings.sample_interval_s <= 1e-6
        scope.set_trigger(1, 0.2)
        scope.arm()
        assert [scope.acquisition_state() for _ in range(3)] == ["armed", "triggered", "complete"]


def test_ds1000z_fetch_scales_bytes_with_the_preamble():
    codes = bytes([127, 152, 10, 127])  # 0 V, +1 V (25 levels at 1 V/div), a newline byte
    payload = b"#9000000004" + codes + b"\n"
    pairs = [
        (":WAV:SOUR CHAN1", None),
        RIGOL_OK,
        (":WAV:MODE RAW", None),
        RIGOL_OK,
        (":WAV:FORM BYTE", None),
        RIGOL_OK,
        (":WAV:PRE?", "0,2,4,1,1.000000e-06,-2.000000e-06,0,4.000000e-02,0,127"),
        (":WAV:STAR 1", None),
        RIGOL_OK,
        (":WAV:STOP 4", None),
        RIGOL_OK,
        (":WAV:DATA?", payload),
    ]
    with expected_protocol(RigolDS1104Z, pairs) as scope:
        cap = scope.fetch(1)
    assert list(cap.values) == pytest.approx([0.0, 1.0, (10 - 127) * 0.04, 0.0])
    assert cap.pretrigger_points == 2 and cap.sample_interval_s == 1e-6
    assert list(np.round(cap.times * 1e6)) == [-2, -1, 0, 1]


def test_ds1000z_refuses_before_any_byte():
    with expected_protocol(RigolDS1104Z, []) as scope:
        with pytest.raises(ValueError, match="channel"):
            scope.configure_capture(5, 1.0, 1e-6, 100, 10)
        with pytest.raises(ValueError, match="full scale"):
            scope.configure_capture(1, 100.0, 1e-6, 100, 10)
        with pytest.raises(ValueError, match="pretrigger"):
            scope.configure_capture(1, 1.0, 1e-6, 100, 100)


def test_ds1000z_unknown_trigger_state_is_a_typed_error():
    with (
        expected_protocol(RigolDS1104Z, [(":TRIG:STAT?", "BUSY")]) as scope,
        pytest.raises(InstrumentReplyError, match="TRIG:STAT"),
    ):
        scope.acquisition_state()
