"""The store's rate budget handed from one job to the next.

A store's API calls only happen in the job holding its lock, so at any moment one process calls
the store. That process's governor starts from what the previous job's governor knew (kept in
the checkpoints table, stream `rate_budget`) and leaves what it knows for the next job:

- the server's window: a new job does not send a blind probe into a window the previous job
  spent (the governor spends a whole quota by three quarters of the window, so a job ending in
  the last quarter leaves it empty);
- the store's own budget window (`plan` / `rate_budget`): without it each job would start a
  full budget, and consecutive jobs together would exceed the cap.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from b2bsync.bigcommerce import GovernorRegistry, WindowReading
from b2bsync.sync.context import SyncContext

__all__ = ["BUDGET_STREAM", "handed_over"]

BUDGET_STREAM = "rate_budget"
"""Checkpoint stream holding, per API family, the windows the last job saw."""
_OWN = ".budget"
"""Suffix of a family's key for its own budget window (the server's window has none)."""


def _encode(reading: WindowReading, wall: datetime) -> dict[str, Any]:
    return {
        "quota": reading.quota,
        "left": reading.left,
        "window_s": reading.window_s,
        "reset_at": (wall + timedelta(seconds=reading.reset_s)).isoformat(),
    }


def _decode(window: Any, wall: datetime) -> WindowReading | None:
    """The saved window as of `wall`; None when absent or closed (the next one starts full)."""
    if not isinstance(window, dict):
        return None
    reset_s = (datetime.fromisoformat(window["reset_at"]) - wall).total_seconds()
    if reset_s <= 0:
        return None
    return WindowReading(
        int(window["quota"]), int(window["left"]), reset_s, float(window["window_s"])
    )


async def _restore(ctx: SyncContext, registry: GovernorRegistry) -> int:
    """Seed the store's governors in `registry` from the last job's windows; how many were."""
    async with ctx.db.transaction(readonly=True) as tx:
        checkpoint = await tx.checkpoints.get(ctx.store, BUDGET_STREAM)
    saved: dict[str, Any] = dict(checkpoint.cursor or {}) if checkpoint is not None else {}
    wall, monotonic = ctx.clock(), time.monotonic()
    seeded = 0
    for governor in registry.governors():
        server = _decode(saved.get(governor.family.value), wall)
        if server is not None:
            governor.take_over(server, monotonic)
            seeded += 1
        own = _decode(saved.get(governor.family.value + _OWN), wall)
        if own is not None:
            governor.take_over_budget(own, monotonic)
            seeded += 1
    return seeded


async def _save(ctx: SyncContext, registry: GovernorRegistry) -> None:
    """Keep what the store's governors know of their windows for the next job."""
    wall, monotonic = ctx.clock(), time.monotonic()
    windows: dict[str, Any] = {}
    for governor in registry.governors():
        server = governor.handoff(monotonic)
        if server is not None:
            windows[governor.family.value] = _encode(server, wall)
        own = governor.budget_handoff(monotonic)
        if own is not None:
            windows[governor.family.value + _OWN] = _encode(own, wall)
    async with ctx.db.transaction() as tx:
        await tx.checkpoints.put(ctx.store, BUDGET_STREAM, watermark=None, cursor=windows, now=wall)


@asynccontextmanager
async def handed_over(ctx: SyncContext, registry: GovernorRegistry) -> AsyncIterator[None]:
    """A job's calls to `ctx.store` with governors (in `registry`, the client's) that continue
    from the previous job's windows and leave theirs for the next one, even when it fails."""
    await _restore(ctx, registry)
    try:
        yield
    finally:
        await _save(ctx, registry)
