"""Pure inline-SVG charts for the report: stacked horizontal bars and stacked columns.

Python computes only the geometry (numbers, colours and plain-text labels); the
`chart` macro in `templates/chart.svg.j2` turns it into markup, escaping every
label. The SVG is sized by `viewBox` so it scales with the page, and has no
scripts, fonts or links.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from aigov.evidence.templating import render_macro

PALETTE = ("#2563eb", "#dc2626", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#475569")


@dataclass(frozen=True)
class Rect:
    """A filled rectangle, with an optional tooltip."""

    kind: ClassVar[str] = "rect"
    x: float
    y: float
    width: float
    height: float
    fill: str
    tooltip: str | None = None
    rx: float = 0


@dataclass(frozen=True)
class Text:
    """A label; `anchor` is the SVG text-anchor (start when None)."""

    kind: ClassVar[str] = "text"
    x: float
    y: float
    text: str
    fill: str
    anchor: str | None = None


@dataclass(frozen=True)
class Line:
    """A horizontal rule (grid line or axis)."""

    kind: ClassVar[str] = "line"
    x1: float
    x2: float
    y: float
    stroke: str


@dataclass(frozen=True)
class Chart:
    """A whole chart: its viewBox, accessible title and shapes in painting order."""

    width: int
    height: int
    title: str
    shapes: tuple[Rect | Text | Line, ...]


def color_map(names: Sequence[str], fixed: Mapping[str, str] | None = None) -> dict[str, str]:
    """A colour per name: `fixed` where given, else the palette in order."""
    fixed = fixed or {}
    free = iter(c for c in PALETTE * (1 + len(names) // len(PALETTE)) if c not in fixed.values())
    return {name: fixed.get(name) or next(free) for name in names}


def nice_step(maximum: float, ticks: int = 4) -> float:
    """A 1-2-5 step that splits 0..maximum into about `ticks` intervals."""
    if maximum <= 0:
        return 1.0
    raw = maximum / ticks
    magnitude: float = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _n(value: float) -> float:
    """A coordinate to one decimal, printed without a trailing `.0`."""
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _legend(colors: Mapping[str, str], y: int, width: int) -> tuple[list[Rect | Text | Line], int]:
    shapes: list[Rect | Text | Line] = []
    x = 0
    for name, color in colors.items():
        item = 18 + 7 * len(name) + 16
        if x and x + item > width:
            x, y = 0, y + 18
        shapes += [Rect(x, y, 11, 11, color, rx=2), Text(x + 16, y + 10, name, "#334155")]
        x += item
    return shapes, y + 18


def stacked_bars(
    title: str, rows: Sequence[tuple[str, Mapping[str, float]]], colors: Mapping[str, str], width: int = 720
) -> Chart:
    """One horizontal bar per row, split into the `colors` segments, total at the end."""
    label_w, bar_h, gap = 110, 22, 10
    plot_w = width - label_w - 50
    top = max((sum(values.values()) for _, values in rows), default=0) or 1
    shapes: list[Rect | Text | Line] = []
    for i, (label, values) in enumerate(rows):
        y = i * (bar_h + gap)
        shapes.append(Text(label_w - 8, y + 15, label, "#0f172a", "end"))
        x = float(label_w)
        for name, color in colors.items():
            value = values.get(name, 0)
            if value:
                w = value / top * plot_w
                shapes.append(Rect(_n(x), y, _n(w), bar_h, color, f"{label}: {name} {_fmt(value)}"))
                x += w
        shapes.append(Text(_n(x + 6), y + 15, _fmt(sum(values.values())), "#334155"))
    legend, height = _legend(colors, len(rows) * (bar_h + gap) + 6, width)
    return Chart(width, height, title, (*shapes, *legend))


def stacked_columns(
    title: str, buckets: Sequence[tuple[str, Mapping[str, float]]], colors: Mapping[str, str], width: int = 720
) -> Chart:
    """One column per bucket (labelled below, thinned out), stacked by series, with a y axis."""
    left, pad, plot_h, bottom = 44, 10, 210, 24
    plot_w = width - left - 8
    top = max((sum(values.values()) for _, values in buckets), default=0)
    step = nice_step(top)
    ceiling = step * max(1, math.ceil(top / step))
    shapes: list[Rect | Text | Line] = []
    for k in range(round(ceiling / step) + 1):
        value = k * step
        y = plot_h - value / ceiling * (plot_h - pad)
        shapes += [Line(left, width - 8, _n(y), "#e2e8f0"), Text(left - 6, _n(y + 4), _fmt(value), "#64748b", "end")]
    slot = plot_w / max(1, len(buckets))
    every = max(1, math.ceil(len(buckets) / 8))
    for i, (label, values) in enumerate(buckets):
        x, y = left + i * slot + slot * 0.15, float(plot_h)
        for name, color in colors.items():
            value = values.get(name, 0)
            if value:
                h = value / ceiling * (plot_h - pad)
                y -= h
                shapes.append(Rect(_n(x), _n(y), _n(slot * 0.7), _n(h), color, f"{label}: {name} {_fmt(value)}"))
        if i % every == 0:
            shapes.append(Text(_n(x + slot * 0.35), plot_h + 16, label, "#64748b", "middle"))
    shapes.append(Line(left, width - 8, plot_h, "#94a3b8"))
    legend, height = _legend(colors, plot_h + bottom + 6, width)
    return Chart(width, height, title, (*shapes, *legend))


def svg(chart: Chart) -> str:
    """The chart alone as inline SVG markup (the report calls the same macro from its template)."""
    return render_macro("chart.svg.j2", "chart", chart)
