"""Re-checks of orders still waiting for a signal: compose again from the caches, and only
for these orders spend per-order calls (the B2B order detail with `isInvoiceOrder`, for company
orders) plus one `/ip/config` read for the payment-product signal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import structlog

from b2bsync.bigcommerce import BigCommerceError, NotFound
from b2bsync.domain.classification import classify
from b2bsync.store.ledger import ObservedOrder
from b2bsync.store.signals import B2BOrderSignal
from b2bsync.sync.context import SyncContext
from b2bsync.sync.engine import ProcessSummary, process_drafts, recheck_delay
from b2bsync.sync.mapping import b2b_order_signal, payment_product_id, signals_for

__all__ = ["RecheckSummary", "recheck_pending"]

log = structlog.get_logger("b2bsync.sync")


@dataclass(slots=True)
class RecheckSummary:
    """One `recheck_pending` call: due orders, calls spent and what processing did."""

    due: int = 0
    detail_calls: int = 0
    """B2B order details fetched (one call each)."""
    errors: int = 0
    payment_product_id: int | None = None
    processed: ProcessSummary = field(default_factory=ProcessSummary)


async def _payment_product(ctx: SyncContext) -> int | None:
    try:
        return payment_product_id(await ctx.client.b2b.ip_config())
    except BigCommerceError as error:
        # /ip/config is internal in the docs; without it the other signals still decide.
        log.info("sync.ip_config_unavailable", store=ctx.store, error=str(error))
        return None


async def recheck_pending(ctx: SyncContext, now: datetime) -> RecheckSummary:
    """Look again at pending orders whose next check is due (at most `recheck_batch`)."""
    summary = RecheckSummary()
    async with ctx.db.transaction(readonly=True) as tx:
        due = await tx.ledger.due_rechecks(ctx.store, now, ctx.settings.recheck_batch)
        entries = await tx.ledger.current(ctx.store, due)
        drafts = await tx.signals.drafts(ctx.store, due)
        bundles = await tx.signals.bundles(ctx.store, due)
    summary.due = len(due)
    if not due:
        return summary
    unsignalled = [
        order_id
        for order_id in due
        if order_id in drafts
        and classify(signals_for(bundles[order_id], entries[order_id].signals)) is None
    ]
    # Only an order whose B2B record the stream has cached is a company order; for the others
    # the detail would be a 404, so they spend no call here.
    company_orders = [
        order_id
        for order_id in unsignalled
        if (signal := bundles[order_id].signal) is not None and signal.b2b_order_id is not None
    ]
    details: list[B2BOrderSignal] = []
    for order_id in company_orders:
        summary.detail_calls += 1
        try:
            details.append(b2b_order_signal(await ctx.client.b2b.order(order_id)))
        except NotFound:
            continue
        except BigCommerceError as error:
            summary.errors += 1
            log.warning("sync.recheck_failed", store=ctx.store, order_id=order_id, error=str(error))
    if unsignalled:
        summary.payment_product_id = await _payment_product(ctx)
    async with ctx.db.transaction() as tx:
        await tx.signals.put_b2b_orders(ctx.store, details, now)
        summary.processed = await process_drafts(
            ctx,
            tx,
            [drafts[order_id] for order_id in due if order_id in drafts],
            now,
            payment_product_id=summary.payment_product_id,
        )
        for order_id in due:
            if order_id in drafts:
                continue
            # Known only from elsewhere (e.g. a webhook) and never read from V2: push its next
            # check back so it cannot hold the head of the queue.
            entry = entries[order_id]
            await tx.ledger.mark_pending(
                ctx.store,
                ObservedOrder(
                    order_id=order_id,
                    status_id=entry.status_id,
                    date_created=entry.date_created,
                    date_modified=entry.date_modified,
                    status=entry.status,
                    is_archived=entry.is_archived,
                    company_id=entry.company_id,
                    po_number=entry.po_number,
                    invoice_ids=entry.invoice_ids,
                ),
                entry.signals,
                now,
                next_check_at=now + recheck_delay(ctx, entry.check_attempts),
                deadline=entry.classification_deadline
                or now + ctx.settings.classification_deadline,
            )
    return summary
