"""Bar and line charts as inline SVG, drawn on the server (no chart library in the browser).

The Content-Security-Policy allows no inline ``style``: geometry goes in SVG presentation
attributes, colours in CSS classes (``static/css/reports.css``: ``.chart .s0`` … ``.s5``), so
a theme can recolour them. Every label is escaped; a ``<title>`` on each bar or point says its
value to a mouse or a screen reader, and the table under the chart holds the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 72
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_LABELS = 16
MAX_LABEL_CHARS = 14
SERIES_CLASSES = 6
LEGEND_ROW = 18
MAX_BAR = 48


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]


def nice_step(maximum: float, ticks: int = 4) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) so that ``ticks`` steps reach ``maximum``."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(factor * power, 1)
    return 10 * power


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def chart(kind: str, labels: Sequence[str], series: Sequence[Series], *, title: str,
          value_format: Callable[[float], str] = lambda v: f"{v:,.0f}") -> Markup:
    """An SVG chart of ``series`` against ``labels``: ``kind`` is ``bar`` (grouped bars) or
    ``line``. ``title`` names the chart for assistive technology."""
    if kind not in {"bar", "line"}:
        raise ValueError(kind)
    if not labels or not series:
        raise ValueError("nothing to chart")
    top = max((v for s in series for v in s.values), default=0)
    step = nice_step(top)
    ceiling = step * max(1, math.ceil(top / step))
    legend_rows = len(series) if len(series) > 1 else 0
    height = HEIGHT + legend_rows * LEGEND_ROW

    def y(value: float) -> float:
        return TOP + PLOT_H - (value / ceiling) * PLOT_H

    slot = PLOT_W / len(labels)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    # Horizontal grid lines and the value axis.
    tick = 0.0
    while tick <= ceiling + step / 2:
        ty = _number(y(tick))
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{ty}" x2="{WIDTH - RIGHT}" y2="{ty}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{ty}" text-anchor="end" dominant-baseline="middle">'
                     f"{escape(value_format(tick))}</text>")
        tick += step
    parts.append(f'<line class="baseline" x1="{LEFT}" y1="{TOP + PLOT_H}" x2="{WIDTH - RIGHT}" y2="{TOP + PLOT_H}"/>')

    if kind == "bar":
        bar = min(slot * 0.8 / len(series), MAX_BAR)
        group = bar * len(series)
        for index, label in enumerate(labels):
            for n, s in enumerate(series):
                value = s.values[index]
                x = LEFT + index * slot + (slot - group) / 2 + n * bar
                top_y = y(value)
                parts.append(
                    f'<rect class="s{n % SERIES_CLASSES}" x="{_number(x)}" y="{_number(top_y)}" width="{_number(max(bar - 1, 1))}" '
                    f'height="{_number(TOP + PLOT_H - top_y)}"><title>{escape(label)} · {escape(s.label)}: '
                    f"{escape(value_format(value))}</title></rect>")
    else:
        for n, s in enumerate(series):
            points = [(LEFT + (i + 0.5) * slot, y(v)) for i, v in enumerate(s.values)]
            parts.append(f'<polyline class="line s{n % SERIES_CLASSES}" fill="none" points="'
                         + " ".join(f"{_number(px)},{_number(py)}" for px, py in points) + '"/>')
            for (px, py), label, value in zip(points, labels, s.values):
                parts.append(f'<circle class="s{n % SERIES_CLASSES}" cx="{_number(px)}" cy="{_number(py)}" r="3">'
                             f"<title>{escape(label)} · {escape(s.label)}: {escape(value_format(value))}</title></circle>")

    # Category labels: at most MAX_LABELS of them, slanted so long names fit.
    every = max(1, math.ceil(len(labels) / MAX_LABELS))
    for index, label in enumerate(labels):
        if index % every:
            continue
        lx, ly = _number(LEFT + (index + 0.5) * slot), TOP + PLOT_H + 14
        parts.append(f'<text class="axis" x="{lx}" y="{ly}" text-anchor="end" transform="rotate(-35 {lx} {ly})">'
                     f"{escape(_short(label))}</text>")

    for n, s in enumerate(series if legend_rows else []):
        ly = HEIGHT + 4 + n * LEGEND_ROW
        parts.append(f'<rect class="s{n % SERIES_CLASSES}" x="{LEFT}" y="{ly - 10}" width="12" height="12"/>'
                     f'<text class="legend" x="{LEFT + 18}" y="{ly}">{escape(s.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
