"""Charts as server-rendered SVG: no JavaScript library, no CDN, nothing to bundle.

The web app must work fully offline and be readable by tests, so every chart is an inline
``<svg>`` built here from the numbers the page already shows: a column chart for ordered
dimensions (fiscal years, months), a horizontal bar chart for categories (courts,
nationalities, outcomes), and a sparkline for the home page's small trends. Each mark
carries a ``<title>`` (the browser's tooltip) and ``data-label`` / ``data-value``
attributes. Every label is escaped: group names come from the data and are untrusted.

Numbers are formatted by :func:`format_value`, the one place that turns a count, a fraction
(percent metrics carry values in [0, 1]) or a number of days into display text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

ORDERED_DIMENSIONS = frozenset(
    {"fy", "fiscal_year", "month", "calendar_month", "cy", "year", "calendar_year", "quarter", "date"}
)

_PALETTE = ("#1f5f8b", "#c8553d", "#2a9d8f", "#8a5a9e", "#e9a23b", "#5c677d")


def format_value(value: object, unit: str | None = "count") -> str:
    """Display text of a value: ``12,345``, ``43.2%`` (fractions), ``87 days``, ``—`` for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if unit == "percent":
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:,.0f} days"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _nice_max(v: float) -> float:
    """A round axis maximum at or above ``v`` (1, 2, 2.5, 5 × 10^k)."""
    if v <= 0:
        return 1.0
    exp = math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10**exp >= v:
            return float(m * 10**exp)
    return float(10 ** (exp + 1))  # pragma: no cover - the loop always returns


def _num(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return None if math.isnan(v) else float(v)


def _svg_open(width: int, height: int, label: str, css: str, chart_id: str | None) -> str:
    ident = f' id="{escape(chart_id)}"' if chart_id else ""
    label = clean_label(label)
    return (
        f'<svg{ident} class="chart {css}" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
    )


def column_chart(
    points: Sequence[tuple[str, object]],
    unit: str | None = "count",
    title: str = "",
    chart_id: str | None = None,
    width: int = 680,
    height: int = 260,
) -> Markup:
    """Vertical bars for an ordered dimension (fiscal years, months), with a value axis."""
    if not points:
        return Markup('<p class="muted">No values to chart.</p>')
    left, right, top, bottom = 64, 12, 14, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [_num(v) for _, v in points]
    top_v = _nice_max(max((v for v in values if v is not None), default=0.0))
    slot = plot_w / len(points)
    bar_w = max(2.0, slot * 0.72)
    parts = [_svg_open(width, height, title or "chart", "column-chart", chart_id)]
    for i in range(5):  # gridlines and value axis
        frac = i / 4
        y = top + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(format_value(top_v * frac, unit))}</text>"
        )
    step = max(1, math.ceil(len(points) / 14))  # thin the category labels when crowded
    for i, ((raw_label, _raw), v) in enumerate(zip(points, values, strict=True)):
        label = clean_label(raw_label)
        x = left + i * slot + (slot - bar_w) / 2
        text = format_value(v, unit)
        if v is not None:
            h = plot_h * (max(v, 0.0) / top_v)
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{_PALETTE[0]}" data-label="{escape(label)}" '
                f'data-value="{escape(v)}"><title>{escape(label)}: {escape(text)}</title></rect>'
            )
        if i % step == 0:
            parts.append(
                f'<text class="axis" x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(_short(label, 10))}</text>'
            )
    parts.append(
        f'<line class="axis-line" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    points: Sequence[tuple[str, object]],
    unit: str | None = "count",
    title: str = "",
    chart_id: str | None = None,
    width: int = 680,
    limit: int = 25,
) -> Markup:
    """Horizontal bars for categories, largest first; at most ``limit`` bars (the table has all)."""
    if not points:
        return Markup('<p class="muted">No values to chart.</p>')
    rows = sorted(
        ((label, _num(v)) for label, v in points), key=lambda p: -(p[1] if p[1] is not None else -1)
    )[:limit]
    bar_h, gap, left, right, top = 18, 6, 190, 90, 6
    height = top * 2 + len(rows) * (bar_h + gap)
    top_v = _nice_max(max((v for _, v in rows if v is not None), default=0.0))
    plot_w = width - left - right
    parts = [_svg_open(width, height, title or "chart", "bar-chart", chart_id)]
    for i, (raw_label, v) in enumerate(rows):
        label = clean_label(raw_label)
        y = top + i * (bar_h + gap)
        text = format_value(v, unit)
        parts.append(
            f'<text class="axis" x="{left - 8}" y="{y + bar_h - 5}" text-anchor="end">'
            f"{escape(_short(label, 28))}</text>"
        )
        w = 0.0 if v is None else plot_w * max(v, 0.0) / top_v
        parts.append(
            f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{_PALETTE[i % 2]}" data-label="{escape(label)}" data-value="{escape(v)}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        parts.append(
            f'<text class="value" x="{left + w + 6:.1f}" y="{y + bar_h - 5}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(
    points: Sequence[tuple[str, object]],
    unit: str | None = "count",
    title: str = "",
    width: int = 160,
    height: int = 40,
) -> Markup:
    """A small trend line (home page cards); empty markup when fewer than two values."""
    pts = [(label, _num(v)) for label, v in points]
    pts = [(label, v) for label, v in pts if v is not None]
    if len(pts) < 2:
        return Markup("")
    lo = min(v for _, v in pts)
    hi = max(v for _, v in pts)
    span = (hi - lo) or 1.0
    pad = 4
    coords = []
    for i, (_, v) in enumerate(pts):
        x = pad + (width - 2 * pad) * i / (len(pts) - 1)
        y = pad + (height - 2 * pad) * (1 - (v - lo) / span)
        coords.append((x, y))
    first, last = pts[0], pts[-1]
    label = clean_label(title) if title else clean_label(
        f"{first[0]}: {format_value(first[1], unit)} → {last[0]}: {format_value(last[1], unit)}"
    )
    poly = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    lx, ly = coords[-1]
    return Markup(
        _svg_open(width, height, label, "sparkline", None)
        + f'<polyline fill="none" stroke="{_PALETTE[0]}" stroke-width="2" points="{poly}"/>'
        + f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="3" fill="{_PALETTE[1]}"/></svg>'
    )


def chart_for(
    dimension: str | None,
    points: Sequence[tuple[str, object]],
    unit: str | None = "count",
    title: str = "",
    chart_id: str | None = None,
) -> Markup:
    """The right chart for a grouping: columns for ordered dimensions, bars for categories."""
    if dimension and dimension.lower() in ORDERED_DIMENSIONS:
        return column_chart(points, unit, title, chart_id)
    return bar_chart(points, unit, title, chart_id)


_CONTROL: dict[int, str | None] = dict.fromkeys(range(32))
_CONTROL.update({9: " ", 10: " ", 13: " ", 0x7F: None, 0xFFFE: None, 0xFFFF: None})


def clean_label(label: object) -> str:
    """A label as one line of text without control characters (invalid in SVG/XML)."""
    return str(label).translate(_CONTROL)


def _short(label: str, n: int) -> str:
    label = clean_label(label)
    return label if len(label) <= n else label[: n - 1] + "…"
