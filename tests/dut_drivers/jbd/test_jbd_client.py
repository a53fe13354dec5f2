"""JbdBms over a real pseudo-terminal against a scripted responder."""

from __future__ import annotations

import pytest

from dut_drivers.base import BmsLink
from dut_drivers.errors import BmsChecksumError, BmsFrameError, BmsNack, BmsTimeout
from dut_drivers.jbd import frames
from dut_drivers.jbd.client import JbdBms

BASIC_REPLY = bytes.fromhex(
    "DD 03 00 1B 17 00 00 00 02 D0 03 E8 00 00 20 78 00 00 00 00 00 00 10 48 03 0F 02"
    " 0B 76 0B 82 FB FF 77"
)
CELLS_REPLY = frames.build_reply(0x04, bytes.fromhex("0CE4 0CE5 0D02 0CE0"))
HW_REPLY = frames.build_reply(0x05, b"JBD-SP04S020")
TIMEOUT_S = 0.2


@pytest.fixture
def bms(pty_bms):
    pty_bms.canned = {0x03: BASIC_REPLY, 0x04: CELLS_REPLY, 0x05: HW_REPLY}
    transcript: list[dict] = []
    link = JbdBms(pty_bms.port, timeout_s=TIMEOUT_S, retries=1, transcript=transcript)
    yield link
    link.close()


def test_good_replies(bms, pty_bms):
    assert isinstance(bms, BmsLink)
    status = bms.read_status()
    assert status.pack_voltage == pytest.approx(58.88)
    assert status.cell_count == 15
    assert bms.read_cell_voltages() == [3.300, 3.301, 3.330, 3.296]
    ident = bms.identity()
    assert (ident.protocol, ident.hardware, ident.firmware) == ("jbd", "JBD-SP04S020", "1.0")
    assert (ident.production_date, ident.cell_count) == ("2016-03-24", 15)
    assert pty_bms.requests[:2] == [frames.build_read(0x03), frames.build_read(0x04)]


def test_transcript(bms):
    bms.read_cell_voltages()
    assert [e["dir"] for e in bms.transcript] == ["tx", "rx"]
    assert bms.transcript[0]["data"] == "dd a5 04 00 ff fc 77"
    assert bms.transcript[1]["data"] == CELLS_REPLY.hex(" ")


def test_bad_checksum(bms, pty_bms):
    pty_bms.script = [BASIC_REPLY[:-3] + b"\x12\x34\x77"]
    with pytest.raises(BmsChecksumError, match="12 34 77"):
        bms.read_status()
    assert len(pty_bms.requests) == 1  # a corrupt reply is not retried


def test_garbled_start_byte(bms, pty_bms):
    pty_bms.script = [b"\x00" + BASIC_REPLY[1:]]
    with pytest.raises(BmsFrameError, match="0xDD"):
        bms.read_status()
    # the leftover bytes are flushed before the next request
    assert bms.read_status().cell_count == 15


def test_short_reply_is_timeout_with_bytes(bms, pty_bms):
    pty_bms.script = [BASIC_REPLY[:10], BASIC_REPLY[:10]]
    with pytest.raises(BmsTimeout, match="cut short") as err:
        bms.read_status()
    assert err.value.received == BASIC_REPLY[:10]
    assert err.value.sent == frames.build_read(0x03)
    assert BASIC_REPLY[:10].hex(" ") in str(err.value)


def test_no_reply(bms, pty_bms):
    pty_bms.canned = {}
    with pytest.raises(BmsTimeout, match="no reply"):
        bms.read_cell_voltages()
    assert len(pty_bms.requests) == 2  # first attempt + one retry


def test_retry_after_dropped_request(bms, pty_bms):
    pty_bms.script = [None]
    assert bms.read_cell_voltages()[0] == pytest.approx(3.3)
    assert pty_bms.requests == [frames.build_read(0x04)] * 2


def test_nack(bms, pty_bms):
    pty_bms.script = [frames.build_reply(0x05, b"", status=0x80)]
    with pytest.raises(BmsNack):
        bms.identity()


def test_loop_url_works():
    # pyserial's loop:// echoes the request; the echo is a request frame, not a reply.
    link = JbdBms("loop://", timeout_s=TIMEOUT_S, retries=0)
    try:
        with pytest.raises(BmsFrameError):
            link.read_status()
    finally:
        link.close()
