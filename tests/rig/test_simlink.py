"""The rig's link to simlab: assignments parsed, start-up failures reported clearly."""

from pathlib import Path

import pytest

from rig.simlink import SimlabError, SimlabProcess, SimlabUsageError, parse_assignment


def test_parse_assignment():
    assert parse_assignment("firmware.cell_ov.delay_s=1.3") == ("firmware.cell_ov.delay_s", 1.3)
    assert parse_assignment("firmware.cell_ov.latching=true") == ("firmware.cell_ov.latching", True)
    assert parse_assignment("firmware.device_name=JBD-X") == ("firmware.device_name", "JBD-X")
    with pytest.raises(SimlabError, match="PATH=VALUE"):
        parse_assignment("firmware.cell_ov.delay_s")


def test_simlab_refusing_its_station_is_a_usage_error(tmp_path):
    log = tmp_path / "simlab.log"
    proc = SimlabProcess(station=tmp_path / "missing.yaml", log=log)
    with pytest.raises(SimlabUsageError, match=r"missing\.yaml: cannot read"):
        proc.start(timeout_s=20)
    assert "missing.yaml" in log.read_text()


def test_simlab_refuses_an_unknown_parameter(tmp_path):
    station = Path(__file__).resolve().parents[2] / "stations" / "sim-16s.yaml"
    proc = SimlabProcess(station=station, sets=["firmware.cell_ov.dellay_s=1"], log=tmp_path / "l")
    with pytest.raises(SimlabUsageError, match=r"did you mean firmware\.cell_ov\.delay_s"):
        proc.start(timeout_s=20)
    assert "dellay_s" in (tmp_path / "l").read_text()


def test_simlab_that_dies_is_reported_with_its_log(tmp_path):
    log = tmp_path / "simlab.log"
    proc = SimlabProcess(station=tmp_path / "x.yaml", sets=["firmware.a=1"], log=log)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.executable", "/bin/false")
        with pytest.raises(SimlabError, match="did not start: it exited") as err:
            proc.start(timeout_s=20)
    assert not isinstance(err.value, SimlabUsageError)


def test_simlab_that_cannot_open_a_server_says_why_in_one_line(tmp_path, monkeypatch):
    """An installation without a package a twin needs (here the BLE peripheral's host
    stack, hidden behind a stand-in that fails to import): simlab's own last word, not
    its traceback, and no usage error (nothing is wrong with the command)."""
    import os
    from pathlib import Path

    fake = tmp_path / "site"
    (fake / "bumble").mkdir(parents=True)
    (fake / "bumble" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'bumble'\", name='bumble')\n"
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")]))
    station = Path(__file__).resolve().parents[2] / "stations" / "sim-16s-jbd-ble.yaml"
    proc = SimlabProcess(station=station, log=tmp_path / "simlab.log")
    with pytest.raises(SimlabError) as err:
        proc.start(timeout_s=60)
    said = str(err.value)
    assert not isinstance(err.value, SimlabUsageError)
    assert "it exited (1): simlab: cannot start the bench: " in said, said
    assert "needs the Python package bumble" in said and "pip install -e ." in said
    assert "Traceback" not in said and "raise " not in said and "never awaited" not in said
