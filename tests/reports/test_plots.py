"""Trip plots: one panel per unit, RGB PNGs, long captures decimated without losing spikes."""

from __future__ import annotations

import numpy as np
from PIL import Image

from reports.plots import Plotter, _decimate, panel_units
from rig.results.waveform import Level, Marker, Series, Waveform


def test_panels_in_role_order_and_rgb_png(tmp_path):
    w = Waveform(
        "w",
        "time",
        "s",
        [0.0, 1.0, 2.0],
        series=[
            Series("fet", "flag", [1, 1, 0], "dut"),
            Series("current", "A", [5, 5, 0], "response"),
            Series("cell", "V", [3.3, 3.7, 3.7], "stimulus"),
        ],
        markers=[Marker(1.5, "first tripped")],
        levels=[Level(3.65, "V", "threshold")],
    )
    assert panel_units(w) == ("V", "A", "flag")
    plotter = Plotter()
    plotter.draw(w, tmp_path / "a.png", "title")
    plotter.draw(w, tmp_path / "b.png", "title")  # the reused figure draws the same
    a, b = Image.open(tmp_path / "a.png"), Image.open(tmp_path / "b.png")
    assert a.mode == "RGB" and a.size == b.size
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_decimation_keeps_the_peak():
    x = np.arange(100_000, dtype=float)
    y = np.zeros(100_000)
    y[54_321] = 850.0
    xd, yd = _decimate(x, y)
    assert len(xd) <= 20_000 and yd.max() == 850.0 and np.all(np.diff(xd) >= 0)
