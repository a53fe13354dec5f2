"""The lab file's panel section: where the token comes from, errors by file, line, field."""

from __future__ import annotations

import pytest

from rig.config import ConfigError
from rig.config.lab import lab_path, load_lab
from rig.panel.serve import panel_token


def lab(tmp_path, text: str):
    path = tmp_path / "lab.yaml"
    path.write_text(text)
    return path


def test_token_from_an_environment_variable(tmp_path, monkeypatch):
    config = load_lab(lab(tmp_path, "panel:\n  token_env: BENCH_PANEL_TOKEN\n  port: 9000\n"))
    monkeypatch.setenv("BENCH_PANEL_TOKEN", "s3cret")
    assert panel_token(config.panel, config) == ("s3cret", "$BENCH_PANEL_TOKEN")
    assert (config.panel.bind, config.panel.port) == ("127.0.0.1", 9000)
    monkeypatch.delenv("BENCH_PANEL_TOKEN")
    with pytest.raises(ConfigError, match=r"panel.token_env.*BENCH_PANEL_TOKEN is not set"):
        panel_token(config.panel, config)


def test_token_from_a_file_or_printed(tmp_path):
    (tmp_path / "token").write_text("from-file\n")
    config = load_lab(lab(tmp_path, f"panel:\n  token_file: {tmp_path / 'token'}\n"))
    assert panel_token(config.panel, config)[0] == "from-file"
    token, source = panel_token(None, None)
    assert len(token) >= 32 and source == ""


def test_bad_panel_section_named_by_line_and_field(tmp_path):
    path = lab(tmp_path, "panel:\n  token_env: X\n  token_file: /t\n  colour: red\n")
    with pytest.raises(ConfigError) as exc:
        load_lab(path)
    text = str(exc.value)
    assert "lab.yaml" in text and "panel.colour" in text and "line 4" in text
    with pytest.raises(ConfigError, match="token_env or token_file, not both"):
        load_lab(lab(tmp_path, "panel:\n  token_env: X\n  token_file: /t\n"))


def test_found_by_option_then_environment_then_station(tmp_path, monkeypatch):
    monkeypatch.delenv("RIG_LAB", raising=False)
    assert lab_path(None, None, None) is None
    assert str(lab_path(None, "from-station.yaml", None)) == "from-station.yaml"
    monkeypatch.setenv("RIG_LAB", "from-env.yaml")
    assert str(lab_path(None, "from-station.yaml", None)) == "from-env.yaml"
    assert str(lab_path("given.yaml", "from-station.yaml", None)) == "given.yaml"
