"""One sync round (`run_once`) and the loop that repeats it (`run_forever`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from b2bsync.bigcommerce.errors import BigCommerceError
from b2bsync.sync.context import SyncContext
from b2bsync.sync.delivery import DeliverySummary, deliver_due
from b2bsync.sync.poller import PollSummary, poll_store
from b2bsync.sync.rechecks import RecheckSummary, recheck_pending
from b2bsync.sync.writeback import WritebackReport, run_writebacks

__all__ = ["RunSummary", "run_forever", "run_once"]

log = structlog.get_logger("b2bsync.sync")


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One `run_once` round."""

    poll: PollSummary
    recheck: RecheckSummary
    delivery: DeliverySummary
    calls: int
    """API requests sent during the round (retries included)."""
    writebacks: WritebackReport | None = None
    """What the write-back rules wrote this round (None when none are configured)."""

    @property
    def calls_per_order(self) -> float:
        """API requests per order read from V2 (0 when none was read)."""
        orders = self.poll.orders_read
        return self.calls / orders if orders else 0.0


async def run_once(ctx: SyncContext) -> RunSummary:
    """Poll, re-check due pending orders, then deliver until nothing is due."""
    before = ctx.calls.count
    poll = await poll_store(ctx)
    recheck = await recheck_pending(ctx, ctx.clock())
    delivery = await deliver_due(ctx, ctx.clock())
    # After delivery, so staff see what the ERP already has; our writes make no versions.
    writebacks = await run_writebacks(ctx, ctx.writeback_rules) if ctx.writeback_rules else None
    summary = RunSummary(poll, recheck, delivery, ctx.calls.count - before, writebacks)
    log.info(
        "sync.round",
        store=ctx.store,
        orders=poll.orders_read,
        versions=poll.processed.versions + recheck.processed.versions,
        pending=poll.processed.pending,
        delivered=delivery.delivered,
        calls=summary.calls,
    )
    return summary


async def run_forever(
    ctx: SyncContext, interval_s: float, stop: asyncio.Event | None = None
) -> None:
    """Repeat `run_once` every `interval_s` seconds until `stop` is set. A round that fails on
    the API is logged and retried at the next interval: everything committed stays committed."""
    stopping = stop or asyncio.Event()
    while not stopping.is_set():
        try:
            await run_once(ctx)
        except BigCommerceError as error:
            log.warning("sync.round_failed", store=ctx.store, error=str(error))
        try:
            await asyncio.wait_for(stopping.wait(), timeout=interval_s)
        except TimeoutError:
            continue
