"""`web/chart.py`: the orders-per-day bars."""

from __future__ import annotations

import re
from datetime import date

from b2bsync.store.reports import DailyCount
from b2bsync.web.chart import daily_chart


def test_each_day_stacks_its_types_scaled_to_a_round_top() -> None:
    first = date(2026, 3, 1)
    svg = daily_chart(
        [
            DailyCount(date(2026, 3, 2), "online_order", 30),
            DailyCount(date(2026, 3, 2), "invoice_payment", 10),
            DailyCount(date(2026, 3, 3), "online_order", 7),
        ],
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
    svg = daily_chart([], date(2026, 3, 1), days=30)
    assert svg.startswith("<svg")
    assert "<rect" not in svg
    assert ">01 Mar</text>" in svg
