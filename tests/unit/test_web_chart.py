"""`web/chart.py`: the orders- and amounts-per-day bars."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from b2bsync.store.reports import DailyCount
from b2bsync.web.chart import amounts_by_day, daily_chart, main_currency, orders_by_day


def test_each_day_stacks_its_types_scaled_to_a_round_top() -> None:
    first = date(2026, 3, 1)
    svg = daily_chart(
        orders_by_day(
            [
                DailyCount(date(2026, 3, 2), "online_order", 30),
                DailyCount(date(2026, 3, 2), "invoice_payment", 10),
                DailyCount(date(2026, 3, 3), "online_order", 7),
            ]
        ),
        first,
        days=3,
    )
    bars = re.findall(r'<rect [^>]*height="([\d.]+)"[^>]*><title>([^<]+)</title>', svg)
    assert [title for _, title in bars] == [
        "2026-03-02: 30 online orders",
        "2026-03-02: 10 invoice payments",
        "2026-03-03: 7 online orders",
    ]
    heights = [float(height) for height, _ in bars]
    # 40 orders on the busiest day: the axis tops at 50, so 30 of them fill 60 % of the plot.
    assert heights[0] / sum(heights[:2]) == 0.75
    assert ">50</text>" in svg
    assert ">25</text>" in svg


def test_an_empty_period_still_draws_an_axis() -> None:
    svg = daily_chart({}, date(2026, 3, 1), days=30)
    assert svg.startswith("<svg")
    assert "<rect" not in svg
    assert ">01 Mar</text>" in svg


def _bars(svg: str) -> list[tuple[float, float, str]]:
    found = re.findall(r'<rect [^>]*y="([\d.]+)"[^>]*height="([\d.]+)"[^>]*><title>([^<]+)<', svg)
    return [(float(y), float(height), title) for y, height, title in found]


def test_a_burst_today_does_not_flatten_the_history_it_is_cut_and_labelled() -> None:
    first = date(2026, 3, 1)
    counts = [
        DailyCount(date(2026, 3, 1), "online_order", 40),
        DailyCount(date(2026, 3, 2), "online_order", 35),
        DailyCount(date(2026, 3, 3), "online_order", 900),
    ]
    svg = daily_chart(orders_by_day(counts), first, days=3)
    bars = _bars(svg)
    # Scaled to the busiest complete day (40: the axis tops at 50), not to today's 900.
    assert ">50</text>" in svg
    assert bars[0][1] / bars[1][1] == 40 / 35
    today_y, today_height, today_title = bars[2]
    assert today_title == "2026-03-03: 900 online orders"
    assert today_y >= 14 - 1e-9
    assert today_height <= 220 - 24 - 14 + 1e-9
    assert "↑ 900</text>" in svg


def test_a_store_with_only_today_is_scaled_to_today() -> None:
    svg = daily_chart(
        orders_by_day([DailyCount(date(2026, 3, 3), "online_order", 7)]), date(2026, 3, 1), 3
    )
    assert ">10</text>" in svg
    assert "↑" not in svg


def test_amounts_are_charted_in_the_currency_most_orders_use() -> None:
    day = date(2026, 3, 2)
    counts = [
        DailyCount(day, "online_order", 3, Decimal("1200.50"), "USD"),
        DailyCount(day, "invoice_payment", 2, Decimal("300.25"), "USD"),
        DailyCount(day, "online_order", 1, Decimal("99.00"), "EUR"),
    ]
    assert main_currency(counts) == "USD"
    totals = amounts_by_day(counts, "USD")
    assert totals == {(day, "online_order"): 1200.5, (day, "invoice_payment"): 300.25}
    svg = daily_chart(totals, date(2026, 3, 1), 3, describe=lambda value: f"{value:,.2f} USD")
    titles = [title for _, _, title in _bars(svg)]
    assert titles == [
        "2026-03-02: 1,200.50 USD online orders",
        "2026-03-02: 300.25 USD invoice payments",
    ]
    assert ">2k</text>" in svg
    assert main_currency([]) == ""
