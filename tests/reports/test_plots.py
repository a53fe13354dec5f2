"""Trip plots: one panel per unit, the threshold and the trip marked, long captures
decimated without losing spikes."""

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


def test_ticks_are_round_and_inside_the_range():
    from reports.plots import nice_ticks

    assert nice_ticks(0.0, 10.0, 6) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert nice_ticks(3.575, 3.68, 5) == [3.575, 3.6, 3.625, 3.65, 3.675]
    ticks = nice_ticks(-0.13, 66.4, 8)
    assert ticks[0] >= -0.13 and ticks[-1] <= 66.4 and len(ticks) <= 8
    assert nice_ticks(1.0, 1.0, 5) == [1.0]  # no span: one tick, no division by zero


def _colour_pixels(path, hex_colour: str, tolerance: int = 40) -> int:
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - target).sum(axis=2) < tolerance).sum())


def test_the_threshold_and_the_trip_are_drawn(tmp_path):
    """The level and the trip marker are on the picture, in their own colours."""
    from reports.plots import LEVEL_STYLES

    LEVEL_COLOUR = dict((k, c) for k, c, _ in LEVEL_STYLES)["trip level"]

    def wave(levels, markers):
        return Waveform(
            "w", "time", "s", [0.0, 1.0, 2.0, 3.0],
            series=[Series("current", "A", [0.5, 0.5, 0.0, 0.0], "response")],
            markers=markers, levels=levels,
        )  # fmt: skip

    plotter = Plotter()
    plotter.draw(wave([Level(0.1, "A", "trip level")], [Marker(1.5, "trip seen")]),
                 tmp_path / "marked.jpg", "marked")  # fmt: skip
    plotter.draw(wave([], []), tmp_path / "bare.jpg", "bare")
    assert _colour_pixels(tmp_path / "marked.jpg", LEVEL_COLOUR) > 200
    assert _colour_pixels(tmp_path / "marked.jpg", "#c62828") > 100  # the trip, in red
    assert _colour_pixels(tmp_path / "bare.jpg", LEVEL_COLOUR) < 20
    assert _colour_pixels(tmp_path / "bare.jpg", "#c62828") < 20


def test_a_gap_in_a_series_and_an_empty_waveform_still_draw(tmp_path):
    w = Waveform("w", "time", "s", [0.0, 1.0, 2.0],
                 series=[Series("v", "V", [3.3, float("nan"), 3.4], "stimulus")])  # fmt: skip
    Plotter().draw(w, tmp_path / "gap.jpg", "gap")
    Plotter().draw(Waveform("e", "time", "s", [], series=[]), tmp_path / "empty.jpg", "empty")
    assert Image.open(tmp_path / "gap.jpg").mode == Image.open(tmp_path / "empty.jpg").mode == "RGB"


def test_each_line_its_own_style_and_every_axis_its_quantity():
    from reports.plots import DASH, _Styles, axis_name

    styles = _Styles()
    looks = [styles.level(x) for x in ("limit low", "limit high", "bracket", "threshold (spec)")]
    looks += [styles.marker(x) for x in ("step", "last quiet poll", "trip seen", "bisect")]
    assert len(set(looks)) == len(looks)  # no two lines alike
    assert styles.level("bracket") == looks[2]  # the same label, the same look
    assert styles.level("an unknown level") not in looks
    assert styles.level("limit low")[1] == DASH
    assert axis_name("V", []) == "voltage (V)" and axis_name("A", []) == "current (A)"
    assert axis_name("flag", []) == "state (1 = on)"


def test_the_measured_value_and_its_u_are_drawn(tmp_path):
    from reports.plots import MEASURED_BAND, Mark

    limits = [Level(3.625, "V", "limit low"), Level(3.675, "V", "limit high")]
    cell = Series("cell voltage", "V", [3.60, 3.62, 3.64, 3.66], "stimulus")
    w = Waveform("w", "time from first level", "s", [0.0, 1.0, 2.0, 3.0], [cell], [], limits)
    plotter = Plotter()
    plotter.draw(w, tmp_path / "bare.png", "bare")
    plotter.draw(w, tmp_path / "marked.png", "marked", mark=Mark(3.65, 0.003, "V"))
    assert _colour_pixels(tmp_path / "marked.png", MEASURED_BAND, 12) > 2000
    assert _colour_pixels(tmp_path / "bare.png", MEASURED_BAND, 12) < 50


def test_a_short_event_in_a_long_capture_gets_its_own_axis_and_the_whole_record():
    from reports.plots import _panels

    dt = 1e-6
    x = [round(-200e-6 + i * dt, 9) for i in range(12000)]
    current = Series("discharge current", "A", [0.0] * len(x), "response")
    marks = [Marker(0.0, "trigger"), Marker(202e-6, "level crossed back (trip)")]
    w = Waveform("sc", "time from trigger", "s", x, [current], marks)
    panels = _panels(w, np.asarray(x))
    assert [p.whole for p in panels] == [False, True]
    zoom, whole = panels
    assert zoom.x_lo < 0 and 202e-6 < zoom.x_hi < 1e-3  # the event and time after it, in µs
    assert whole.x_lo == x[0] and whole.x_hi == x[-1]


def test_a_long_legend_label_wraps_inside_the_image(tmp_path):
    """A series named at length ("BMS remaining capacity before + station charge") ran
    off the right edge of the state-of-charge plots; it wraps between words instead."""
    w = Waveform(
        "w",
        "time",
        "h",
        [0.0, 1.0, 2.0],
        series=[
            Series("BMS remaining capacity before + station charge", "Ah", [50, 50, 50], "dut"),
            Series("BMS remaining capacity", "Ah", [50, 50, 50], "dut"),
        ],
    )
    Plotter().draw(w, tmp_path / "a.png", "title")
    rgb = np.asarray(Image.open(tmp_path / "a.png").convert("RGB")).astype(int)
    edge = rgb[:, -3:, :]  # the last columns: nothing but white
    assert (edge.min(axis=2) > 200).all()
