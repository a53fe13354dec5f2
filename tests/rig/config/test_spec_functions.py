"""The spec's balancing, state-of-charge and communications sections: checked on load,
checked against the station, and a DUT spec without one makes its plans not applicable."""

from pathlib import Path

import pytest
import yaml

from rig.config import ConfigError, load_spec, load_station
from rig.config.crosscheck import check_spec_against_station

REPO = Path(__file__).resolve().parents[3]
SPEC = REPO / "specs" / "jbd-16s-lfp.yaml"


def mutated(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(SPEC.read_text())
    mutate(data)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_shipped_spec_states_every_function():
    spec = load_spec(SPEC)
    assert spec.balancing is not None and spec.balancing.only_while_charging
    assert spec.state_of_charge is not None and spec.state_of_charge.charge_ah == 25.0
    assert spec.communications is not None and spec.communications.identity == {}
    assert spec.unstated_functions() == set()


def test_a_missing_section_is_a_function_not_stated(tmp_path):
    path = mutated(tmp_path, lambda d: (d.pop("balancing"), d.pop("communications")))
    assert load_spec(path).unstated_functions() == {"balancing", "communications"}


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda d: d["balancing"].update(bleed_at_v=3.41), "balancing", "bleed_at_v"),
        (
            lambda d: d["state_of_charge"].update(soc_window_pct=[90, 10]),
            "state_of_charge",
            "soc_window_pct",
        ),
        (lambda d: d["state_of_charge"].update(charge_ah=-1), "state_of_charge.charge_ah", ""),
        (
            lambda d: d["communications"]["identity"].update(colour="red"),
            "communications.identity.colour",
            "",
        ),
    ],
    ids=["bleed-below-start", "window-reversed", "negative-charge", "unknown-identity-field"],
)
def test_bad_sections_are_refused_by_field(tmp_path, mutate, field, message):
    with pytest.raises(ConfigError) as err:
        load_spec(mutated(tmp_path, mutate))
    assert any(f.startswith(field) for f in err.value.fields), err.value.fields
    assert message in str(err.value)


def test_a_charge_current_the_emulators_cannot_carry_is_refused(tmp_path):
    station = load_station(REPO / "stations" / "sim-16s.yaml")
    spec = load_spec(mutated(tmp_path, lambda d: d["state_of_charge"].update(current_a=5.0)))
    with pytest.raises(ConfigError) as err:
        check_spec_against_station(spec, station)
    assert err.value.fields == ["state_of_charge.current_a"]
    assert "cell current limit 0..3 A" in str(err.value)
