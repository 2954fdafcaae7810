"""The overview's charts: a value per order type per day (orders, or amounts) as stacked bars in
inline SVG, rendered on the server (no JavaScript), scaling to the width of its box.

The axis is scaled to the busiest *complete* day. Today's bar is still filling: in a burst (the
demo's shoppers, a sale) it would flatten thirty days of history into one line, so when it is
taller it is cut at the top and its total is written above it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from html import escape

from b2bsync.store.reports import DailyCount

__all__ = ["SERIES", "amounts_by_day", "daily_chart", "main_currency", "orders_by_day"]

SERIES: tuple[tuple[str, str, str], ...] = (
    ("online_order", "Online orders", "#2f6fdf"),
    ("invoice_payment", "Invoice payments", "#e08a1e"),
    ("unclassified", "Unclassified", "#8a8f98"),
)
"""(order type, label, colour), bottom of the stack first."""

_WIDTH = 720
_HEIGHT = 220
_LEFT = 48
_BOTTOM = 24
_TOP = 14

DayValues = Mapping[tuple[date, str], float]
"""A value per (day, order type)."""


def orders_by_day(counts: Sequence[DailyCount]) -> dict[tuple[date, str], float]:
    """Orders per (day, type), every currency together."""
    totals: dict[tuple[date, str], float] = {}
    for count in counts:
        key = (count.day, count.order_type)
        totals[key] = totals.get(key, 0) + count.orders
    return totals


def main_currency(counts: Sequence[DailyCount]) -> str:
    """The currency most orders were placed in ("" when none is known)."""
    orders: dict[str, int] = {}
    for count in counts:
        if count.currency:
            orders[count.currency] = orders.get(count.currency, 0) + count.orders
    return max(sorted(orders), key=orders.__getitem__, default="")


def amounts_by_day(counts: Sequence[DailyCount], currency: str) -> dict[tuple[date, str], float]:
    """Order totals (tax included) per (day, type) in `currency`."""
    totals: dict[tuple[date, str], Decimal] = {}
    for count in counts:
        if count.currency == currency:
            key = (count.day, count.order_type)
            totals[key] = totals.get(key, Decimal(0)) + count.amount
    return {key: float(value) for key, value in totals.items()}


def _nice_ceiling(value: float) -> float:
    """The smallest 1/2/5 × 10^n at or above `value` (at least 1): a round top for the axis."""
    step = 1.0
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _short(value: float) -> str:
    """An axis figure: `950`, `12.5k`, `3M`."""
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:g}{suffix}"
    return f"{value:g}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def daily_chart(
    totals: DayValues,
    first_day: date,
    days: int,
    *,
    title: str = "Orders per type per day",
    describe: Callable[[float], str] = _count,
) -> str:
    """An `<svg>` of `days` stacked bars from `first_day` on (the last one is today); bars carry
    `<title>` tooltips with `describe(value)`."""
    span = [first_day + timedelta(days=offset) for offset in range(days)]
    per_day = [sum(totals.get((day, kind), 0) for kind, _, _ in SERIES) for day in span]
    complete = max(per_day[:-1], default=0)
    top = _nice_ceiling(complete or per_day[-1])
    plot_w = _WIDTH - _LEFT
    plot_h = _HEIGHT - _BOTTOM - _TOP
    slot = plot_w / days
    bar = max(1.0, slot * 0.75)
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="none">'
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = _TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_short(top * fraction)}'
            f"</text>"
        )
    label_every = max(1, days // 6)
    for index, day in enumerate(span):
        x = _LEFT + index * slot + (slot - bar) / 2
        base: float = _TOP + plot_h
        for kind, label, colour in SERIES:
            value = totals.get((day, kind), 0)
            if not value:
                continue
            height = min(plot_h * value / top, base - _TOP)
            if height <= 0:
                continue
            base -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{day.isoformat()}: {escape(describe(value))} '
                f"{escape(label.lower())}</title></rect>"
            )
        if per_day[index] > top:
            parts.append(
                f'<text class="clipped" x="{x + bar / 2:.1f}" y="{_TOP - 3}" '
                f'text-anchor="middle">↑ {escape(describe(per_day[index]))}</text>'
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{_HEIGHT - 6}" text-anchor="middle">'
                f"{day.strftime('%d %b')}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
