"""Config files are untrusted input: each hostile one is a ConfigError, quickly, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.config import ConfigError, load_spec, load_station

REPO = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "hostile.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
        ("a: !custom 1\n", "not valid YAML"),
        ("[" * 5000 + "]" * 5000, "nested|nesting depth"),
        ("a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 60)), "nested"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "aliases are expanded",
        ),
        (b"name: \xff\xfe\n", "UTF-8"),
        ("just a string", "expected a mapping"),
        ("a: [unclosed\n", "not valid YAML: line"),
    ],
    ids=[
        "python-tag",
        "unknown-tag",
        "deep-flow",
        "deep-block",
        "alias-bomb",
        "binary",
        "scalar",
        "syntax",
    ],
)
def test_hostile_yaml_is_a_config_error(tmp_path, text, words):
    path = write(tmp_path, text)
    for load in (load_station, load_spec):
        with pytest.raises(ConfigError, match=words) as err:
            load(path)
        assert str(path) in str(err.value)


def test_huge_file_is_refused_unread(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB of nothing
    with pytest.raises(ConfigError, match="a config file is < 1 MiB"):
        load_station(path)


def test_wrong_types_and_missing_fields_name_their_lines(tmp_path):
    text = (REPO / "stations" / "sim-16s.yaml").read_text()
    text = text.replace("baudrate: 9600", "baudrate: fast").replace("  seed: 1\n", "  seed: []\n")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_station(path)
    lines = text.splitlines()
    assert err.value.line("dut.baudrate") == lines.index("  baudrate: fast") + 1
    assert err.value.line("simlab.seed") == lines.index("  seed: []") + 1
    assert "Traceback" not in str(err.value)


def test_a_limit_beyond_the_wired_model_is_refused_by_line(tmp_path):
    from rig.config.crosscheck import check_station_against_models

    text = (REPO / "stations" / "sim-16s.yaml").read_text()
    text = text.replace("charge_current: {max: 10.0}", "charge_current: {max: 20.0}")
    path = write(tmp_path, text)
    station = load_station(path)  # each field fine on its own
    with pytest.raises(ConfigError) as err:
        check_station_against_models(station)
    assert err.value.fields == ["limits.charge_current.max"]
    assert "20 A is beyond what charger (Keysight E36234A, the charger) can do: 10.3 A" in str(
        err.value
    )
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "max: 20.0" in x)
    assert err.value.line("limits.charge_current.max") == line


def test_an_unknown_instrument_model_names_its_line(tmp_path):
    text = (
        (REPO / "stations" / "sim-16s.yaml")
        .read_text()
        .replace("model: Rigol DL3021", "model: Acme Load 9000")
    )
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="known models") as err:
        load_station(path)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "Acme" in x)
    assert err.value.line("instruments.load.model") == line
