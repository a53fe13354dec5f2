"""DUT spec files: the shipped one loads; inconsistent limits are refused by name."""

from pathlib import Path

import pytest
import yaml

from rig.config import ConfigError, load_spec

REPO = Path(__file__).resolve().parents[3]
SPEC = REPO / "specs" / "jbd-16s-lfp.yaml"


def load_mutated(tmp_path: Path, mutate) -> None:
    data = yaml.safe_load(SPEC.read_text())
    mutate(data)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    load_spec(path)


def test_shipped_spec_loads():
    spec = load_spec(SPEC)
    assert spec.protections.cell_ov.threshold_v.nominal == 3.650
    assert spec.protections.cell_uv.release_v.nominal == 2.900
    assert spec.test_conditions.cells_under_test == "all"
    assert spec.cells_under_test == list(range(1, 17))


def test_limits_out_of_order(tmp_path):
    def mutate(d):
        d["protections"]["cell_ov"]["delay_s"]["low"] = 3.0

    with pytest.raises(ConfigError) as err:
        load_mutated(tmp_path, mutate)
    assert "protections.cell_ov.delay_s" in err.value.fields
    assert "low <= nominal <= high" in str(err.value)


def test_release_on_wrong_side(tmp_path):
    def mutate(d):
        d["protections"]["cell_ov"]["release_v"] = {"nominal": 3.7, "low": 3.7, "high": 3.7}

    with pytest.raises(ConfigError, match="release_v must lie below"):
        load_mutated(tmp_path, mutate)


def test_unknown_protection_key(tmp_path):
    def mutate(d):
        d["protections"]["cell_ov"]["treshold_v"] = d["protections"]["cell_ov"].pop("threshold_v")

    with pytest.raises(ConfigError) as err:
        load_mutated(tmp_path, mutate)
    assert "protections.cell_ov.treshold_v" in err.value.fields
    assert "protections.cell_ov.threshold_v" in err.value.fields


def test_cell_under_test_out_of_pack(tmp_path):
    def mutate(d):
        d["test_conditions"]["cells_under_test"] = [1, 17]

    with pytest.raises(ConfigError, match=r"no such cell position\(s\) \[17\]"):
        load_mutated(tmp_path, mutate)


def test_errors_name_the_line(tmp_path):
    text = SPEC.read_text().replace("low: 2.475", "low: -2.475")
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_spec(path)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "-2.475" in x)
    (field,) = err.value.fields
    assert field.startswith("protections.cell_uv.threshold_v")
    assert err.value.line(field) == line
    assert f"line {line}: {field}" in str(err.value)


def test_search_beyond_the_station_limits_is_refused_at_load(tmp_path):
    from rig.config import load_station
    from rig.config.crosscheck import check_spec_against_station

    station = load_station(REPO / "stations" / "sim-16s.yaml")
    text = SPEC.read_text().replace("high: 3.675", "high: 3.99")
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    spec = load_spec(path)  # fine on its own
    with pytest.raises(ConfigError) as err:
        check_spec_against_station(spec, station)
    assert err.value.fields == ["protections.cell_ov.threshold_v"]
    assert "outside the station's 0..4 V" in str(err.value)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "3.99" in x)
    assert err.value.line("protections.cell_ov.threshold_v") == line
    check_spec_against_station(load_spec(SPEC), station)  # the shipped pair is consistent
