"""Processing: drafts + cached signals → classification → ledger version → outbox rows.

Everything here runs inside the caller's transaction, so a page of orders, its versions, its
outbox rows and the scan's watermark commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from b2bsync.bigcommerce.models.orders import Order
from b2bsync.domain.classification import (
    Classification,
    Signals,
    SignalSource,
    classify,
    classify_after_deadline,
)
from b2bsync.domain.delivery import Delivery, delivery_kind, idempotency_key
from b2bsync.domain.fingerprint import content_hash
from b2bsync.domain.origin import OrderOrigin
from b2bsync.domain.records import OrderRecord
from b2bsync.domain.sync_state import SyncState
from b2bsync.store.database import Transaction
from b2bsync.store.events import OrderEvent
from b2bsync.store.ledger import LedgerEntry
from b2bsync.store.writebacks import WritebackLog
from b2bsync.sync.context import SyncContext
from b2bsync.sync.mapping import (
    compose,
    draft_from_order,
    lines_are_payment_product,
    observed,
    signals_for,
)

__all__ = [
    "INCOMPLETE_STATUS",
    "ProcessSummary",
    "process_changes",
    "process_drafts",
    "process_page",
    "recheck_delay",
]

INCOMPLETE_STATUS = 0
"""Status 0 (Incomplete): an abandoned checkout; tracked, never delivered."""


@dataclass(slots=True)
class ProcessSummary:
    """What processing did to a set of orders."""

    seen: int = 0
    versions: int = 0
    unchanged: int = 0
    pending: int = 0
    held: int = 0
    incomplete: int = 0
    enqueued: int = 0
    missing: int = 0
    """Announced orders without a stored draft (never read from V2 yet)."""
    other_channel: int = 0
    """Versions of orders from a channel the store does not deliver (kept as `skipped`)."""

    def add(self, other: ProcessSummary) -> None:
        """Accumulate `other` into this summary."""
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def recheck_delay(ctx: SyncContext, checks_so_far: int) -> timedelta:
    """Backoff between classification re-checks: doubling from the base up to the cap."""
    base = ctx.settings.recheck_base.total_seconds()
    cap = ctx.settings.recheck_cap.total_seconds()
    return timedelta(seconds=min(cap, base * 2 ** min(checks_so_far, 32)))


def _kept(entry: LedgerEntry | None) -> Classification | None:
    """An already versioned order keeps its classification when no signal is left to say so
    (it came from the policy, or from a check whose result the ledger remembers)."""
    if entry is None or entry.version == 0 or entry.order_type is None:
        return None
    return Classification(
        entry.order_type,
        entry.classification_source or SignalSource.POLICY,
        entry.classification_reason or "kept from the previous version",
    )


async def _enqueue(
    ctx: SyncContext, tx: Transaction, record: OrderRecord, version: int, now: datetime
) -> int:
    delivery = Delivery(
        idempotency_key=idempotency_key(ctx.store, record.order_id, version),
        store=ctx.store,
        order_id=record.order_id,
        version=version,
        kind=delivery_kind(record.order_type),
        record=record,
    )
    rows = [
        (configured.name, delivery)
        for configured in ctx.destinations
        if configured.route.accepts(record)
    ]
    if not rows:
        # No destination wants it: its state follows earlier rows, or `skipped` without any.
        await tx.outbox.refresh_order_state(ctx.store, record.order_id, now)
        return 0
    return await tx.outbox.enqueue(rows, now)


async def _skip(
    ctx: SyncContext, tx: Transaction, order_id: int, now: datetime, reason: str
) -> None:
    """Keep the order in the ledger as `skipped`, never delivered, saying why."""
    await tx.ledger.set_state(
        ctx.store,
        order_id,
        SyncState.SKIPPED,
        now,
        event=OrderEvent.SKIPPED,
        detail={"reason": reason},
    )


async def process_drafts(
    ctx: SyncContext,
    tx: Transaction,
    drafts: Sequence[OrderRecord],
    now: datetime,
    *,
    payment_product_id: int | None = None,
) -> ProcessSummary:
    """Classify, version and queue each draft from the cached signals.

    An order without a signal waits (`pending_classification`, re-checked with backoff) until
    its deadline, then the policy decides; an invoice payment is therefore never delivered as
    an online order. `payment_product_id` (from `/ip/config`) adds the payment-product signal.
    """
    summary = ProcessSummary(seen=len(drafts))
    ids = [draft.order_id for draft in drafts]
    entries = await tx.ledger.current(ctx.store, ids)
    bundles = await tx.signals.bundles(ctx.store, ids)
    for draft in drafts:
        entry = entries.get(draft.order_id)
        bundle = bundles[draft.order_id]
        product = (
            lines_are_payment_product(draft, payment_product_id)
            if payment_product_id is not None
            else None
        )
        signals = signals_for(bundle, entry.signals if entry else Signals(), product)
        classification = classify(signals) or _kept(entry)
        incomplete = draft.status_id == INCOMPLETE_STATUS
        if classification is None:
            deadline = (
                entry.classification_deadline
                if entry is not None and entry.classification_deadline is not None
                else now + ctx.settings.classification_deadline
            )
            passed = not incomplete and deadline <= now
            classification = classify_after_deadline(ctx.settings.policy) if passed else None
            if classification is None:
                if entry is not None and entry.sync_state is SyncState.HELD:
                    summary.held += 1
                    continue
                checks = entry.check_attempts if entry is not None else 0
                await tx.ledger.mark_pending(
                    ctx.store,
                    observed(draft, bundle),
                    signals,
                    now,
                    next_check_at=now + recheck_delay(ctx, checks),
                    deadline=deadline,
                )
                if passed:
                    await tx.ledger.mark_held(
                        ctx.store, draft.order_id, now, "no signal before the deadline"
                    )
                    summary.held += 1
                elif incomplete:
                    await _skip(
                        ctx, tx, draft.order_id, now, "status 0 (Incomplete) is never delivered"
                    )
                    summary.incomplete += 1
                else:
                    summary.pending += 1
                continue
        record = compose(draft, bundle, classification.order_type)
        version = await tx.ledger.append_version(
            ctx.store, record, content_hash(record), classification, now, signals=signals
        )
        if version is None:
            summary.unchanged += 1
            continue
        summary.versions += 1
        if incomplete:
            await tx.outbox.refresh_order_state(ctx.store, record.order_id, now)
            summary.incomplete += 1
            continue
        if ctx.channels is not None and record.channel_id not in ctx.channels:
            reason = f"channel {record.channel_id} is not among the store's channels"
            await _skip(ctx, tx, record.order_id, now, reason)
            summary.other_channel += 1
            continue
        summary.enqueued += await _enqueue(ctx, tx, record, version, now)
    return summary


async def _with_push_log(
    ctx: SyncContext, tx: Transaction, drafts: list[OrderRecord]
) -> list[OrderRecord]:
    """Mark as pushed the drafts of orders `b2bsync push` created under a row's own
    `external_source` (the default source already says so); no query when no order names
    another source."""
    named = [d.order_id for d in drafts if d.origin is OrderOrigin.EXTERNAL]
    pushed = await WritebackLog(tx.connection).pushed(ctx.store, named) if named else set()
    return [
        d.model_copy(update={"origin": OrderOrigin.ERP_PUSH}) if d.order_id in pushed else d
        for d in drafts
    ]


async def process_page(
    ctx: SyncContext, tx: Transaction, orders: Sequence[Order], now: datetime
) -> ProcessSummary:
    """Map a page of V2 orders to drafts, keep the drafts, and process them."""
    drafts = await _with_push_log(ctx, tx, [draft_from_order(ctx.store, order) for order in orders])
    await tx.signals.put_drafts(ctx.store, drafts, now)
    return await process_drafts(ctx, tx, drafts, now)


async def process_changes(
    ctx: SyncContext, order_ids: Iterable[int], now: datetime, *, chunk: int = 500
) -> ProcessSummary:
    """Compose again, from their stored drafts, orders whose signals changed; no API call.

    Orders never read from V2 have no draft: they are counted as `missing` and left for the
    V2 scan, which reads every new order.
    """
    wanted = sorted(set(order_ids))
    summary = ProcessSummary()
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        async with ctx.db.transaction() as tx:
            drafts = await tx.signals.drafts(ctx.store, part)
            summary.missing += len(part) - len(drafts)
            summary.add(
                await process_drafts(ctx, tx, [drafts[i] for i in part if i in drafts], now)
            )
    return summary
