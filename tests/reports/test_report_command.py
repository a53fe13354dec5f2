"""`rig report RUN_DIR` and `rig report --compare RUN_A RUN_B`, in process."""

from __future__ import annotations

from typer.testing import CliRunner

from rig.cli import app


def test_rebuilds_a_killed_run_and_says_it_is_incomplete(tmp_path, make_run):
    run_dir = tmp_path / "20261125T120000-00003"
    make_run(run_dir, killed=True)
    result = CliRunner().invoke(
        app, ["report", str(run_dir), "--no-pdf", "--approved-by", "C. Approver"]
    )
    assert result.exit_code == 0, result.output
    assert "verdict INCOMPLETE" in result.output
    assert "torn last line" in result.output
    assert "4 measurement(s) taken in 3 plan(s)" in result.output
    html = (run_dir / "report.html").read_text()
    assert "C. Approver" in html and "A. Tester" in html
    assert (run_dir / "junit.xml").is_file() and (run_dir / "allure-results").is_dir()
    assert not (run_dir / "report.pdf").exists()


def test_not_a_run_folder_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "not a run folder" in result.output


def test_compare_exits_one_when_something_changed(tmp_path, make_run):
    a, b = tmp_path / "a", tmp_path / "b"
    make_run(a, killed=True)
    make_run(b)
    result = CliRunner().invoke(app, ["report", "--compare", str(a), str(b)])
    assert result.exit_code == 1, result.output
    assert "only in B" in result.output
