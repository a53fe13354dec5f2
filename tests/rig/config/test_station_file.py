"""Station files: the shipped one loads; a bad one names the file and the field."""

from pathlib import Path

import pytest
import yaml

from rig.config import ConfigError, load_station

REPO = Path(__file__).resolve().parents[3]
SIM = REPO / "stations" / "sim-16s.yaml"


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "station.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def sim_data() -> dict:
    return yaml.safe_load(SIM.read_text())


def test_shipped_sim_station_loads():
    station = load_station(SIM)
    assert station.simulated
    assert len(station.wiring.cells) == 16
    assert str(station.wiring.cells[5]) == "cellsim_b:1"
    assert station.limits.cell_voltage.max == 4.0


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (
            lambda d: d["limits"]["cell_voltage"].update(max="high"),
            "limits.cell_voltage.max",
            "number",
        ),
        (
            lambda d: d["instruments"]["charger"].update(colour="red"),
            "instruments.charger.colour",
            "unknown key",
        ),
        (
            lambda d: d["instruments"]["load"].update(model="Acme 9000"),
            "instruments.load.model",
            "known models",
        ),
        (
            lambda d: d["wiring"]["cells"].update({3: "cellsim_a"}),
            "wiring.cells.3",
            "instrument:channel",
        ),
        (lambda d: d["dut"].pop("cell_count"), "dut.cell_count", "required"),
        (lambda d: d["limits"].pop("pack_voltage"), "limits.pack_voltage", "required"),
        (lambda d: d["dut"].update(protocol="acme"), "dut.protocol", "known: daly, jbd"),
        (lambda d: d["dut"].pop("port"), "dut", "UART protocol: give dut.port"),
    ],
)
def test_bad_field_is_named(tmp_path, mutate, field, words):
    data = sim_data()
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_station(path)
    assert field in err.value.fields
    assert str(path) in str(err.value)
    assert words in str(err.value)


def test_wiring_to_missing_instrument(tmp_path):
    data = sim_data()
    data["wiring"]["cells"][16] = "cellsim_z:4"
    with pytest.raises(ConfigError, match="no instrument named 'cellsim_z'"):
        load_station(write(tmp_path, data))


def test_gap_in_cell_positions(tmp_path):
    data = sim_data()
    del data["wiring"]["cells"][7]
    with pytest.raises(ConfigError, match="without gaps"):
        load_station(write(tmp_path, data))


def test_channel_wired_twice(tmp_path):
    data = sim_data()
    data["wiring"]["cells"][2] = "cellsim_a:1"
    with pytest.raises(ConfigError, match="wired to both cell 1 and cell 2"):
        load_station(write(tmp_path, data))


def test_sim_resource_on_real_station(tmp_path):
    data = sim_data()
    data["simulated"] = False
    with pytest.raises(ConfigError, match="'sim' on a real station"):
        load_station(write(tmp_path, data))


def test_not_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"(?s)broken.yaml.*not valid YAML: line"):
        load_station(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read file"):
        load_station(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (
            lambda d: d["wiring"]["thermistors"][1].pop("beta_k"),
            "wiring.thermistors.1",
            "needs both r25_ohm and beta_k",
        ),
        (
            lambda d: d["wiring"]["thermistors"][2].update(table=[[0, 30000], [25, 32000]]),
            "wiring.thermistors.2",
            "not both",
        ),
        (
            lambda d: d["wiring"]["thermistors"].update(
                {3: {"channel": "ntc_2:1", "table": [[0, 30000], [25, 32000]]}}
            ),
            "wiring.thermistors.3",
            "fall as temperature rises",
        ),
        (
            lambda d: d["wiring"]["digitizer"].update(measures="cell_voltage"),
            "wiring.digitizer.measures",
            "discharge_current",
        ),
        (
            lambda d: d["wiring"]["digitizer"].update(scale=0),
            "wiring.digitizer.scale",
            "greater than 0",
        ),
        (
            lambda d: d["wiring"]["switch"]["ntc_1_open"].update(action="melt"),
            "wiring.switch.ntc_1_open.action",
            "open_cell_sense",
        ),
    ],
)
def test_bad_new_role_field_is_named(tmp_path, mutate, field, words):
    data = sim_data()
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_station(path)
    assert field in err.value.fields
    assert words in str(err.value)


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (
            lambda d: d["wiring"].update(short="daq:102"),
            "wiring.switch.cell_5_sense_open.channel: daq:102 is already wired as wiring.short",
        ),
        (lambda d: d["wiring"].update(short="nodaq:1"), "wiring.short: no instrument named"),
        (
            lambda d: d["wiring"]["switch"]["ntc_2_open"].update(target=3),
            "wiring.switch.ntc_2_open.target: NTC 3",
        ),
        (
            lambda d: d["wiring"]["switch"]["cell_5_sense_open"].update(target=17),
            "wiring.switch.cell_5_sense_open.target: cell 17",
        ),
        (lambda d: d["limits"].update(temperature={"min": 30, "max": 60}), "must hold 25"),
    ],
)
def test_inconsistent_new_role_wiring(tmp_path, mutate, words):
    data = sim_data()
    mutate(data)
    with pytest.raises(ConfigError, match=words):
        load_station(write(tmp_path, data))


MODULE = REPO / "stations" / "sim-16s-module.yaml"


def test_module_station_wires_the_bms_supply_relay():
    station = load_station(MODULE)
    assert str(station.wiring.dut_supply) == "daq:102"


@pytest.mark.parametrize(
    ("channel", "words"),
    [
        ("daq", "instrument:channel"),
        ("nodaq:102", "no instrument named 'nodaq'"),
        ("psu:1", "not a switch"),
        ("daq:101", "already wired as wiring.short"),
        ("daq:201", "not slot·100 + n on a module daq holds (modules: slot 1: DAQM903A)"),
        ("daq:121", "the DAQM903A in slot 1 has channels 101-120"),
        ("daq:205", "the DAQM907A in slot 2 has no relays"),
    ],
)
def test_bad_supply_relay_channel_names_file_line_and_field(tmp_path, channel, words):
    """The supply relay must be a channel that exists on one of the station's switches,
    wired to nothing else: the file, the line and the field are named."""
    from rig.config.crosscheck import check_station_against_models

    text = MODULE.read_text()
    line = text[: text.index("dut_supply: daq:102")].count("\n") + 1
    path = tmp_path / "station.yaml"
    if channel == "daq:205":  # a multifunction module in slot 2
        text = text.replace("modules: [DAQM903A]", "modules: [DAQM903A, DAQM907A]")
    path.write_text(text.replace("dut_supply: daq:102", f"dut_supply: {channel}"))
    with pytest.raises(ConfigError) as err:
        check_station_against_models(load_station(path))
    assert err.value.path == path and words in str(err.value)
    assert err.value.fields == ["wiring.dut_supply"]
    assert err.value.line("wiring.dut_supply") == line
