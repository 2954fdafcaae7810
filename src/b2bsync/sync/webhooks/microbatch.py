"""Micro-batching: a burst of webhook callbacks becomes one incremental scan, not one fetch per
order; the periodic poll keeps running as the safety net, at the interval the watchdog sets.

A batch claims every open change-feed row of the store, then reads what the rows point at with
the poller's batched path: the `orderType` metafield stream when a metafield callback came in,
the V2 scan when an order callback came in (the archived scan for `store/order/archived`), each
one request for a whole burst. Batch scans start a short `batch_overlap` below their watermark
instead of the poll's minutes-long overlap, because they run every second; the safety-net poll
re-reads its full overlap below the same watermark, so nothing a batch scan could miss escapes.
The rows are acknowledged only after the ledger commit, so a process killed between receipt and
processing leaves them open: their lease runs out and a later batch takes them (the first poll of
a new process, and the end of every poll, wake one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from b2bsync.bigcommerce import BigCommerceError, Family, gated
from b2bsync.store.change_feed import ChangeItem, ChangeSource
from b2bsync.sync.context import SyncContext
from b2bsync.sync.delivery import DeliverySummary, deliver_due
from b2bsync.sync.engine import ProcessSummary, process_changes
from b2bsync.sync.poller import ARCHIVED_STREAM, ORDERS_STREAM, scan_orders
from b2bsync.sync.runner import RunSummary, run_once
from b2bsync.sync.streams import scan_metafields
from b2bsync.sync.webhooks.quota import B2B_QUOTA, DEFAULT_SHARE, QuotaShare

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
    """The share of the store API quota batches and polls keep within (see `quota`)."""

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


async def _wait_out(delay: Callable[[], float]) -> None:
    """Sleep until `delay()` says 0. The bucket's arithmetic tells how long to wait; asked again
    after each sleep, because the other lane may have spent or a poll begun or ended."""
    while (wait := delay()) > 0:  # noqa: ASYNC110 - a computed wait, no event to wait for
        await asyncio.sleep(wait)


class MicroBatcher:
    """Runs batches when the intake wakes it, and the safety-net poll every `poll_interval()`
    seconds beside them.

    The first round is a poll on its own: it catches up on what happened while no process ran
    and takes whatever a previous process left in the change feed, at the governor's pace. After
    that a poll runs as a task of its own next to the batches, started every `poll_interval()`
    seconds (start to start, so consecutive polls' overlaps meet), and never two at once.
    `poll_interval` is read at each start: the watchdog shortens it while webhooks are
    unhealthy. Everything keeps within `settings.quota_share` of the store API quota (`quota`)
    and of B2B Edition's (`b2b_quota`): a batch waits until the share allows its expected cost,
    so a busy store gets fewer, fuller batches, and each request of a poll waits for its part of
    the share, so a poll of tens of pages neither bursts through the share nor holds the batches
    up.

    A batch and a poll may scan the same stream at once: each page commits in its own
    transaction over locked ledger rows, a read older than the ledger changes nothing, and a
    checkpoint never moves back (`CheckpointRepository.advance`).
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
        self._poll_done = asyncio.Event()
        self.batches = 0
        self.polls = 0
        self.quota = QuotaShare(share=settings.quota_share)
        """The share of the store API quota (batches wait on it, the poll is paced by it)."""
        self.b2b_quota = QuotaShare(
            share=settings.quota_share, quota=B2B_QUOTA[0], window_s=B2B_QUOTA[1]
        )
        """The share of B2B Edition's quota (the poll's streams and re-checks use it)."""
        self._batch_cost = 2.0
        """Expected requests of the next batch: a moving average of the last ones."""
        self._batch_calls = 0

    def wake(self) -> None:
        """Tell the batcher that rows arrived (the intake's `on_accepted`)."""
        self._wake.set()

    def _share_of(self, family: Family) -> QuotaShare:
        """The family's bucket, its quota brought up to what the governor's headers say."""
        client = self.ctx.client
        governor = (client.store_http if family is Family.STORE else client.b2b_http).governor
        share = self.quota if family is Family.STORE else self.b2b_quota
        share.learn(governor.quota, governor.window_s)
        return share

    async def _count_request(self, family: Family) -> None:
        # A batch waited for its expected cost before it began; its requests are taken out as
        # they go, so that a poll running beside it sees what is left.
        self._share_of(family).spend(1, self._monotonic())
        if family is Family.STORE:
            self._batch_calls += 1

    async def _pace_poll_request(self, family: Family) -> None:
        share = self._share_of(family)
        if family is Family.STORE:
            await _wait_out(lambda: share.poll_wait_s(self._batch_cost, self._monotonic()))
            share.take_for_poll(self._batch_cost, self._monotonic())
        else:
            # Batches make no B2B Edition request: the poll has that bucket to itself.
            await _wait_out(lambda: share.wait_s(1, self._monotonic()))
            share.spend(1, self._monotonic())

    def spending(
        self, service: Callable[[], Awaitable[None]]
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        """`service` (e.g. the watchdog) with its requests taken out of this batcher's shares."""

        async def run() -> None:
            with gated(self._count_request):
                await service()

        return run

    async def poll_round(self) -> RunSummary:
        """`poll_round` for this batcher's store (the change feed, then a full `run_once`) at
        the governor's pace, counted in `polls`; its requests are taken out of the shares as
        they go (a catch-up far over budget leaves a bounded debt)."""
        with gated(self._count_request):
            summary = await poll_round(self.ctx, self.settings)
        self.polls += 1
        return summary

    async def paced_poll(self) -> RunSummary:
        """A full `run_once` whose every store API request waits for its part of the share;
        the change-feed rows are left to the batches, which are woken afterwards for any that
        a failed batch left behind."""
        self.quota.start_poll(self._monotonic())
        try:
            with gated(self._pace_poll_request):
                summary = await run_once(self.ctx)
        finally:
            self.quota.end_poll(self._monotonic())
            self._poll_done.set()
            self.wake()
        self.polls += 1
        return summary

    async def _batch(self) -> BatchSummary | None:
        self._batch_calls = 0
        try:
            with gated(self._count_request):
                batch = await process_feed(self.ctx, self.settings)
        finally:
            self._batch_cost = 0.8 * self._batch_cost + 0.2 * max(self._batch_calls, 1)
        # The client's call count includes the requests of a poll running meanwhile.
        return None if batch is None else dataclasses.replace(batch, calls=self._batch_calls)

    async def _wait_for_share(self, last_batch: float) -> None:
        """Gather the burst, keep the least interval, then wait until the share allows the
        batch's expected cost (asked again after each wait: a poll may have begun or ended)."""
        now = self._monotonic()
        await asyncio.sleep(
            max(self.settings.window_s, last_batch + self.settings.min_interval_s - now)
        )
        await _wait_out(lambda: self.quota.wait_s(self._batch_cost, self._monotonic()))

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Batch and poll until `stop` is set (or the task is cancelled)."""
        stopping = stop or asyncio.Event()
        next_poll = self._monotonic()
        polling: asyncio.Task[RunSummary] | None = None
        last_batch = float("-inf")
        try:
            while not stopping.is_set():
                try:
                    if polling is not None and polling.done():
                        finished, polling = polling, None
                        self._poll_done.clear()
                        finished.result()
                    now = self._monotonic()
                    if polling is None and now >= next_poll:
                        next_poll = now + self.poll_interval()
                        if self.polls == 0:
                            self._wake.clear()
                            await self.poll_round()
                        else:
                            self._poll_done.clear()
                            polling = asyncio.create_task(self.paced_poll())
                        continue
                    if self._wake.is_set():
                        self._wake.clear()
                        await self._wait_for_share(last_batch)
                        last_batch = self._monotonic()
                        batch = await self._batch()
                        if batch is not None:
                            self._log_batch(batch, last_batch)
                        continue
                except BigCommerceError as error:
                    # Rows stay leased and are retried after the lease; the poll re-reads anyway.
                    log.warning("microbatch.failed", store=self.ctx.store, error=str(error))
                    retry_at = self._monotonic() + self.settings.min_interval_s * 4
                    next_poll = min(next_poll, retry_at)
                # While a poll runs, the next cannot start before it ends, which wakes us.
                until_poll = None if polling else max(next_poll - self._monotonic(), 0.0)
                await self._sleep_until_woken(until_poll, stopping)
        finally:
            if polling is not None:
                polling.cancel()
                await asyncio.gather(polling, return_exceptions=True)

    def _log_batch(self, batch: BatchSummary, started: float) -> None:
        self.batches += 1
        log.info(
            "microbatch.done",
            store=self.ctx.store,
            rows=batch.rows,
            read=batch.orders_read,
            versions=batch.processed.versions,
            delivered=batch.delivery.delivered,
            calls=batch.calls,
            duration_ms=round((self._monotonic() - started) * 1000),
        )

    async def _sleep_until_woken(self, wait_s: float | None, stopping: asyncio.Event) -> None:
        waiters = [
            asyncio.create_task(self._wake.wait()),
            asyncio.create_task(stopping.wait()),
            asyncio.create_task(self._poll_done.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=wait_s, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
