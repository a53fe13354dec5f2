"""Trip waveforms drawn for the report: stimulus and response against time, the threshold
and the trip marked. One panel per unit, stacked on one time axis, so a cell voltage and
a charger current are each read on their own scale; a 0/1 state gets a short panel.

Drawn straight onto a Pillow image, from the waveform file alone. A full suite has a
plot per trip (142 in the default suite), and the plot is always the same kind: panels
of steps and lines against time, dashed levels, vertical markers, a legend beside each
panel. matplotlib drew that in about 40 ms, nearly all of it in its generic artist and
text machinery, and the plots were half the report's cost; drawn here, a plot takes a
few milliseconds. Most traces are steps (readings held until the next), which raster
crisply; text is FreeType's, anti-aliased, in the report's own DejaVu.

Images are JPEG at quality 90 without chroma subsampling: the PDF engine embeds a JPEG
as it is, where it would decode and re-compress a PNG. Each image carries a key of what
it was drawn from (`reports.plot_files`), so an unchanged plot is not redrawn.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from reports.fonts import SOURCE
from rig.results.waveform import Series, Waveform

DPI = 150
WIDTH_IN = 7.2
PANEL_IN = 1.45
STATE_PANEL_IN = 0.8  # a 0/1 state needs less height than a waveform
LEFT_IN, RIGHT_IN, TOP_IN, BOTTOM_IN, GAP_IN = 0.8, 1.95, 0.32, 0.5, 0.14  # right: legends
AXIS_GAP_IN = 0.42  # above a panel on a time axis of its own (the whole record)
ROLE_ORDER = {"stimulus": 0, "response": 1, "dut": 2}
ROLE_COLOURS = {"stimulus": "#1f5aa6", "response": "#2a7d2e", "dut": "#7a4fa3"}
EXTRA_COLOURS = ["#00838f", "#6d4c41", "#ad1457", "#546e7a"]
GRID, FRAME, TEXT = "#dddddd", "#333333", "#1a1a1a"
STEP_UNITS = {"flag", "state", "bool", ""}
MAX_POINTS = 20_000  # a long capture is decimated by min/max pairs, so no spike is lost
SPARSE_POINTS = 200  # fewer samples than this are polled readings or setpoints, not a capture
LINE_PX, MARK_PX = 2, 3
SOLID, DASH, DOT, DASHDOT = (1, 0), (9, 5), (2, 4), (10, 4, 2, 4)
MEASURED_COLOUR, MEASURED_BAND = "#b71c1c", "#f6cfcb"
ZOOM_BELOW = 0.1  # an event shorter than this share of a capture gets a zoomed axis
QUANTITY = {
    "V": "voltage",
    "A": "current",
    "°C": "temperature",
    "Ω": "resistance",
    "ohm": "resistance",
    "s": "time",
    "%": "share",
    "Ah": "charge",
    "W": "power",
    "flag": "state",
    "state": "state",
    "bool": "state",
    "": "state",
}
# Lines a reader must tell apart, by what their label says: colour and dash both differ.
LEVEL_STYLES = (
    ("limit low", "#d9822b", DASH),
    ("limit high", "#8e24aa", DASH),
    ("bracket", "#00897b", DOT),
    ("threshold", "#d9822b", DASHDOT),
    ("trip level", "#6d4c41", DASHDOT),
    ("trigger level", "#6d4c41", DASHDOT),
)
MARKER_STYLES = (
    ("last not tripped", "#1e88e5", DASH),
    ("last quiet", "#1e88e5", DASH),
    ("crossed back", "#c62828", SOLID),
    ("first tripped", "#c62828", SOLID),
    ("trip seen", "#c62828", SOLID),
    ("tripped", "#c62828", SOLID),
    ("level crossed", "#fb8c00", DOT),
    ("peak", "#6a1b9a", DASH),
    ("bisect", "#757575", DASH),
    ("step", "#333333", DOT),
    ("applied", "#333333", DOT),
    ("trigger", "#333333", DOT),
)
OTHER_STYLES = [("#546e7a", DASHDOT), ("#ad1457", DOT), ("#0097a7", DASH), ("#827717", DASHDOT)]
LEVEL_COLOUR = LEVEL_STYLES[0][1]


@dataclass(frozen=True)
class Mark:
    """The measured value and its expanded uncertainty, drawn over the record: a band on
    the panel of its unit, or across the time axis for a time from the axis' origin."""

    value: float
    u: float | None
    unit: str


