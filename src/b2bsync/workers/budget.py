"""The store's rate budget handed from one job to the next.

A store's API calls only happen in the job holding its lock, so at any moment one process calls
the store. That process's governor starts from what the previous job's governor knew of the
window (kept in the checkpoints table, stream `rate_budget`), not from a blind probe that could
land on a spent window, and leaves what it knows for the next job.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from b2bsync.bigcommerce.governor import GovernorRegistry, WindowReading
from b2bsync.sync.context import SyncContext

__all__ = ["BUDGET_STREAM", "restore_budget", "save_budget"]

BUDGET_STREAM = "rate_budget"
"""Checkpoint stream holding, per API family, the window the last job saw."""


async def restore_budget(ctx: SyncContext, registry: GovernorRegistry) -> int:
    """Seed the store's governors in `registry` from the last job's window; how many were."""
    async with ctx.db.transaction(readonly=True) as tx:
        checkpoint = await tx.checkpoints.get(ctx.store, BUDGET_STREAM)
    saved: dict[str, Any] = dict(checkpoint.cursor or {}) if checkpoint is not None else {}
    wall, monotonic = ctx.clock(), time.monotonic()
    seeded = 0
    for governor in registry.governors():
        window = saved.get(governor.family.value)
        if not isinstance(window, dict):
            continue
        reset_s = (datetime.fromisoformat(window["reset_at"]) - wall).total_seconds()
        if reset_s <= 0:
            continue  # that window has closed: the next one starts full
        reading = WindowReading(
            int(window["quota"]), int(window["left"]), reset_s, float(window["window_s"])
        )
        governor.take_over(reading, monotonic)
        seeded += 1
    return seeded


async def save_budget(ctx: SyncContext, registry: GovernorRegistry) -> None:
    """Keep what the store's governors know of their windows for the next job."""
    wall, monotonic = ctx.clock(), time.monotonic()
    windows: dict[str, Any] = {}
    for governor in registry.governors():
        reading = governor.handoff(monotonic)
        if reading is not None:
            windows[governor.family.value] = {
                "quota": reading.quota,
                "left": reading.left,
                "window_s": reading.window_s,
                "reset_at": (wall + timedelta(seconds=reading.reset_s)).isoformat(),
            }
    async with ctx.db.transaction() as tx:
        await tx.checkpoints.put(ctx.store, BUDGET_STREAM, watermark=None, cursor=windows, now=wall)
