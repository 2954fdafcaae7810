"""One sync round (`run_once`) and the loop that repeats it (`run_forever`)."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import SQLAlchemyError

from b2bsync.bigcommerce import BigCommerceError, Governor
from b2bsync.sync.alerts import AlertRound
from b2bsync.sync.context import SyncContext
from b2bsync.sync.delivery import DeliverySummary, deliver_due
from b2bsync.sync.loopback.writeback import WritebackReport, run_writebacks
from b2bsync.sync.poller import ORDERS_STREAM, PollSummary, poll_store
from b2bsync.sync.rechecks import RecheckSummary, recheck_pending

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
    alerts: AlertRound | None = None
    """What the alerts recorded and sent after the round (None when none are configured)."""

    @property
    def calls_per_order(self) -> float:
        """API requests per order read from V2 (0 when none was read)."""
        orders = self.poll.orders_read
        return self.calls / orders if orders else 0.0


def _governors(ctx: SyncContext) -> tuple[Governor, Governor]:
    return ctx.client.store_http.governor, ctx.client.b2b_http.governor


async def _evaluate_alerts(ctx: SyncContext, throttled_before: int) -> AlertRound | None:
    """Evaluate the alerts for the store; a database failure here is logged and left to the
    next round, since alerts must never be what stops the sync."""
    if ctx.alerts is None:
        return None
    governors = _governors(ctx)
    spent = tuple(
        governor.family.value
        for governor in governors
        if governor.quota is not None and governor.left is not None and governor.left <= 0
    )
    try:
        return await ctx.alerts.evaluate(
            ctx.db,
            ctx.store,
            ctx.clock(),
            orders_stream=ORDERS_STREAM,
            throttled=sum(governor.throttled for governor in governors) - throttled_before,
            windows_spent=spent,
        )
    except SQLAlchemyError as error:
        log.warning("alerts.evaluation_failed", store=ctx.store, error=str(error))
        return None


async def run_once(ctx: SyncContext) -> RunSummary:
    """Poll, re-check due pending orders, deliver until nothing is due, write back; then
    evaluate the alerts (also when the round failed on the API: that is when they matter)."""
    throttled_before = sum(governor.throttled for governor in _governors(ctx))
    try:
        summary = await _round(ctx)
    except BigCommerceError:
        await _evaluate_alerts(ctx, throttled_before)
        raise
    alerts = await _evaluate_alerts(ctx, throttled_before)
    return dataclasses.replace(summary, alerts=alerts)


async def _round(ctx: SyncContext) -> RunSummary:
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
