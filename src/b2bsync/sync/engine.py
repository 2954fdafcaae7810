"""Processing: drafts + cached signals → classification → ledger version → outbox rows.

Everything here runs inside the caller's transaction, so a page of orders, its versions, its
outbox rows and the scan's watermark commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from b2bsync.bigcommerce import rejection
from b2bsync.bigcommerce.models import Order
from b2bsync.domain.origin import OrderOrigin
from b2bsync.domain.records import OrderRecord
from b2bsync.domain.rejects import Rejected, RejectedStream
from b2bsync.domain.sync_state import SyncState
from b2bsync.store.database import Transaction
from b2bsync.store.events import OrderEvent
from b2bsync.store.ledger import PageWrites, SeenVia, version_values
from b2bsync.sync import decide
from b2bsync.sync.context import SyncContext
from b2bsync.sync.decide import (
    INCOMPLETE_STATUS,
    Decision,
    DecisionPolicy,
    Held,
    NewVersion,
    Pending,
    PendingEnd,
    Unchanged,
    VersionEnd,
)
from b2bsync.sync.mapping import draft_from_order

__all__ = [
    "INCOMPLETE_STATUS",
    "ProcessSummary",
    "decision_policy",
    "page_writes",
    "process_changes",
    "process_drafts",
    "process_page",
    "recheck_delay",
]


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
    quarantined: int = 0
    """Orders whose V2 record could not be parsed (kept in quarantine, the page went on)."""

    def add(self, other: ProcessSummary) -> None:
        """Accumulate `other` into this summary."""
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def recheck_delay(ctx: SyncContext, checks_so_far: int) -> timedelta:
    """Backoff between classification re-checks: doubling from the base up to the cap."""
    return decide.recheck_delay(ctx.settings.recheck_base, ctx.settings.recheck_cap, checks_so_far)


def decision_policy(ctx: SyncContext, payment_product_id: int | None = None) -> DecisionPolicy:
    """What `decide` needs of the context."""
    return DecisionPolicy(
        store=ctx.store,
        classification_deadline=ctx.settings.classification_deadline,
        policy=ctx.settings.policy,
        recheck_base=ctx.settings.recheck_base,
        recheck_cap=ctx.settings.recheck_cap,
        routes=tuple((configured.name, configured.route) for configured in ctx.destinations),
        channels=ctx.channels,
        payment_product_id=payment_product_id,
    )


def _event(
    store: str, order_id: int, event: OrderEvent, now: datetime, detail: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "store": store,
        "order_id": order_id,
        "at": now,
        "event": event.value,
        "destination": None,
        "detail": detail,
    }


def _pending_rows(store: str, found: Pending, now: datetime, writes: PageWrites) -> None:
    seen = found.observed
    state = {
        PendingEnd.WAITING: SyncState.PENDING_CLASSIFICATION,
        PendingEnd.HELD: SyncState.HELD,
        PendingEnd.INCOMPLETE: SyncState.SKIPPED,
    }[found.end]
    values: dict[str, Any] = {
        "store": store,
        "order_id": seen.order_id,
        "sync_state": state.value,
        "status_id": seen.status_id,
        "status": seen.status,
        "company_id": seen.company_id,
        "po_number": seen.po_number,
        "invoice_ids": list(seen.invoice_ids),
        "is_archived": seen.is_archived,
        "date_created": seen.date_created,
        "date_modified": seen.date_modified,
        "next_check_at": found.next_check_at,
        "updated_at": now,
        "signals": found.signals,
        "signals_seen_at": found.signals_seen_at,
        "pending_since": found.pending_since,
        "check_attempts": found.check_attempts,
        "classification_deadline": found.deadline,
    }
    if found.new:
        writes.inserts.append(
            {
                **values,
                "order_type": None,
                "version": 0,
                "content_hash": None,
                "record": None,
                "classification_source": None,
                "classification_reason": None,
                "first_seen_via": SeenVia.POLL.value,
                "created_at": now,
            }
        )
        writes.events.append(
            _event(
                store,
                seen.order_id,
                OrderEvent.SEEN,
                now,
                {"via": SeenVia.POLL.value, "sync_state": SyncState.PENDING_CLASSIFICATION.value},
            )
        )
    else:
        writes.updates.append(values)
    if found.end is PendingEnd.HELD:
        writes.events.append(
            _event(store, seen.order_id, OrderEvent.HELD, now, {"reason": decide.HELD_REASON})
        )
    elif found.end is PendingEnd.INCOMPLETE:
        writes.events.append(
            _event(
                store,
                seen.order_id,
                OrderEvent.SKIPPED,
                now,
                {"sync_state": SyncState.SKIPPED.value, "reason": decide.INCOMPLETE_REASON},
            )
        )


def _unrouted(found: NewVersion) -> bool:
    return found.end is VersionEnd.INCOMPLETE or (
        found.end is VersionEnd.DELIVER and not found.deliveries
    )


def _unrouted_new(found: NewVersion) -> bool:
    return found.new and _unrouted(found)


def _version_rows(store: str, found: NewVersion, now: datetime, writes: PageWrites) -> None:
    record = found.record
    classification = found.classification
    changed = list(found.changed_fields) if found.changed_fields is not None else None
    skipped = found.end is VersionEnd.OTHER_CHANNEL
    # A new order no destination gets has no outbox rows for its state to follow: `skipped`.
    state = SyncState.SKIPPED if skipped or _unrouted_new(found) else SyncState.READY
    values: dict[str, Any] = {
        "store": store,
        "order_id": record.order_id,
        **version_values(
            record,
            classification,
            version=found.version,
            content_hash=found.content_hash,
            body=found.body,
            signals=found.signals,
            signals_seen_at=found.signals_seen_at,
            state=state,
            now=now,
        ),
    }
    if found.new:
        writes.inserts.append(
            {
                **values,
                "check_attempts": 0,
                "first_seen_via": SeenVia.POLL.value,
                "created_at": now,
            }
        )
        writes.events.append(
            _event(store, record.order_id, OrderEvent.SEEN, now, {"via": SeenVia.POLL.value})
        )
    else:
        writes.updates.append(values)
    writes.versions.append(
        {
            "store": store,
            "order_id": record.order_id,
            "version": found.version,
            "order_type": classification.order_type.value,
            "content_hash": found.content_hash,
            "record": found.body,
            "changed_fields": changed,
            "created_at": now,
        }
    )
    if found.reclassified:
        writes.events.append(
            _event(
                store,
                record.order_id,
                OrderEvent.CLASSIFIED,
                now,
                {
                    "order_type": classification.order_type.value,
                    "source": classification.source.value,
                    "reason": classification.reason,
                },
            )
        )
    writes.events.append(
        _event(
            store,
            record.order_id,
            OrderEvent.VERSIONED,
            now,
            {
                "version": found.version,
                "content_hash": found.content_hash,
                "changed_fields": changed,
            },
        )
    )
    if skipped:
        writes.events.append(
            _event(
                store,
                record.order_id,
                OrderEvent.SKIPPED,
                now,
                {
                    "sync_state": SyncState.SKIPPED.value,
                    "reason": f"channel {record.channel_id} is not among the store's channels",
                },
            )
        )


def page_writes(store: str, decisions: Iterable[Decision], now: datetime) -> PageWrites:
    """The ledger rows that carry out `decisions` (what the old per-order calls wrote)."""
    writes = PageWrites()
    for found in decisions:
        if isinstance(found, Unchanged):
            if found.refreshed is not None:
                record = found.refreshed
                writes.updates.append(
                    {
                        "store": store,
                        "order_id": record.order_id,
                        "status_id": record.status_id,
                        "status": record.status,
                        "date_modified": record.date_modified,
                        "is_archived": record.is_archived,
                        "signals": found.signals,
                        "signals_seen_at": found.signals_seen_at,
                        "updated_at": now,
                    }
                )
        elif isinstance(found, Pending):
            _pending_rows(store, found, now, writes)
        elif isinstance(found, NewVersion):
            _version_rows(store, found, now, writes)
    return writes


def _distinct_runs(drafts: Sequence[OrderRecord]) -> list[Sequence[OrderRecord]]:
    """`drafts` cut where an order repeats, so each run decides from rows written before it."""
    runs: list[Sequence[OrderRecord]] = []
    start = 0
    seen: set[int] = set()
    for index, draft in enumerate(drafts):
        if draft.order_id in seen:
            runs.append(drafts[start:index])
            start = index
            seen = set()
        seen.add(draft.order_id)
    runs.append(drafts[start:])
    return runs


def _count(summary: ProcessSummary, decisions: Iterable[Decision]) -> None:
    for found in decisions:
        if isinstance(found, Unchanged):
            summary.unchanged += 1
        elif isinstance(found, Held):
            summary.held += 1
        elif isinstance(found, Pending):
            if found.end is PendingEnd.HELD:
                summary.held += 1
            elif found.end is PendingEnd.INCOMPLETE:
                summary.incomplete += 1
            else:
                summary.pending += 1
        else:
            summary.versions += 1
            if found.end is VersionEnd.INCOMPLETE:
                summary.incomplete += 1
            elif found.end is VersionEnd.OTHER_CHANNEL:
                summary.other_channel += 1


async def process_drafts(
    ctx: SyncContext,
    tx: Transaction,
    drafts: Sequence[OrderRecord],
    now: datetime,
    *,
    payment_product_id: int | None = None,
) -> ProcessSummary:
    """Classify, version and queue each draft from the cached signals (`sync.decide`).

    The page's ledger rows and signals are read in a few statements, decided without I/O, and
    written back as one set: one statement per table, in the caller's transaction.
    `payment_product_id` (from `/ip/config`) adds the payment-product signal.
    """
    summary = ProcessSummary(seen=len(drafts))
    policy = decision_policy(ctx, payment_product_id)
    for run in _distinct_runs(drafts):
        ids = [draft.order_id for draft in run]
        rows = await tx.ledger.current_rows(ctx.store, ids)
        bundles = await tx.signals.bundles(ctx.store, ids)
        decisions = decide.decide(run, rows, bundles, now, policy)
        await tx.ledger.write_page(page_writes(ctx.store, decisions, now))
        versions = [found for found in decisions if isinstance(found, NewVersion)]
        deliveries = [pair for found in versions for pair in found.deliveries]
        if deliveries:
            bodies = {
                delivery.idempotency_key: found.body
                for found in versions
                for _, delivery in found.deliveries
            }
            summary.enqueued += await tx.outbox.enqueue(deliveries, now, record_json=bodies)
        for found in versions:
            # Known orders' versions no destination gets: their state follows earlier rows.
            if _unrouted(found) and not found.new:
                await tx.outbox.refresh_order_state(ctx.store, found.order_id, now)
        _count(summary, decisions)
    return summary


async def _with_push_log(
    ctx: SyncContext, tx: Transaction, drafts: list[OrderRecord]
) -> list[OrderRecord]:
    """Mark as pushed the drafts of orders `b2bsync push` created under a row's own
    `external_source` (the default source already says so); no query when no order names
    another source."""
    named = [d.order_id for d in drafts if d.origin is OrderOrigin.EXTERNAL]
    pushed = await tx.writebacks.pushed(ctx.store, named) if named else set()
    return [
        d.model_copy(update={"origin": OrderOrigin.ERP_PUSH}) if d.order_id in pushed else d
        for d in drafts
    ]


async def process_page(
    ctx: SyncContext,
    tx: Transaction,
    orders: Sequence[Order],
    now: datetime,
    *,
    rejected: Sequence[Rejected] = (),
) -> ProcessSummary:
    """Map a page of V2 orders to drafts, keep the drafts, and process them.

    `rejected` are the page's orders that could not be parsed: they go to quarantine while the
    rest of the page goes on; an order read clean again leaves quarantine.
    """
    mapped, unmappable = _map_orders(ctx.store, orders)
    drafts = await _with_push_log(ctx, tx, mapped)
    await tx.signals.put_drafts(ctx.store, drafts, now)
    await tx.quarantine.put(ctx.store, [*rejected, *unmappable], now)
    if drafts:
        await tx.quarantine.release(
            ctx.store, RejectedStream.V2_ORDER, [str(draft.order_id) for draft in drafts]
        )
    summary = await process_drafts(ctx, tx, drafts, now)
    summary.quarantined += len(rejected) + len(unmappable)
    return summary


def _map_orders(store: str, orders: Sequence[Order]) -> tuple[list[OrderRecord], list[Rejected]]:
    """Drafts of the orders that map, and a `Rejected` for each that does not (a line item or
    address nested in it that is malformed): it waits in quarantine like an unparsable order."""
    drafts: list[OrderRecord] = []
    unmappable: list[Rejected] = []
    for order in orders:
        try:
            drafts.append(draft_from_order(store, order))
        except (ValidationError, ValueError) as error:
            unmappable.append(
                rejection(
                    RejectedStream.V2_ORDER,
                    order.model_dump(mode="json"),
                    error,
                    order_id=order.id,
                )
            )
    return drafts, unmappable


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
