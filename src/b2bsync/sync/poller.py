"""The poller: signal streams first, then the incremental V2 scan, page by page through the
engine, each page committed together with the advanced watermark (docs/sync-semantics.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from b2bsync.bigcommerce import OrderPage
from b2bsync.domain.watermark import ScanCursor, scan_lower_bound
from b2bsync.sync.context import SyncContext
from b2bsync.sync.engine import ProcessSummary, process_changes, process_page
from b2bsync.sync.streams import StreamResult, run_streams

__all__ = ["ARCHIVED_STREAM", "ORDERS_STREAM", "PollSummary", "poll_store", "scan_orders"]

ORDERS_STREAM = "v2_orders"
ARCHIVED_STREAM = "v2_archived"
"""Archived orders leave `GET /v2/orders`; they are read with `is_deleted=true` (not documented
as a filter: where it is ignored this scan only repeats orders, which is harmless)."""

ORDER_INCLUDE = {"include": "consignments.line_items", "consignment_structure": "object"}


@dataclass(slots=True)
class ScanSummary:
    """One V2 scan: pages requested and orders read."""

    stream: str
    pages: int = 0
    orders: int = 0
    """Distinct orders read and processed (repeats at an anchor second are dropped)."""
    order_ids: set[int] = field(default_factory=set)


@dataclass(slots=True)
class PollSummary:
    """One poll: the signal streams, the V2 scans and what processing did."""

    streams: list[StreamResult]
    scans: list[ScanSummary]
    processed: ProcessSummary
    recomposed: int
    """Orders composed again from their drafts because only their signals changed."""

    @property
    def orders_read(self) -> int:
        """Orders read from V2 in this poll."""
        return sum(scan.orders for scan in self.scans)


async def scan_orders(
    ctx: SyncContext,
    stream: str,
    now: datetime,
    processed: ProcessSummary,
    extra: Mapping[str, Any] | None = None,
) -> ScanSummary:
    """One incremental scan of `GET /v2/orders` from the stream's watermark − overlap (or the
    configured start) up to `now`, with `ScanCursor`; each page commits with its watermark."""
    async with ctx.db.transaction(readonly=True) as tx:
        checkpoint = await tx.checkpoints.get(ctx.store, stream)
    watermark = checkpoint.watermark if checkpoint is not None else None
    lower = (
        scan_lower_bound(watermark, ctx.settings.overlap)
        if watermark is not None
        else ctx.settings.first_start(now)
    )
    summary = ScanSummary(stream)
    first = ScanCursor(anchor=lower, page_size=ctx.settings.page_size, horizon=now)
    cursor: ScanCursor | None = first
    # One page ahead: the next page is read while this one is decided and written. Its query
    # depends only on this page's positions, and the governor still paces every request.
    ahead: asyncio.Task[OrderPage] | None = asyncio.create_task(_read(ctx, first, extra))
    try:
        while cursor is not None and ahead is not None:
            page = await ahead
            positions = page.positions
            if positions and len(positions) < page.size:
                # A record without a readable id or date still fills its page; repeating a
                # position read changes neither the newest date nor the ids seen.
                positions = positions + [positions[-1]] * (page.size - len(positions))
            following = cursor.advance(positions)
            ahead = asyncio.create_task(_read(ctx, following, extra)) if following else None
            # Positions include malformed orders' where readable: the scan and its watermark
            # move past them (they wait in quarantine), like past any other order of the page.
            fresh_pairs = cursor.fresh(positions)
            fresh_ids = {order.id for order in page.orders} & {i for i, _ in fresh_pairs}
            fresh = [order for order in page.orders if order.id in fresh_ids]
            async with ctx.db.transaction() as tx:
                processed.add(await process_page(ctx, tx, fresh, now, rejected=page.rejected))
                await tx.checkpoints.advance(
                    ctx.store, stream, [modified for _, modified in fresh_pairs], now
                )
            first_read = len(fresh_ids - summary.order_ids)
            summary.pages += 1
            summary.orders += first_read
            summary.order_ids |= fresh_ids
            if ctx.on_page is not None:
                ctx.on_page(stream, first_read)
            cursor = following
    finally:
        if ahead is not None:
            ahead.cancel()
            await asyncio.gather(ahead, return_exceptions=True)
    return summary


async def _read(ctx: SyncContext, cursor: ScanCursor, extra: Mapping[str, Any] | None) -> OrderPage:
    """The page `cursor` asks for next."""
    query = cursor.query()
    filters: dict[str, Any] = {
        **(extra or {}),
        **ORDER_INCLUDE,
        "min_date_modified": query.min_date_modified,
        "sort": query.sort,
    }
    if query.max_date_modified is not None:
        filters["max_date_modified"] = query.max_date_modified
    if query.min_id is not None:
        filters["min_id"] = query.min_id
    return await ctx.client.orders.checked_page(
        filters, page=query.page, limit=ctx.settings.page_size
    )


async def poll_store(ctx: SyncContext, *, archived: bool = True) -> PollSummary:
    """Run the signal streams, then the V2 scans (live, and archived unless `archived` is
    False); orders whose signals changed but that no scan read are composed from drafts."""
    now = ctx.clock()
    streams = await run_streams(ctx, now)
    processed = ProcessSummary()
    scans = [await scan_orders(ctx, ORDERS_STREAM, now, processed)]
    if archived:
        scans.append(
            await scan_orders(ctx, ARCHIVED_STREAM, now, processed, {"is_deleted": "true"})
        )
    read = set().union(*(scan.order_ids for scan in scans))
    changed = set().union(*(result.changed_orders for result in streams)) - read
    if changed:
        processed.add(await process_changes(ctx, changed, now))
    return PollSummary(streams, scans, processed, len(changed))
