"""Signal streams: incremental scans of metafields, B2B orders, invoices, payments and companies
into the local caches, each with its own checkpoint. Each returns the orders whose signals changed.

- `metafields`: `GET /v3/orders/metafields?key=orderType&date_modified:min=...`, cursor paged;
  ids never move under a cursor, so the watermark is the newest date seen, capped at the scan's
  start (a metafield changed behind the cursor is newer than that and read next time).
- `b2b_orders`: sorted by `updatedAt` ascending from a moving `minModified` anchor,
  always at offset 0 (like the V2 scan), because a record updated during the scan jumps to the
  end and would shift an unread one into an already-read offset (the client's
  `b2b.orders_modified_since` pages B2B orders this way).
- `invoices`, `payments` (and `companies`): read newest first (`sortBy=updatedAt`,
  `orderBy=DESC`) until older than the lower bound (invoices and payments have no date filter).
  A change during the scan moves a row to the front, which only repeats rows, never skips one.
  Rows are cached a page per transaction; the watermark, the scan's start, is saved after the
  last page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from b2bsync.bigcommerce import Rejects
from b2bsync.bigcommerce.models.b2b import Company, Invoice, Payment
from b2bsync.domain.order_type import ORDER_TYPE_METAFIELD_KEY
from b2bsync.domain.rejects import Rejected, RejectedStream
from b2bsync.domain.watermark import scan_lower_bound
from b2bsync.store.database import Transaction
from b2bsync.store.signals import MetafieldSignal
from b2bsync.sync.context import SyncContext
from b2bsync.sync.mapping import (
    b2b_order_signal,
    company_row,
    invoice_row,
    metafield_signal,
    payment_row,
)

__all__ = [
    "B2B_STREAMS",
    "STREAMS",
    "StreamResult",
    "run_streams",
    "scan_b2b_orders",
    "scan_companies",
    "scan_invoices",
    "scan_metafields",
    "scan_payments",
]

T = TypeVar("T")

FLUSH_EVERY = 1000
"""Cache rows written per transaction while a stream is read."""


@dataclass(frozen=True, slots=True)
class StreamResult:
    """What one signal stream read, and which orders it found changed."""

    stream: str
    read: int
    """Rows read from the API (repeats included)."""
    changed_orders: frozenset[int]
    rejected: int = 0
    """Malformed records set aside (quarantined) instead of stopping the stream."""


EVERYTHING = datetime(1970, 1, 1, tzinfo=UTC)
"""Lower bound of the first scan of the small caches (companies, invoices, payments): an order
in the backfill window may name a company or pay an invoice untouched for longer than that."""


async def _lower_bound(
    ctx: SyncContext, stream: str, now: datetime, *, first: datetime | None = None
) -> datetime:
    """Where this scan of the stream starts: its watermark − overlap (`first`, or the
    configured start, before the first scan)."""
    async with ctx.db.transaction(readonly=True) as tx:
        checkpoint = await tx.checkpoints.get(ctx.store, stream)
    watermark = checkpoint.watermark if checkpoint is not None else None
    if watermark is None:
        return first if first is not None else ctx.settings.first_start(now)
    return scan_lower_bound(watermark, ctx.settings.overlap)


async def _save_watermark(
    ctx: SyncContext, stream: str, stamps: Sequence[datetime], now: datetime
) -> None:
    async with ctx.db.transaction() as tx:
        await tx.checkpoints.advance(ctx.store, stream, stamps, now)


async def _close(items: AsyncIterator[Any]) -> None:
    aclose = getattr(items, "aclose", None)
    if aclose is not None:
        await aclose()


async def _settle(
    tx: Transaction,
    ctx: SyncContext,
    stream: RejectedStream,
    rejects: Sequence[Rejected],
    clean: Iterable[str],
    now: datetime,
) -> None:
    """Quarantine the records read malformed, and release those of `stream` read clean again."""
    await tx.quarantine.put(ctx.store, rejects, now)
    await tx.quarantine.release(ctx.store, stream, list(clean))


async def scan_metafields(ctx: SyncContext, now: datetime) -> StreamResult:
    """Cache every `orderType` metafield modified since the checkpoint."""
    stream = "metafields"
    lower = await _lower_bound(ctx, stream, now)
    changed: set[int] = set()
    stamps: list[datetime] = []
    batch: list[MetafieldSignal] = []
    clean: list[str] = []
    rejects: list[Rejected] = []
    read = 0
    rejected = 0

    async def flush() -> None:
        nonlocal rejected
        async with ctx.db.transaction() as tx:
            changed.update(await tx.signals.put_metafields(ctx.store, batch, now))
            await _settle(tx, ctx, RejectedStream.ORDER_METAFIELD, rejects, clean, now)
        rejected += len(rejects)
        batch.clear()
        clean.clear()
        rejects.clear()

    filters = {"key": ORDER_TYPE_METAFIELD_KEY, "date_modified:min": lower}
    async for metafield in ctx.client.metafields.iterate_all(
        filters, page_size=250, rejects=rejects.append
    ):
        read += 1
        clean.append(str(metafield.id))
        found = metafield_signal(metafield)
        if found is not None:
            batch.append(found)
        modified = metafield.date_modified or metafield.date_created
        if modified is not None:
            stamps.append(min(modified, now))
        if len(batch) >= FLUSH_EVERY:
            await flush()
    await flush()
    await _save_watermark(ctx, stream, stamps, now)
    return StreamResult(stream, read + rejected, frozenset(changed), rejected)


async def scan_b2b_orders(ctx: SyncContext, now: datetime) -> StreamResult:
    """Cache every B2B Edition order record updated since the checkpoint."""
    stream = "b2b_orders"
    lower = await _lower_bound(ctx, stream, now)
    changed: set[int] = set()
    rejects: list[Rejected] = []
    read = 0
    rejected = 0
    pages = ctx.client.b2b.orders_modified_since(
        lower, now, page_size=ctx.settings.b2b_page_size, rejects=rejects.append
    )
    async for page in pages:
        read += len(page)
        async with ctx.db.transaction() as tx:
            changed |= await tx.signals.put_b2b_orders(
                ctx.store, [b2b_order_signal(order) for order in page], now
            )
            clean = [str(order.bc_order_id) for order in page]
            await _settle(tx, ctx, RejectedStream.B2B_ORDER, rejects, clean, now)
            stamps = [order.updated_at or lower for order in page]
            await tx.checkpoints.advance(ctx.store, stream, stamps, now)
        rejected += len(rejects)
        rejects.clear()
    if rejects:
        # A last page holding only malformed records yields nothing to the loop above.
        async with ctx.db.transaction() as tx:
            await _settle(tx, ctx, RejectedStream.B2B_ORDER, rejects, (), now)
        rejected += len(rejects)
    return StreamResult(stream, read + rejected, frozenset(changed), rejected)


async def _newest_first_pages(
    items: AsyncIterator[T], updated: Callable[[T], datetime | None], lower: datetime, size: int
) -> AsyncIterator[list[T]]:
    """Items of a newest-first listing down to `lower` (inclusive), `size` at a time."""
    page: list[T] = []
    try:
        async for item in items:
            moment = updated(item)
            if moment is not None and moment < lower:
                break
            page.append(item)
            if len(page) >= size:
                yield page
                page = []
    finally:
        await _close(items)
    if page:
        yield page


async def _cache_newest_first(
    ctx: SyncContext,
    stream: str,
    now: datetime,
    listing: Callable[[Rejects], AsyncIterator[T]],
    updated: Callable[[T], datetime | None],
    rejected_stream: RejectedStream,
    key: Callable[[T], object],
    write: Callable[[Transaction, list[T]], Awaitable[set[int]]],
) -> StreamResult:
    """Read a newest-first listing down to the stream's lower bound and cache it an API page
    per transaction (`write` returns the orders a page changed), so memory stays that of a page
    however many records a first scan reads (a B2B invoice or payment model weighs ~20 KB); the
    watermark (the scan's start) is saved only after the last page, so a scan cut short is read
    again from the same bound."""
    lower = await _lower_bound(ctx, stream, now, first=EVERYTHING)
    rejects: list[Rejected] = []
    orders: set[int] = set()
    read = rejected = 0
    pages = _newest_first_pages(listing(rejects.append), updated, lower, ctx.settings.b2b_page_size)
    async for page in pages:
        async with ctx.db.transaction() as tx:
            orders |= await write(tx, page)
            await _settle(tx, ctx, rejected_stream, rejects, [str(key(item)) for item in page], now)
        read += len(page)
        rejected += len(rejects)
        rejects.clear()
    async with ctx.db.transaction() as tx:
        # A last page holding only malformed records yields nothing to the loop above.
        await _settle(tx, ctx, rejected_stream, rejects, (), now)
        await tx.checkpoints.put(ctx.store, stream, watermark=now, cursor=None, now=now)
    rejected += len(rejects)
    return StreamResult(stream, read + rejected, frozenset(orders), rejected)


def _desc_filters() -> dict[str, Any]:
    return {"sortBy": "updatedAt", "orderBy": "DESC"}


async def scan_invoices(ctx: SyncContext, now: datetime) -> StreamResult:
    """Cache invoices updated since the checkpoint; the orders they bill have changed."""

    async def write(tx: Transaction, page: list[Invoice]) -> set[int]:
        rows = [invoice_row(invoice) for invoice in page]
        changed = await tx.signals.put_invoices(ctx.store, rows, now)
        return {
            int(row.order_number)
            for row in rows
            if row.invoice_id in changed and row.order_number and row.order_number.isdigit()
        }

    return await _cache_newest_first(
        ctx,
        "invoices",
        now,
        lambda rejects: ctx.client.b2b.invoices(
            _desc_filters(), page_size=ctx.settings.b2b_page_size, rejects=rejects
        ),
        lambda invoice: invoice.updated_at,
        RejectedStream.B2B_INVOICE,
        lambda invoice: invoice.id,
        write,
    )


async def scan_payments(ctx: SyncContext, now: datetime) -> StreamResult:
    """Cache invoice payments updated since the checkpoint; their checkout orders changed."""

    async def write(tx: Transaction, page: list[Payment]) -> set[int]:
        rows = [payment_row(payment) for payment in page]
        changed = await tx.signals.put_payments(ctx.store, rows, now)
        return {
            row.order_id for row in rows if row.payment_id in changed and row.order_id is not None
        }

    return await _cache_newest_first(
        ctx,
        "payments",
        now,
        lambda rejects: ctx.client.b2b.payments(
            _desc_filters(), page_size=ctx.settings.b2b_page_size, rejects=rejects
        ),
        lambda payment: payment.updated_at,
        RejectedStream.B2B_PAYMENT,
        lambda payment: payment.id,
        write,
    )


async def scan_companies(ctx: SyncContext, now: datetime) -> StreamResult:
    """Cache companies updated since the checkpoint; a renamed company changes its orders."""

    async def write(tx: Transaction, page: list[Company]) -> set[int]:
        changed = await tx.signals.put_companies(
            ctx.store, [company_row(company) for company in page], now
        )
        return await tx.signals.orders_of_companies(ctx.store, changed)

    return await _cache_newest_first(
        ctx,
        "companies",
        now,
        lambda rejects: ctx.client.b2b.companies(
            _desc_filters(), page_size=ctx.settings.b2b_page_size, rejects=rejects
        ),
        lambda company: company.updated_at,
        RejectedStream.B2B_COMPANY,
        lambda company: company.company_id,
        write,
    )


B2B_STREAMS: tuple[Callable[[SyncContext, datetime], Awaitable[StreamResult]], ...] = (
    scan_companies,
    scan_invoices,
    scan_payments,
    scan_b2b_orders,
)
"""The B2B Edition streams in dependency order: names and invoices before the records that
point at them. They share B2B Edition's quota, so they run one after another."""

STREAMS = (*B2B_STREAMS, scan_metafields)
"""Every signal stream, in the order `run_streams` reports them."""


async def run_streams(ctx: SyncContext, now: datetime) -> list[StreamResult]:
    """Run every signal stream once: the B2B Edition streams one after another and, beside
    them, the metafield stream, which reads the store API (its own quota) and depends on none
    of them. While B2B Edition's quota paces its streams (150 requests a minute for the whole
    store), the metafields are read instead of waiting for them."""
    metafields = asyncio.create_task(scan_metafields(ctx, now))
    try:
        results = [await scan(ctx, now) for scan in B2B_STREAMS]
    except BaseException:
        metafields.cancel()
        await asyncio.gather(metafields, return_exceptions=True)
        raise
    return [*results, await metafields]
