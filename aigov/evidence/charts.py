"""Pure inline-SVG charts for the report: stacked horizontal bars and stacked columns.

Self-contained markup (no scripts, fonts or links), sized by `viewBox` so the
charts scale with the page; every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#475569")
_FONT = 'font-family="inherit" font-size="12"'


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


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _legend(colors: Mapping[str, str], y: int, width: int) -> tuple[str, int]:
    parts, x = [], 0
    for name, color in colors.items():
        item = 18 + 7 * len(name) + 16
        if x and x + item > width:
            x, y = 0, y + 18
        parts.append(
            f'<rect x="{x}" y="{y}" width="11" height="11" rx="2" fill="{color}"/>'
            f'<text x="{x + 16}" y="{y + 10}" {_FONT} fill="#334155">{escape(name)}</text>'
        )
        x += item
    return "".join(parts), y + 18


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{body}</svg>'
    )


def stacked_bars(
    title: str, rows: Sequence[tuple[str, Mapping[str, float]]], colors: Mapping[str, str], width: int = 720
) -> str:
    """One horizontal bar per row, split into the `colors` segments, total at the end."""
    label_w, bar_h, gap = 110, 22, 10
    plot_w = width - label_w - 50
    top = max((sum(values.values()) for _, values in rows), default=0) or 1
    parts = []
    for i, (label, values) in enumerate(rows):
        y = i * (bar_h + gap)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" {_FONT} fill="#0f172a">{escape(label)}</text>'
        )
        x = float(label_w)
        for name, color in colors.items():
            value = values.get(name, 0)
            if value:
                w = value / top * plot_w
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}">'
                    f"<title>{escape(label)}: {escape(name)} {_fmt(value)}</title></rect>"
                )
                x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" {_FONT} fill="#334155">{_fmt(sum(values.values()))}</text>')
    legend, height = _legend(colors, len(rows) * (bar_h + gap) + 6, width)
    return _svg(width, height, title, "".join(parts) + legend)


def stacked_columns(
    title: str, columns: Sequence[tuple[str, Mapping[str, float]]], colors: Mapping[str, str], width: int = 720
) -> str:
    """One column per bucket (labelled below, thinned out), stacked by series, with a y axis."""
    left, pad, plot_h, bottom = 44, 10, 210, 24
    plot_w = width - left - 8
    top = max((sum(values.values()) for _, values in columns), default=0)
    step = nice_step(top)
    ceiling = step * max(1, math.ceil(top / step))
    parts = []
    for k in range(round(ceiling / step) + 1):
        value = k * step
        y = plot_h - value / ceiling * (plot_h - pad)
        parts.append(
            f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {_FONT} fill="#64748b">{_fmt(value)}</text>'
        )
    slot = plot_w / max(1, len(columns))
    every = max(1, math.ceil(len(columns) / 8))
    for i, (label, values) in enumerate(columns):
        x, y = left + i * slot + slot * 0.15, float(plot_h)
        for name, color in colors.items():
            value = values.get(name, 0)
            if value:
                h = value / ceiling * (plot_h - pad)
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{color}">'
                    f"<title>{escape(label)}: {escape(name)} {_fmt(value)}</title></rect>"
                )
        if i % every == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{plot_h + 16}" text-anchor="middle" {_FONT} '
                f'fill="#64748b">{escape(label)}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{plot_h}" y2="{plot_h}" stroke="#94a3b8"/>')
    legend, height = _legend(colors, plot_h + bottom + 6, width)
    return _svg(width, height, title, "".join(parts) + legend)
