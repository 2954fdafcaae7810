"""The overview's chart: orders per type per day as a stacked bar chart in inline SVG, rendered
on the server (no JavaScript), scaling to the width of its box."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from html import escape

from b2bsync.store.reports import DailyCount

__all__ = ["SERIES", "daily_chart"]

SERIES: tuple[tuple[str, str, str], ...] = (
    ("online_order", "Online orders", "#2f6fdf"),
    ("invoice_payment", "Invoice payments", "#e08a1e"),
    ("unclassified", "Unclassified", "#8a8f98"),
)
"""(order type, label, colour), bottom of the stack first."""

_WIDTH = 720
_HEIGHT = 220
_LEFT = 40
_BOTTOM = 24
_TOP = 8


def _nice_ceiling(value: int) -> int:
    """The smallest 1/2/5 × 10^n at or above `value` (at least 1): a round top for the axis."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def daily_chart(counts: Sequence[DailyCount], first_day: date, days: int) -> str:
    """An `<svg>` of `days` stacked bars from `first_day` on; bars carry `<title>` tooltips."""
    totals: dict[tuple[date, str], int] = {(c.day, c.order_type): c.orders for c in counts}
    span = [first_day + timedelta(days=offset) for offset in range(days)]
    per_day = [sum(totals.get((day, kind), 0) for kind, _, _ in SERIES) for day in span]
    top = _nice_ceiling(max(per_day, default=0))
    plot_w = _WIDTH - _LEFT
    plot_h = _HEIGHT - _BOTTOM - _TOP
    slot = plot_w / days
    bar = max(1.0, slot * 0.75)
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="Orders per type per day" preserveAspectRatio="none">'
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = _TOP + plot_h * (1 - fraction)
        tick = f"{top * fraction:g}"
        parts.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    label_every = max(1, days // 6)
    for index, day in enumerate(span):
        x = _LEFT + index * slot + (slot - bar) / 2
        base: float = _TOP + plot_h
        for kind, label, colour in SERIES:
            value = totals.get((day, kind), 0)
            if not value:
                continue
            height = plot_h * value / top
            base -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{day.isoformat()}: {value} {escape(label.lower())}'
                f"</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{_HEIGHT - 6}" text-anchor="middle">'
                f"{day.strftime('%d %b')}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
