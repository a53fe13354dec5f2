"""The station's interlock loop in simlab: wired to a DAQM907A port line, opened by the
`interlock_open` fault for its time, refused when the station file names it wrongly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simlab.lab import Lab
from simlab.station_file import parse_station

REPO = Path(__file__).resolve().parents[2]
STATION = REPO / "stations" / "sim-16s-interlock.yaml"


def test_the_loop_reads_its_safe_level_until_the_fault_opens_it():
    lab = Lab.from_station_file(STATION, defects=["interlock_open:at_s=2,for_s=3"])
    port = lab.devices["daq"]
    read = lambda: port.handle("DIG:DATA:BYTE? (@201)")  # noqa: E731
    assert read() == "1"  # line 0 at its safe level 1
    lab.advance(2.5)
    assert read() == "0"
    lab.advance(3.0)
    assert read() == "1"  # closed again after for_s


def write(tmp_path: Path, interlock: dict) -> Path:
    doc = yaml.safe_load(STATION.read_text())
    doc["interlock"] = interlock
    path = tmp_path / "station.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("interlock", "message"),
    [
        ({"input": "daq:201", "line": 8}, "interlock.line: a line number 0-7"),
        ({"input": "daq:201", "safe_level": 2}, "interlock.safe_level: 0 or 1"),
        ({"input": "nothere:1"}, "interlock.input: no instrument named 'nothere'"),
        ({"input": "daq:101"}, "already wired to wiring.short"),
    ],
)
def test_a_wrongly_named_loop_is_refused_by_key(tmp_path, interlock, message):
    with pytest.raises(ValueError, match=message):
        parse_station(write(tmp_path, interlock))


def test_a_loop_on_a_channel_that_is_no_digital_port(tmp_path):
    with pytest.raises(ValueError, match=r"interlock.input: daq .* has no channel 120"):
        Lab.from_station_file(write(tmp_path, {"input": "daq:120"}))
