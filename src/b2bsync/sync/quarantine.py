"""Reading quarantined records again, one by one: what `b2bsync replay --quarantined` does.

A record set aside as malformed is re-read on its own (the company, invoice, payment, B2B order,
the order's metafields, or the V2 order). Read clean, it goes into its cache (or, for a V2
order, through the engine), leaves the quarantine, and the orders it concerns are composed
again; still malformed, it stays with its reason refreshed; gone upstream, it is released.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from b2bsync.bigcommerce import BadPayload, NotFound
from b2bsync.domain.order_type import ORDER_TYPE_METAFIELD_KEY
from b2bsync.domain.rejects import Rejected, RejectedStream
from b2bsync.store.database import Transaction
from b2bsync.store.quarantine import QuarantinedRecord
from b2bsync.sync.context import SyncContext
from b2bsync.sync.engine import ProcessSummary, process_changes, process_page
from b2bsync.sync.mapping import (
    b2b_order_signal,
    company_row,
    invoice_row,
    metafield_signal,
    payment_row,
)
from b2bsync.sync.poller import ORDER_INCLUDE

__all__ = ["QuarantineRetry", "retry_quarantined"]

_BATCH = 500
"""Quarantined records read per call (each costs one API call)."""


@dataclass(slots=True)
class QuarantineRetry:
    """What reading the quarantine again did."""

    released: int = 0
    """Records read clean (or gone upstream) and out of the quarantine."""
    still_bad: int = 0
    unreadable: int = 0
    """Records whose id could not be told (kept; only a later scan can read them again)."""
    processed: ProcessSummary = field(default_factory=ProcessSummary)


Reread = Callable[[SyncContext, Transaction, int, datetime], Awaitable[set[int]]]
"""Read one record again by id, cache it, return the orders whose signals it changed."""


async def _company(ctx: SyncContext, tx: Transaction, ident: int, now: datetime) -> set[int]:
    company = await ctx.client.b2b.company(ident)
    changed = await tx.signals.put_companies(ctx.store, [company_row(company)], now)
    return await tx.signals.orders_of_companies(ctx.store, changed)


async def _invoice(ctx: SyncContext, tx: Transaction, ident: int, now: datetime) -> set[int]:
    row = invoice_row(await ctx.client.b2b.invoice(ident))
    changed = await tx.signals.put_invoices(ctx.store, [row], now)
    number = row.order_number
    return {int(number)} if changed and number and number.isdigit() else set()


async def _payment(ctx: SyncContext, tx: Transaction, ident: int, now: datetime) -> set[int]:
    row = payment_row(await ctx.client.b2b.payment(ident))
    changed = await tx.signals.put_payments(ctx.store, [row], now)
    return {row.order_id} if changed and row.order_id is not None else set()


async def _b2b_order(ctx: SyncContext, tx: Transaction, ident: int, now: datetime) -> set[int]:
    signal = b2b_order_signal(await ctx.client.b2b.order(ident))
    return await tx.signals.put_b2b_orders(ctx.store, [signal], now)


async def _metafields(ctx: SyncContext, tx: Transaction, order_id: int, now: datetime) -> set[int]:
    found = [
        signal
        async for metafield in ctx.client.metafields.for_order(
            order_id, {"key": ORDER_TYPE_METAFIELD_KEY}
        )
        if (signal := metafield_signal(metafield)) is not None
    ]
    return await tx.signals.put_metafields(ctx.store, found, now)


async def _v2_order(ctx: SyncContext, tx: Transaction, order_id: int, now: datetime) -> set[int]:
    # The list, narrowed to the one id, answers in the shape the scan reads.
    found = await ctx.client.orders.page(
        {**ORDER_INCLUDE, "min_id": order_id, "max_id": order_id}, limit=1
    )
    if not found:
        raise NotFound(f"order {order_id} is no longer listed")
    if (await process_page(ctx, tx, found, now)).quarantined:
        # It parsed but does not map (a malformed line item): the engine kept it in quarantine
        # with the reason.
        raise _StillQuarantined
    return set()


class _StillQuarantined(Exception):
    """The record was read again and the engine set it aside again, with its reason."""


_REREAD: dict[RejectedStream, Reread] = {
    RejectedStream.B2B_COMPANY: _company,
    RejectedStream.B2B_INVOICE: _invoice,
    RejectedStream.B2B_PAYMENT: _payment,
    RejectedStream.B2B_ORDER: _b2b_order,
    RejectedStream.V2_ORDER: _v2_order,
}
"""How each stream's record is read again by its own id (a metafield is read with its order's
metafields instead, see `_target`)."""


def _target(record: QuarantinedRecord) -> tuple[Reread, int] | None:
    """How to read `record` again and with which id, or None when its id is unknown."""
    if record.stream is RejectedStream.ORDER_METAFIELD:
        if record.order_id is None:
            return None
        return _metafields, record.order_id
    if not record.key.isdigit():
        return None
    return _REREAD[record.stream], int(record.key)


def _still_bad(record: QuarantinedRecord, error: BadPayload) -> Rejected:
    return Rejected(
        stream=record.stream,
        key=record.key,
        order_id=record.order_id,
        reason=error.message,
        path=record.path,
        payload=record.payload,
        payload_chars=record.payload_chars,
    )


async def retry_quarantined(ctx: SyncContext, now: datetime) -> QuarantineRetry:
    """Read every quarantined record of the store again (one API call each), then compose the
    orders whose signals changed."""
    report = QuarantineRetry()
    async with ctx.db.transaction(readonly=True) as tx:
        records = await tx.quarantine.records(ctx.store, limit=_BATCH)
    changed: set[int] = set()
    for record in records:
        target = _target(record)
        if target is None:
            report.unreadable += 1
            continue
        reread, ident = target
        async with ctx.db.transaction() as tx:
            try:
                changed |= await reread(ctx, tx, ident, now)
            except NotFound:
                pass
            except BadPayload as error:
                await tx.quarantine.put(ctx.store, [_still_bad(record, error)], now)
                report.still_bad += 1
                continue
            except _StillQuarantined:
                report.still_bad += 1
                continue
            await tx.quarantine.release(ctx.store, record.stream, [record.key])
            report.released += 1
    report.processed = await process_changes(ctx, changed, now)
    return report
