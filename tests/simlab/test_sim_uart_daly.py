"""simlab's Daly request parser: finds frames behind noise in any chunking, never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simlab.servers.uart_daly import FrameParser, request

noise = st.binary(max_size=40).map(lambda b: b.replace(b"\xa5", b""))


@settings(max_examples=200, deadline=None)
@given(noise, st.sampled_from([0x90, 0x93, 0x95, 0x98]), st.lists(st.integers(1, 8), min_size=1))
def test_parser_finds_a_request_behind_noise_in_any_chunking(junk, command, cuts):
    stream = junk + request(command) + junk
    parser, found, pos = FrameParser(), [], 0
    for cut in cuts * 20:
        if pos >= len(stream):
            break
        found += parser.feed(stream[pos : pos + cut])
        pos += cut
    found += parser.feed(stream[pos:])
    assert found == [(0x40, command, bytes(8))]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_parser_never_raises(data):
    for address, command, payload in FrameParser().feed(data):
        assert len(payload) == 8 and 0 <= address <= 255 and 0 <= command <= 255
