"""Plots drawn during the run: the report builder finds them current and keeps them."""

from __future__ import annotations

from reports.build import build_reports
from reports.live import LivePlots, follow


def test_plots_drawn_live_are_kept_by_the_report(tmp_path, make_run):
    run_dir = tmp_path / "20261125T130000-00004"
    make_run(run_dir)
    passes = iter([False] * 50)  # stop once the store is read through
    drawn = follow(run_dir, lambda timeout: next(passes, True) if timeout == 0 else True)
    assert drawn == 5
    images = sorted((run_dir / "plots").glob("*.jpg"))
    before = {p: p.stat().st_mtime_ns for p in images}
    result = build_reports(run_dir, pdf=False)
    assert sorted(result.plots) == images
    assert {p: p.stat().st_mtime_ns for p in images} == before  # none redrawn
    assert follow(run_dir, lambda timeout: timeout > 0) == 0  # nothing left to draw


def test_the_child_stops_when_asked(tmp_path):
    live = LivePlots.start(tmp_path / "not-yet-written")
    assert live is not None
    live.stop(timeout_s=30)
    assert live.proc.returncode == 0
