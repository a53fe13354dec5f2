"""The campaign's spec sections (wiring faults, standby, heating, inverter limits, cell
imbalance) and the station's NTC read-back and thermocouples: loaded, checked, and named
by file, line and field when wrong."""

from pathlib import Path

import pytest
import yaml

from rig.config import ConfigError, load_spec, load_station

REPO = Path(__file__).resolve().parents[3]
SPEC = REPO / "specs" / "jbd-16s-lfp.yaml"
SIM = REPO / "stations" / "sim-16s.yaml"


def mutated(tmp_path: Path, source: Path, mutate) -> Path:
    data = yaml.safe_load(source.read_text())
    mutate(data)
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump(data))
    return path


def test_shipped_spec_states_the_campaign():
    spec = load_spec(SPEC)
    assert spec.protections.cell_imbalance.threshold_v.nominal == 0.5
    assert spec.wiring_faults.sense_wire.opens == "both"
    assert spec.standby.wakes_on == ["charger", "communication"]
    assert spec.heating.current_a == 15.0
    limits = spec.inverter_limits
    assert limits.expected(27.5, 50) == (50, 100) and limits.expected(27.5, 95) == (20, 100)
    assert limits.expected(-15, 50) == (0, 20) and limits.expected(200, 50) is None
    assert spec.unstated_functions() == set()


def test_a_spec_without_the_sections_makes_their_plans_not_applicable(tmp_path):
    def drop(d):
        for key in ("wiring_faults", "standby", "heating", "inverter_limits"):
            d.pop(key)

    spec = load_spec(mutated(tmp_path, SPEC, drop))
    assert {"wiring_faults", "standby", "heating", "inverter_limits"} <= spec.unstated_functions()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda d: d["inverter_limits"]["by_temperature"][1].update(low=1),
            "bands must follow each other",
        ),
        (lambda d: d["inverter_limits"]["by_soc"][0].update(high=0), "low < high"),
        (lambda d: d["wiring_faults"].update(cell_low_v=3.5), "cell_low_v must lie below"),
        (lambda d: d["standby"]["asleep_current_a"].update(low=1.0), "standby.asleep_current_a"),
        (lambda d: d["heating"].update(current_a=-1), "heating.current_a"),
        (
            lambda d: d["protections"]["cell_imbalance"]["release_v"].update(high=0.6),
            "release_v must lie below",
        ),
    ],
)
def test_a_bad_campaign_section_is_named(tmp_path, mutate, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_spec(mutated(tmp_path, SPEC, mutate))


def test_the_station_wires_a_dmm_on_each_ntc_line_and_a_thermocouple_on_the_fets():
    station = load_station(SIM)
    assert str(station.wiring.thermistors[1].readback) == "daq:201"
    assert str(station.wiring.thermocouples["fets"].channel) == "daq:203"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["wiring"]["thermistors"][1].update(readback="dmm:201"),
            "wiring.thermistors.1.readback: no instrument named 'dmm'",
        ),
        (
            lambda d: d["wiring"]["thermocouples"]["fets"].update(channel="daq:102"),
            "daq:102 is already wired",
        ),
        (
            lambda d: d["wiring"]["thermocouples"].update(board={"channel": "daq:204"}),
            "thermocouples",
        ),
    ],
)
def test_a_bad_readback_or_thermocouple_is_named(tmp_path, mutate, message):
    with pytest.raises(ConfigError, match=message):
        load_station(mutated(tmp_path, SIM, mutate))
