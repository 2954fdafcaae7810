"""When the periodic jobs fire: a poll interval in seconds as a procrastinate cron line."""

from __future__ import annotations

import math

__all__ = ["cron_for_interval"]


def cron_for_interval(interval_s: float) -> str:
    """The cron line (with procrastinate's 6th column for seconds) closest to every
    `interval_s` seconds: `*/N` seconds below a minute, `*/N` minutes below an hour, else
    hourly. Cron steps restart at each minute (hour), so 45 s fires at :00 and :45."""
    if interval_s <= 0:
        raise ValueError("the interval must be positive")
    seconds = max(1, math.ceil(interval_s))
    if seconds < 60:
        return f"* * * * * */{seconds}"
    minutes = min(60, math.ceil(seconds / 60))
    if minutes < 60:
        return f"*/{minutes} * * * *"
    return "0 * * * *"
