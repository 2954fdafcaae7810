"""Backfill: walk a store's history from a start date into the ledger, then re-check and deliver.

Every page of the V2 scan commits with its checkpoint, so a backfill stopped half-way resumes
where it stopped: `scan_scope` says where the live scan will start (the checkpoint's watermark
− overlap once there is one, else the start date) and how many orders it will read from there.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from b2bsync.domain.watermark import scan_lower_bound
from b2bsync.sync.context import SyncContext
from b2bsync.sync.delivery import DeliverySummary, deliver_due
from b2bsync.sync.poller import ORDERS_STREAM, PollSummary, poll_store
from b2bsync.sync.rechecks import RecheckSummary, recheck_pending

__all__ = ["BackfillSummary", "ScanScope", "backfill", "scan_scope"]


@dataclass(frozen=True, slots=True)
class ScanScope:
    """Where the live V2 scan starts and how many orders it reads from there."""

    since: datetime
    """The start date asked for."""
    lower: datetime
    """The scan's lower bound: `since` on a new ledger, else the checkpoint's watermark −
    overlap."""
    total: int
    """Orders modified since `lower`, by the store's count (one API call)."""

    @property
    def resumed_from(self) -> datetime | None:
        """The checkpoint's lower bound when the scan resumes there instead of at `since`."""
        return self.lower if self.lower != self.since else None


@dataclass(frozen=True, slots=True)
class BackfillSummary:
    """What a finished backfill read, wrote and delivered."""

    scope: ScanScope
    poll: PollSummary
    recheck: RecheckSummary
    delivery: DeliverySummary
    api_calls: int
    """Every API call of the store's client since its context opened."""

    @property
    def new_versions(self) -> int:
        """Ledger versions written by the scan and the re-checks after it."""
        return self.poll.processed.versions + self.recheck.processed.versions


async def scan_scope(ctx: SyncContext, since: datetime) -> ScanScope:
    """Where the live V2 scan will start (the checkpoint's watermark − overlap, or `since` on a
    new ledger) and how many orders it will read from there (one count call)."""
    async with ctx.db.transaction(readonly=True) as tx:
        checkpoint = await tx.checkpoints.get(ctx.store, ORDERS_STREAM)
    lower = since
    if checkpoint is not None and checkpoint.watermark is not None:
        lower = scan_lower_bound(checkpoint.watermark, ctx.settings.overlap)
    total = (await ctx.client.orders.count({"min_date_modified": lower})).count
    return ScanScope(since=since, lower=lower, total=total)


async def backfill(
    ctx: SyncContext,
    scope: ScanScope,
    *,
    stop: asyncio.Event | None = None,
    on_scanned: Callable[[], None] | None = None,
) -> BackfillSummary | None:
    """Poll the store from `scope.since` (its first scan starts there), then re-check pending
    orders and deliver what is due.

    Setting `stop` cancels the scan: the page in flight is dropped, committed pages stay, and
    the result is None. `on_scanned` is told when the scan is over, before the re-checks.
    """
    ctx = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, start=scope.since))
    poll = asyncio.create_task(poll_store(ctx))
    watcher = asyncio.create_task((stop or asyncio.Event()).wait())
    try:
        await asyncio.wait({poll, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if watcher.done() and not poll.done():
            poll.cancel()
    finally:
        watcher.cancel()
    try:
        summary = await poll
    except asyncio.CancelledError:
        return None
    if on_scanned is not None:
        on_scanned()
    recheck = await recheck_pending(ctx, ctx.clock())
    delivery = await deliver_due(ctx, ctx.clock())
    return BackfillSummary(scope, summary, recheck, delivery, ctx.calls.count)
