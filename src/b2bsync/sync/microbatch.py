"""Micro-batching: a burst of webhook callbacks becomes one incremental scan, not one fetch per
order; the periodic poll keeps running as the safety net, at the interval the watchdog sets.

A batch claims every open change-feed row of the store, then reads what the rows point at with
the poller's batched path: the `orderType` metafield stream when a metafield callback came in,
the V2 scan when an order callback came in (the archived scan for `store/order/archived`), each
one request for a whole burst. Batch scans start a short `batch_overlap` below their watermark
instead of the poll's minutes-long overlap, because they run every second; the safety-net poll
re-reads its full overlap below the same watermark, so nothing a batch scan could miss escapes.
The rows are acknowledged only after the ledger commit, so a process killed between receipt and
processing leaves them open: their lease runs out and the next batch or poll takes them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog

from b2bsync.bigcommerce.errors import BigCommerceError
from b2bsync.store.change_feed import ChangeItem, ChangeSource
from b2bsync.sync.context import SyncContext
from b2bsync.sync.delivery import DeliverySummary, deliver_due
from b2bsync.sync.engine import ProcessSummary, process_changes
from b2bsync.sync.poller import ARCHIVED_STREAM, ORDERS_STREAM, scan_orders
from b2bsync.sync.quota import DEFAULT_SHARE, QuotaShare
from b2bsync.sync.runner import RunSummary, run_once
from b2bsync.sync.streams import scan_metafields

__all__ = ["BatchSettings", "BatchSummary", "MicroBatcher", "poll_round", "process_feed"]

log = structlog.get_logger("b2bsync.microbatch")

ARCHIVED_SCOPE = "store/order/archived"


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """Pacing of the micro-batcher."""

    window_s: float = 0.1
    """How long a burst is gathered after its first callback."""
    min_interval_s: float = 0.5
    """Least time between two batch starts, whatever the quota share would allow."""
    batch_overlap: timedelta = timedelta(seconds=1)
    claim_limit: int = 10_000
    lease: timedelta = timedelta(seconds=60)
    """How long claimed rows stay ours; after a crash they are claimable again when it ends."""
    quota_share: float = DEFAULT_SHARE
    """The share of the store API quota batches and polls keep within (see `sync.quota`)."""

    def __post_init__(self) -> None:
        if self.window_s < 0 or self.min_interval_s < 0:
            raise ValueError("window_s and min_interval_s cannot be negative")
        if not 0 < self.quota_share <= 1:
            raise ValueError("quota_share must be above 0 and at most 1")
        if self.claim_limit < 1:
            raise ValueError("claim_limit must be at least 1")


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """One batch: the rows it took, what it read and processed, what it delivered."""

    rows: int
    orders_read: int
    processed: ProcessSummary
    delivery: DeliverySummary
    calls: int


async def _claim(ctx: SyncContext, settings: BatchSettings) -> list[ChangeItem]:
    async with ctx.db.transaction() as tx:
        return await tx.feed.claim(ctx.store, settings.claim_limit, ctx.clock(), settings.lease)


async def _ack(ctx: SyncContext, items: list[ChangeItem]) -> None:
    async with ctx.db.transaction() as tx:
        await tx.feed.ack([item.id for item in items], ctx.clock())


async def process_feed(
    ctx: SyncContext, settings: BatchSettings = BatchSettings()
) -> BatchSummary | None:
    """Process every open change-feed row of the store in one batch; None when there was none."""
    items = await _claim(ctx, settings)
    if not items:
        return None
    before = ctx.calls.count
    now = ctx.clock()
    scoped = dataclasses.replace(
        ctx, settings=dataclasses.replace(ctx.settings, overlap=settings.batch_overlap)
    )
    processed = ProcessSummary()
    changed: set[int] = set()
    read: set[int] = set()
    sources = {item.source for item in items}
    if ChangeSource.METAFIELD in sources:
        changed |= (await scan_metafields(scoped, now)).changed_orders
    if sources - {ChangeSource.METAFIELD}:
        read |= (await scan_orders(scoped, ORDERS_STREAM, now, processed)).order_ids
    if any(item.scope == ARCHIVED_SCOPE for item in items):
        extra = {"is_deleted": "true"}
        read |= (await scan_orders(scoped, ARCHIVED_STREAM, now, processed, extra)).order_ids
    # Announced orders no scan read again (e.g. a metafield change only) are composed from
    # their drafts; an order with no draft yet waits for the V2 scan, which reads every new one.
    recompose = (changed | {item.order_id for item in items}) - read
    if recompose:
        processed.add(await process_changes(ctx, recompose, now))
    await _ack(ctx, items)
    delivery = await deliver_due(ctx, ctx.clock())
    return BatchSummary(len(items), len(read), processed, delivery, ctx.calls.count - before)


async def poll_round(ctx: SyncContext, settings: BatchSettings = BatchSettings()) -> RunSummary:
    """The safety net: take the store's open change-feed rows, run the full poll (`run_once`:
    every stream, both scans, re-checks, delivery, write-back), then acknowledge the rows the
    poll covered. Rows of a process killed in between stay leased and are taken again."""
    items = await _claim(ctx, settings)
    summary = await run_once(ctx)
    if items:
        await _ack(ctx, items)
    return summary


class MicroBatcher:
    """Runs batches when the intake wakes it, and the full poll every `poll_interval()` seconds.

    One task per store does both, so a batch and a poll never scan the same stream at once.
    `poll_interval` is read before every wait: the watchdog shortens it while webhooks are
    unhealthy. Both keep within `settings.quota_share` of the store API quota (`quota`): a
    batch waits until the share allows its expected cost, so a busy store gets fewer, fuller
    batches.
    """

    def __init__(
        self,
        ctx: SyncContext,
        *,
        settings: BatchSettings = BatchSettings(),
        poll_interval: Callable[[], float] = lambda: 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.poll_interval = poll_interval
        self._monotonic = monotonic
        self._wake = asyncio.Event()
        self.batches = 0
        self.polls = 0
        self.quota = QuotaShare(share=settings.quota_share)
        self._batch_cost = 2.0
        """Expected requests of the next batch: a moving average of the last ones."""

    def _sent(self) -> int:
        return self.ctx.client.store_http.governor.sent

    def _spent(self, before: int) -> int:
        governor = self.ctx.client.store_http.governor
        self.quota.learn(governor.quota, governor.window_s)
        calls = governor.sent - before
        self.quota.spend(calls, self._monotonic())
        return calls

    def wake(self) -> None:
        """Tell the batcher that rows arrived (the intake's `on_accepted`)."""
        self._wake.set()

    async def poll_round(self) -> RunSummary:
        """`poll_round` for this batcher's store, counted in `polls`."""
        before = self._sent()
        try:
            summary = await poll_round(self.ctx, self.settings)
        finally:
            self._spent(before)
        self.polls += 1
        return summary

    async def _batch(self) -> BatchSummary | None:
        before = self._sent()
        try:
            return await process_feed(self.ctx, self.settings)
        finally:
            calls = self._spent(before)
            self._batch_cost = 0.8 * self._batch_cost + 0.2 * max(calls, 1)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Batch and poll until `stop` is set (or the task is cancelled). The first round is a
        poll, which also takes whatever a previous process left in the change feed."""
        stopping = stop or asyncio.Event()
        next_poll = self._monotonic()
        last_batch = float("-inf")
        while not stopping.is_set():
            now = self._monotonic()
            try:
                if now >= next_poll:
                    self._wake.clear()
                    await self.poll_round()
                    next_poll = self._monotonic() + self.poll_interval()
                    continue
                if self._wake.is_set():
                    self._wake.clear()
                    pause = max(
                        self.settings.window_s,
                        last_batch + self.settings.min_interval_s - now,
                        self.quota.wait_s(self._batch_cost, now),
                    )
                    await asyncio.sleep(pause)
                    last_batch = self._monotonic()
                    batch = await self._batch()
                    if batch is not None:
                        self.batches += 1
                        log.info(
                            "microbatch.done",
                            store=self.ctx.store,
                            rows=batch.rows,
                            read=batch.orders_read,
                            versions=batch.processed.versions,
                            delivered=batch.delivery.delivered,
                            calls=batch.calls,
                            duration_ms=round((self._monotonic() - last_batch) * 1000),
                        )
                    continue
            except BigCommerceError as error:
                # Rows stay leased and are retried after the lease; the poll re-reads anyway.
                log.warning("microbatch.failed", store=self.ctx.store, error=str(error))
                next_poll = min(next_poll, self._monotonic() + self.settings.min_interval_s * 4)
            await self._sleep_until_woken(next_poll - self._monotonic(), stopping)

    async def _sleep_until_woken(self, wait_s: float, stopping: asyncio.Event) -> None:
        waiters = [
            asyncio.create_task(self._wake.wait()),
            asyncio.create_task(stopping.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=max(0.0, wait_s), return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
