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


def test_shipped_spec_states_the_current_and_temperature_protections():
    spec = load_spec(SPEC)
    p = spec.protections
    assert p.charge_oc.threshold_a.nominal == 8.0 and p.charge_oc.recovery == "delay"
    assert p.discharge_oc2.delay_s.high < p.discharge_oc1.delay_s.low
    assert p.short_circuit.delay_s.nominal == pytest.approx(200e-6)
    assert p.charge_ut.threshold_c.nominal == 0.0 and p.opens("charge_ut") == {"charge"}
    assert p.opens("discharge_oc1") == {"discharge"} and p.opens("cell_ov") == {"charge"}
    assert spec.ntcs_under_test == [1, 2]
    assert spec.test_conditions.capture.sample_interval_s == pytest.approx(1e-6)
    four = load_spec(REPO / "specs" / "jbd-4s-lfp.yaml")  # states none of them: still valid
    assert four.protections.charge_oc is None and four.ntcs_under_test == []


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (
            lambda d: d["protections"]["charge_ot"].update(
                release_c={"nominal": 51, "low": 50, "high": 52}
            ),
            "protections",
            "charge_ot.release_c must lie below charge_ot.threshold_c",
        ),
        (
            lambda d: d["protections"]["discharge_ut"].update(
                release_c={"nominal": -25, "low": -26, "high": -24}
            ),
            "protections",
            "discharge_ut.release_c must lie above discharge_ut.threshold_c",
        ),
        (
            lambda d: d["protections"]["discharge_oc2"]["threshold_a"].update(low=20.5),
            "protections",
            "discharge_oc2.threshold_a must lie above discharge_oc1's",
        ),
        (
            lambda d: d["protections"]["discharge_oc2"]["delay_s"].update(high=0.9),
            "protections",
            "discharge_oc2.delay_s must lie below discharge_oc1's",
        ),
        (
            lambda d: d["protections"]["short_circuit"]["threshold_a"].update(low=25.0),
            "protections",
            "short_circuit.threshold_a must lie above the over-current levels",
        ),
        (
            lambda d: d["protections"]["discharge_oc1"].update(recovery="charger_removed"),
            "protections",
            "only charge_oc may recover on charger removal",
        ),
        (
            lambda d: d["protections"]["charge_oc"].pop("release_delay_s"),
            "protections.charge_oc",
            "release_delay_s is required unless the protection is latching",
        ),
        (
            lambda d: d["protections"]["charge_ut"].update(opens="discharge"),
            "protections",
            "charge_ut.opens must include the charge FET",
        ),
        (
            lambda d: d["protections"]["charge_oc"]["threshold_a"].update(low=-1.0),
            "protections.charge_oc.threshold_a.low",
            "is negative; a current cannot be",
        ),
        (
            lambda d: d["dut"].update(ntc_count=0),
            "",
            "dut.ntc_count: the spec states charge_ot",
        ),
        (
            lambda d: d["test_conditions"].update(ntcs_under_test=[3]),
            "",
            "no such NTC input(s) [3]",
        ),
        (
            lambda d: d["test_conditions"]["capture"].update(pretrigger_points=5000),
            "test_conditions.capture",
            "pretrigger_points must be below points",
        ),
    ],
    ids=[
        "ot-release-above",
        "ut-release-below",
        "ocd2-below-ocd1",
        "ocd2-slower",
        "short-below-ocd",
        "charger-removed-on-discharge",
        "no-recovery-delay",
        "utc-opens-discharge",
        "negative-current",
        "no-ntcs",
        "ntc-not-on-board",
        "pretrigger-too-long",
    ],
)
def test_new_protections_are_checked_by_name(tmp_path, mutate, field, message):
    with pytest.raises(ConfigError) as err:
        load_mutated(tmp_path, mutate)
    assert message in str(err.value)
    assert any(f.startswith(field) for f in err.value.fields), err.value.fields


def test_ntcs_under_test_must_be_wired_at_the_station(tmp_path):
    from rig.config import load_station
    from rig.config.crosscheck import check_spec_against_station

    station = load_station(REPO / "stations" / "sim-16s.yaml")
    data = yaml.safe_load(SPEC.read_text())
    data["dut"]["ntc_count"] = 3
    data["test_conditions"]["ntcs_under_test"] = [3]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        check_spec_against_station(load_spec(path), station)
    assert err.value.fields == ["test_conditions.ntcs_under_test"]
    assert "NTC input(s) [3]" in str(err.value)
