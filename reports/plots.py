"""Trip waveforms drawn for the report: stimulus and response against time, the threshold
and the trip marked. One panel per unit, stacked on one time axis, so a cell voltage and
a charger current are each read on their own scale; a 0/1 state gets a short panel.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global
state), from the waveform file alone. A full suite has a plot per trip, so the cost
matters: a `Plotter` keeps one figure per panel layout and only swaps the data (axes and
ticks are built once). Images are JPEG at quality 90 without chroma subsampling: at this
resolution no one can tell them from PNG, and the PDF engine embeds a JPEG as it is
where it would decode and re-compress a PNG (a tenth of a second per plot, counted).
Each image carries a key of what it was drawn from (`reports.plot_files`), so an
unchanged plot is not redrawn.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from rig.results.waveform import Waveform

WIDTH_IN = 7.2
PANEL_IN = 1.45
STATE_PANEL_IN = 0.8  # a 0/1 state needs less height than a waveform
LEFT_IN, RIGHT_IN, TOP_IN, BOTTOM_IN, GAP_IN = 0.65, 1.85, 0.3, 0.5, 0.12  # right: the legends
DPI = 150
ROLE_ORDER = {"stimulus": 0, "response": 1, "dut": 2}
ROLE_COLOURS = {"stimulus": "#1f5aa6", "response": "#2a7d2e", "dut": "#7a4fa3"}
EXTRA_COLOURS = ["#00838f", "#6d4c41", "#ad1457", "#546e7a"]
LEVEL_COLOUR = "#d9822b"
STEP_UNITS = {"flag", "state", "bool", ""}
MAX_POINTS = 20_000  # a long capture is decimated by min/max pairs, so no spike is lost
SPARSE_POINTS = 200  # fewer samples than this are polled readings or setpoints, not a capture


class Plotter:
    """Draws waveforms to image files, reusing one figure per panel layout."""

    def __init__(self) -> None:
        self._figures: dict[tuple[str, ...], tuple[Figure, list[Axes]]] = {}

    def draw(self, waveform: Waveform, path: Path, title: str | None = None, key: str = "") -> None:
        """Write the plot of `waveform` at `path` (replaced atomically), marked with `key`."""
        units = panel_units(waveform)
        fig, axes = self._figure(units)
        for ax in axes:
            for artist in [*ax.lines, *ax.texts]:
                artist.remove()
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        x_scale, x_unit = _time_scale(waveform)
        xs = np.asarray(waveform.x, dtype=float) * x_scale
        used: set[str] = set()
        for ax, unit in zip(axes, units, strict=True):
            for s in waveform.series:
                if s.unit != unit:
                    continue
                x, y = _decimate(xs, np.asarray(s.values, dtype=float))
                sparse = len(x) <= SPARSE_POINTS
                ax.plot(
                    x,
                    y,
                    label=s.label,
                    color=_colour(s.role, used),
                    linewidth=1.1,
                    # a few readings: each held until the next, each one marked; a capture: a line
                    drawstyle="steps-post" if sparse or unit in STEP_UNITS else "default",
                    marker="." if sparse else None,
                    markersize=3.5,
                )
            for level in waveform.levels:
                if level.unit == unit:
                    ax.axhline(
                        level.y,
                        color=LEVEL_COLOUR,
                        linestyle="--",
                        linewidth=1.0,
                        label=level.label,
                    )
            if unit in STEP_UNITS:
                ax.set_ylim(-0.15, 1.15)
            else:
                ax.relim()
                ax.autoscale(axis="y")
        for marker in waveform.markers:
            colour, style = _marker_style(marker.label)
            for i, ax in enumerate(axes):
                ax.axvline(
                    marker.x * x_scale,
                    color=colour,
                    linestyle=style,
                    linewidth=1.0,
                    label=marker.label if i == 0 else None,
                )
        if len(xs):
            axes[0].set_xlim(float(xs.min()), float(xs.max()))
        for ax in axes:
            handles, labels = ax.get_legend_handles_labels()
            if handles:
                ax.legend(
                    handles,
                    labels,
                    fontsize=6.5,
                    loc="upper left",
                    bbox_to_anchor=(1.01, 1.0),
                    borderaxespad=0.0,
                    frameon=False,
                )
        axes[-1].set_xlabel(f"{waveform.x_label} ({x_unit})" if x_unit else waveform.x_label)
        fig.texts[0].set_text(title or waveform.name)
        _save(fig, path, key)

    def _figure(self, units: tuple[str, ...]) -> tuple[Figure, list[Axes]]:
        if units in self._figures:
            return self._figures[units]
        heights = [STATE_PANEL_IN if u in STEP_UNITS else PANEL_IN for u in units]
        height = TOP_IN + BOTTOM_IN + sum(heights) + GAP_IN * (len(units) - 1)
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, facecolor="white")
        FigureCanvasAgg(fig)
        axes = list(
            fig.subplots(
                len(units),
                1,
                sharex=True,
                squeeze=False,
                gridspec_kw={
                    "height_ratios": heights,
                    # fixed margins, in inches: a layout engine would draw every figure twice
                    "left": LEFT_IN / WIDTH_IN,
                    "right": 1 - RIGHT_IN / WIDTH_IN,
                    "top": 1 - TOP_IN / height,
                    "bottom": BOTTOM_IN / height,
                    "hspace": GAP_IN / (sum(heights) / len(heights)),
                },
            )[:, 0]
        )
        for ax, unit in zip(axes, units, strict=True):
            ax.set_ylabel(unit or "state", fontsize=8)
            ax.grid(True, color="#dddddd", linewidth=0.6)
            ax.tick_params(labelsize=7.5)
            if unit in STEP_UNITS:
                ax.set_yticks([0, 1])
        fig.text(0.5, 1 - 0.06 / height, "", ha="center", va="top", fontsize=9)
        self._figures[units] = (fig, axes)
        return fig, axes


def draw(waveform: Waveform, path: Path, title: str | None = None) -> None:
    Plotter().draw(waveform, path, title)


def panel_units(waveform: Waveform) -> tuple[str, ...]:
    """The panels, top to bottom: stimulus units first, then the response, then the DUT."""
    units: list[str] = []
    for s in sorted(waveform.series, key=lambda s: ROLE_ORDER.get(s.role, 3)):
        if s.unit not in units:
            units.append(s.unit)
    return tuple(units) or ("",)


def _save(fig: Figure, path: Path, key: str) -> None:
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[:, :, :3]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    image = Image.fromarray(rgb)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        image.save(tmp, "JPEG", quality=90, subsampling=0, dpi=(DPI, DPI), comment=key.encode())
    else:
        image.save(tmp, "PNG", dpi=(DPI, DPI), compress_level=3)
    os.replace(tmp, path)


def _colour(role: str, used: set[str]) -> str:
    colour = ROLE_COLOURS.get(role)
    if colour is None or colour in used:
        colour = next((c for c in EXTRA_COLOURS if c not in used), EXTRA_COLOURS[0])
    used.add(colour)
    return colour


def _time_scale(waveform: Waveform) -> tuple[float, str]:
    """Short captures read better in ms or µs than in fractions of a second."""
    if waveform.x_unit != "s" or len(waveform.x) < 2:
        return 1.0, waveform.x_unit
    span = max(waveform.x) - min(waveform.x)
    if span < 2e-3:
        return 1e6, "µs"
    if span < 2.0:
        return 1e3, "ms"
    return 1.0, "s"


def _marker_style(label: str) -> tuple[str, str]:
    text = label.lower()
    if "not" not in text and ("tripped" in text or text.startswith("trip")):
        return "#c62828", "-"
    if "step" in text or "applied" in text or "trigger" in text:
        return "#333333", ":"
    return "#8a8a8a", "--"


def _decimate(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of each bucket, in time order: a long capture keeps its spikes."""
    n = len(x)
    if n <= MAX_POINTS:
        return x, y
    bucket = -(-n // (MAX_POINTS // 2))
    pad = (-n) % bucket
    yy = np.concatenate([y, np.full(pad, y[-1])]).reshape(-1, bucket)
    base = np.arange(0, n + pad, bucket)
    lo, hi = yy.argmin(axis=1), yy.argmax(axis=1)
    idx = np.minimum(np.sort(np.stack([base + lo, base + hi], axis=1), axis=1).ravel(), n - 1)
    return x[idx], y[idx]
