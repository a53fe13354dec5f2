"""The transcript writes what the general JSON encoder would, one whole line per write."""

from __future__ import annotations

import json
import math

import pytest

from rig.station.transcript import Transcript, line_of

ENTRIES = [
    {"dir": "tx", "data": "MEAS:CURR? (@1)", "t": 43021.214207441},
    {"dir": "rx", "data": 'Keysight "33522B",\\ µ\u2009Ω\n\x00', "t": 1e-7},
    {"dir": "rx", "data": "+1.00000E+00", "t": 123456789.0},
    {"dir": "tx", "data": b"\xdd\xa5\x03\x00\xff\xfd\x77", "t": 1.5},  # a BMS frame
    {"dir": "retry", "data": "x", "t": 2},  # an int clock
    {"data": "x", "dir": "tx", "t": 1.0},  # another key order
    {"dir": "tx", "data": "x", "t": 1.0, "note": "extra"},
]


@pytest.mark.parametrize("entry", ENTRIES)
def test_line_is_what_json_dumps_writes(entry: dict) -> None:
    assert line_of(entry) == json.dumps(entry, default=str) + "\n"


@pytest.mark.parametrize("t", [math.inf, -math.inf])
def test_a_clock_that_is_not_finite_takes_the_general_encoder(t: float) -> None:
    entry = {"dir": "tx", "data": "x", "t": t}
    assert line_of(entry) == json.dumps(entry, default=str) + "\n"


def test_every_append_is_in_the_file_before_close(tmp_path) -> None:
    path = tmp_path / "t" / "load.jsonl"
    transcript = Transcript(path)
    for entry in ENTRIES:
        transcript.append(entry)
        # on disk (in the kernel) already: a killed run loses nothing it appended
        assert path.read_text(encoding="utf-8").count("\n") == transcript.count
    transcript.close()
    transcript.append(ENTRIES[0])  # closed: ignored, as before
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        json.loads(json.dumps(e, default=str)) for e in ENTRIES
    ]