@dataclass
class _Panel:
    unit: str
    x_lo: float  # seconds (the record's own unit)
    x_hi: float
    height: int
    whole: bool = False  # the whole record, under a zoomed view of the event


def _px(inches: float) -> int:
    return round(inches * DPI)


def _pt(points: float) -> int:
    return round(points / 72 * DPI)


class Plotter:
    """Draws waveforms to image files; holds the fonts between plots."""

    def __init__(self) -> None:
        sans = str(SOURCE / "DejaVuSans.ttf")
        self.tick = ImageFont.truetype(sans, _pt(7.5))
        self.label = ImageFont.truetype(sans, _pt(8))
        self.legend = ImageFont.truetype(sans, _pt(6.5))
        self.title = ImageFont.truetype(sans, _pt(9))

    def draw(
        self,
        waveform: Waveform,
        path: Path,
        title: str | None = None,
        key: str = "",
        mark: Mark | None = None,
    ) -> None:
        """Write the plot of `waveform` at `path` (replaced atomically), marked with `key`."""
        xs = np.asarray(waveform.x, dtype=float)
        panels = _panels(waveform, xs)
        width = _px(WIDTH_IN)
        gaps = sum(_px(AXIS_GAP_IN if p.whole else GAP_IN) for p in panels[1:])
        height = _px(TOP_IN + BOTTOM_IN) + sum(p.height for p in panels) + gaps
        image = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(image)
        left, right = _px(LEFT_IN), width - _px(RIGHT_IN)
        styles = _Styles()
        top = _px(TOP_IN)
        for i, panel in enumerate(panels):
            last = i == len(panels) - 1
            axis_below = last or panels[i + 1].whole or panel.whole
            top += _px(AXIS_GAP_IN if panel.whole else GAP_IN) if i else 0
            box = (left, top, right, top + panel.height)
            self._panel(draw, image, waveform, xs, panel, box, styles, mark, i == 0, axis_below)
            top += panel.height
        draw.text((width / 2, _px(0.06)), title or waveform.name, font=self.title, fill=TEXT,
                  anchor="ma")  # fmt: skip
        _save(image, path, key)

    def _panel(self, draw, image, waveform, xs, panel: _Panel, box, styles, mark, first: bool,
               axis_below: bool) -> None:  # fmt: skip
        unit = panel.unit
        x_scale, x_unit = _time_scale(waveform, panel.x_hi - panel.x_lo)
        x_lo, x_hi = panel.x_lo * x_scale, panel.x_hi * x_scale
        x_ticks = nice_ticks(x_lo, x_hi, 8)
        inside = (xs >= panel.x_lo) & (xs <= panel.x_hi)
        series = [s for s in waveform.series if s.unit == unit]
        if panel.whole:
            series = series[:1]
        levels = [lv for lv in waveform.levels if lv.unit == unit]
        legend: list[tuple[str, str, tuple | None, bool]] = []
        if unit in STEP_UNITS:
            y_lo, y_hi, y_ticks = -0.15, 1.15, [0.0, 1.0]
        else:
            values = [v for s in series for v in np.asarray(s.values, dtype=float)[inside]
                      if math.isfinite(v)]  # fmt: skip
            values += [lv.y for lv in levels]
            if mark is not None and mark.unit == unit and math.isfinite(mark.value):
                values += [mark.value - (mark.u or 0), mark.value + (mark.u or 0)]
            y_lo, y_hi = _span(min(values, default=0.0), max(values, default=1.0), 0.08)
            y_ticks = nice_ticks(y_lo, y_hi, 5)
        to_x = _scale(x_lo, x_hi, box[0], box[2])
        to_y = _scale(y_lo, y_hi, box[3], box[1])
        for t in x_ticks:
            draw.line([(to_x(t), box[1]), (to_x(t), box[3])], fill=GRID, width=1)
        for t in y_ticks:
            y = to_y(t)
            draw.line([(box[0], y), (box[2], y)], fill=GRID, width=1)
            draw.line([(box[0] - 5, y), (box[0], y)], fill=FRAME, width=1)
            draw.text((box[0] - 8, y), _fmt(t, y_ticks), font=self.tick, fill=TEXT, anchor="rm")
        if mark is not None and not panel.whole:
            entry = _draw_mark(draw, mark, unit, waveform, x_scale, to_x, to_y, box)
            if entry:
                legend.append(entry)
        for level in levels:
            y = to_y(level.y)
            colour, pattern = styles.level(level.label)
            _dashed(draw, (box[0], y), (box[2], y), colour, pattern)
            legend.append((level.label, colour, pattern, False))
        used: set[str] = set()
        for s in series:
            colour = _colour(s.role, used)
            values = np.asarray(s.values, dtype=float)
            keep = _with_neighbours(inside)
            x, y = _decimate(xs[keep] * x_scale, values[keep])
            sparse = len(xs) <= SPARSE_POINTS
            _trace(draw, x, y, to_x, to_y, step=sparse or unit in STEP_UNITS, fill=colour,
                   box=box)  # fmt: skip
            if sparse:
                for xi, yi in zip(x, y, strict=True):
                    if math.isfinite(yi) and box[0] <= to_x(xi) <= box[2]:
                        px, py = to_x(xi), to_y(yi)
                        draw.ellipse([px - MARK_PX, py - MARK_PX, px + MARK_PX, py + MARK_PX],
                                     fill=colour)  # fmt: skip
            legend.append((s.label, colour, None, sparse))
        for marker in waveform.markers:
            colour, pattern = styles.marker(marker.label)
            x = to_x(marker.x * x_scale)
            if box[0] <= x <= box[2]:
                _dashed(draw, (x, box[1]), (x, box[3]), colour, pattern)
            if first:
                legend.append((marker.label, colour, pattern, False))
        draw.rectangle(box, outline=FRAME, width=1)
        for t in x_ticks:
            draw.line([(to_x(t), box[3]), (to_x(t), box[3] + 5)], fill=FRAME, width=1)
        if axis_below:
            for t in x_ticks:
                draw.text((to_x(t), box[3] + 8), _fmt(t, x_ticks), font=self.tick, fill=TEXT,
                          anchor="ma")  # fmt: skip
            label = f"{waveform.x_label} ({x_unit})" if x_unit else waveform.x_label
            if panel.whole:
                label = f"the whole record: {label}"
            draw.text(((box[0] + box[2]) / 2, box[3] + _px(0.36)), label, font=self.label,
                      fill=TEXT, anchor="md")  # fmt: skip
        self._y_label(image, axis_name(unit, series), box)
        self._legend(draw, _unique(legend), box)

    def _y_label(self, image: Image.Image, text: str, box: tuple[int, int, int, int]) -> None:
        w = round(self.label.getlength(text)) + 4
        h = _pt(8) + 6
        tile = Image.new("RGB", (w, h), "white")
        ImageDraw.Draw(tile).text((2, h // 2), text, font=self.label, fill=TEXT, anchor="lm")
        tile = tile.transpose(Image.Transpose.ROTATE_90)
        image.paste(tile, (_px(0.04), max(0, (box[1] + box[3]) // 2 - w // 2)))

    def _legend(self, draw: ImageDraw.ImageDraw, entries: list, box: tuple) -> None:
        x0, y = box[2] + _px(0.08), box[1] + _pt(4.5)
        sample, step = _px(0.26), _pt(8.2)
        room = max(1, (box[3] - box[1]) // step)
        text_x = x0 + sample + _px(0.06)
        width = draw.im.size[0] - text_x - 2  # a label wraps rather than leave the image
        for label, colour, pattern, dots in entries:
            lines = self._wrapped(label, width)
            if room < len(lines):
                break
            room -= len(lines)
            if pattern == "band":
                draw.rectangle([x0, y - 4, x0 + sample, y + 4], fill=MEASURED_BAND)
                draw.line([(x0, y), (x0 + sample, y)], fill=colour, width=LINE_PX)
            elif pattern is None:
                draw.line([(x0, y), (x0 + sample, y)], fill=colour, width=LINE_PX)
            else:
                _dashed(draw, (x0, y), (x0 + sample, y), colour, pattern)
            if dots:
                c = x0 + sample // 2
                draw.ellipse([c - MARK_PX, y - MARK_PX, c + MARK_PX, y + MARK_PX], fill=colour)
            for line in lines:
                draw.text((text_x, y), line, font=self.legend, fill=TEXT, anchor="lm")
                y += step

    def _wrapped(self, label: str, width: float) -> list[str]:
        """`label` in lines no wider than `width` pixels, broken between words."""
        lines: list[str] = []
        for word in label.split(" "):
            if lines and self.legend.getlength(f"{lines[-1]} {word}") <= width:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return lines or [label]


class _Styles:
    """The colour and dash of each level and marker, by its label; the same label always
    looks the same, and an unknown one takes a style no other line on the plot has."""

    def __init__(self) -> None:
        self.given: dict[str, tuple[str, tuple]] = {}
        self.spare = list(OTHER_STYLES)

    def _pick(self, label: str, table) -> tuple[str, tuple]:
        if label not in self.given:
            text = label.lower()
            found = next(((c, p) for key, c, p in table if key in text), None)
            if found is None or found in self.given.values():
                found = self.spare.pop(0) if self.spare else OTHER_STYLES[0]
            self.given[label] = found
        return self.given[label]

    def level(self, label: str) -> tuple[str, tuple]:
        return self._pick(label, LEVEL_STYLES)

    def marker(self, label: str) -> tuple[str, tuple]:
        return self._pick(label, MARKER_STYLES)


def axis_name(unit: str, series: list[Series]) -> str:
    """The y axis as quantity and unit: `voltage (V)`, `current (A)`, `state (1 = on)`."""
    if unit in STEP_UNITS:
        return "state (1 = on)"
    quantity = QUANTITY.get(unit)
    if quantity is None:
        words = {s.label.split("(")[0].strip() for s in series}
        quantity = words.pop() if len(words) == 1 else "value"
    return f"{quantity} ({unit})"


def _unique(entries: list) -> list:
    seen, out = set(), []
    for entry in entries:
        if entry[0] not in seen:
            seen.add(entry[0])
            out.append(entry)
    return out


def _draw_mark(draw, mark: Mark, unit, waveform, x_scale, to_x, to_y, box):
    """The measured value ± U: a band on its own unit's panel, or across the time axis
    when it is a time from the axis' origin (a trip delay from the step)."""
    u = mark.u or 0.0
    if mark.unit == unit and unit not in STEP_UNITS:
        y0, y1 = to_y(mark.value - u), to_y(mark.value + u)
        draw.rectangle([box[0] + 1, min(y0, y1), box[2] - 1, max(y0, y1)], fill=MEASURED_BAND)
        y = to_y(mark.value)
        draw.line([(box[0], y), (box[2], y)], fill=MEASURED_COLOUR, width=1)
        return ("measured ± U", MEASURED_COLOUR, "band", False)
    if mark.unit == waveform.x_unit == "s" and "from" in waveform.x_label:
        x0, x1 = to_x((mark.value - u) * x_scale), to_x((mark.value + u) * x_scale)
        if x1 < box[0] or x0 > box[2]:
            return None
        draw.rectangle([max(box[0] + 1, x0), box[1] + 1, min(box[2] - 1, max(x1, x0 + 1)),
                        box[3] - 1], fill=MEASURED_BAND)  # fmt: skip
        return ("measured ± U", MEASURED_COLOUR, "band", False)
    return None


def _panels(waveform: Waveform, xs: np.ndarray) -> list[_Panel]:
    """The panels, top to bottom, with their time windows. A short event in a long
    capture (a short circuit's microseconds in milliseconds of record) gets the event
    and some time after it on its own axis, and the whole record as a last panel."""
    units = panel_units(waveform)
    lo, hi = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    span = hi - lo or 1.0
    hi_shown = hi
    marks = sorted(m.x for m in waveform.markers)
    if marks and hi - marks[-1] < 0.05 * span:  # the record ends at the event: room after it
        hi_shown = hi + 0.12 * span

    def height(unit: str) -> int:
        return _px(STATE_PANEL_IN if unit in STEP_UNITS else PANEL_IN)

    event = (marks[0], marks[-1]) if marks else None
    if (
        event is not None
        and len(xs) > SPARSE_POINTS
        and event[1] - event[0] < ZOOM_BELOW * span
        and event[1] > event[0]
    ):
        length = event[1] - event[0]
        zoom_lo = max(lo, event[0] - 0.5 * length)
        zoom_hi = min(hi, event[1] + 1.5 * length)
        panels = [_Panel(u, zoom_lo, zoom_hi, height(u)) for u in units]
        whole_unit = next((u for u in units if u not in STEP_UNITS), units[0])
        panels.append(_Panel(whole_unit, lo, hi, _px(PANEL_IN * 0.8), whole=True))
        return panels
    return [_Panel(u, lo, hi_shown, height(u)) for u in units]


def _with_neighbours(inside: np.ndarray) -> np.ndarray:
    """The samples in a window and one on each side, so a line runs to the frame."""
    keep = inside.copy()
    keep[1:] |= inside[:-1]
    keep[:-1] |= inside[1:]
    return keep


def draw(waveform: Waveform, path: Path, title: str | None = None) -> None:
    Plotter().draw(waveform, path, title)


def panel_units(waveform: Waveform) -> tuple[str, ...]:
    """The panels, top to bottom: stimulus units first, then the response, then the DUT."""
    units: list[str] = []
    for s in sorted(waveform.series, key=lambda s: ROLE_ORDER.get(s.role, 3)):
        if s.unit not in units:
            units.append(s.unit)
    return tuple(units) or ("",)


def nice_ticks(lo: float, hi: float, most: int) -> list[float]:
    """At most `most` round tick values (1, 2, 2.5 or 5 times a power of ten) in [lo, hi]."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return [lo]
    power = 10 ** math.floor(math.log10(span / max(1, most - 1))) / 10
    for step in (m * power * d for d in (1, 10, 100) for m in (1, 2, 2.5, 5)):
        first = math.ceil(lo / step - 1e-9) * step
        count = math.floor((hi - first) / step + 1e-9) + 1
        if count <= most:  # the finest round step that needs no more than `most` ticks
            return [round(first + k * step, 12) for k in range(count)]
    return [lo, hi]


def _fmt(value: float, ticks: list[float]) -> str:
    """A tick label with as many decimals as the step between ticks needs."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(value) or 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if step < 1 and round(step * 10**decimals, 6) % 1:
        decimals += 1  # 2.5, 0.25: one more place
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text.replace("-", "−")


def _span(lo: float, hi: float, margin: float) -> tuple[float, float]:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return 0.0, 1.0
    if hi - lo <= 0:
        pad = abs(hi) * 0.05 or 0.5
        return lo - pad, hi + pad
    pad = (hi - lo) * margin
    return lo - pad, hi + pad


def _scale(lo: float, hi: float, a: int, b: int):
    k = (b - a) / (hi - lo)
    return lambda v: a + (v - lo) * k


def _trace(draw, x, y, to_x, to_y, *, step: bool, fill: str, box=None) -> None:
    """The series as polylines (held values as steps), broken at every non-finite value,
    kept inside the panel's frame."""
    px, py = to_x(np.asarray(x, dtype=float)), to_y(np.asarray(y, dtype=float))
    if box is not None:
        px = np.clip(px, box[0], box[2])
    finite = np.isfinite(py)
    breaks = np.flatnonzero(~finite)
    for run in np.split(np.arange(len(px)), breaks):
        run = run[finite[run]]
        if len(run) == 0:
            continue
        rx, ry = px[run], py[run]
        if len(run) == 1:
            draw.ellipse([rx[0] - MARK_PX, ry[0] - MARK_PX, rx[0] + MARK_PX, ry[0] + MARK_PX],
                         fill=fill)  # fmt: skip
            continue
        if step:  # (x0,y0) (x1,y0) (x1,y1) (x2,y1) …
            rx = np.repeat(rx, 2)[1:]
            ry = np.repeat(ry, 2)[:-1]
        draw.line(list(zip(rx.tolist(), ry.tolist(), strict=True)), fill=fill, width=LINE_PX,
                  joint="curve")  # fmt: skip


def _dashed(draw, a: tuple, b: tuple, fill: str, pattern: tuple[int, int]) -> None:
    """A dashed or dotted straight line (horizontal or vertical)."""
    (x0, y0), (x1, y1) = a, b
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return
    if len(pattern) == 2 and pattern[1] == 0:
        draw.line([a, b], fill=fill, width=2)
        return
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    t, k = 0.0, 0
    while t < length:
        on, off = pattern[k % len(pattern)], pattern[(k + 1) % len(pattern)]
        e = min(t + on, length)
        draw.line([(x0 + ux * t, y0 + uy * t), (x0 + ux * e, y0 + uy * e)], fill=fill, width=2)
        t, k = e + off, k + 2


def _save(image: Image.Image, path: Path, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
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


def _time_scale(waveform: Waveform, span: float) -> tuple[float, str]:
    """Short windows read better in ms or µs than in fractions of a second."""
    if waveform.x_unit != "s" or len(waveform.x) < 2:
        return 1.0, waveform.x_unit
    if span < 2e-3:
        return 1e6, "µs"
    if span < 2.0:
        return 1e3, "ms"
    return 1.0, "s"


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
