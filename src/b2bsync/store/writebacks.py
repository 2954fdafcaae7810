"""The write-back log: every value b2bsync wrote into BigCommerce, with what it replaced."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b2bsync.domain.records import OrderRecord
from b2bsync.store._sql import among
from b2bsync.store.schema import order_drafts, order_signals, orders, writebacks

__all__ = ["PUSHED_ORDERS", "WritebackEntry", "WritebackLog"]

PUSHED_ORDERS = "push:orders"
"""`source` of the log entry `b2bsync push orders` writes for each order it creates."""


@dataclass(frozen=True, slots=True)
class WritebackEntry:
    """One write: which field of which order (or payment/invoice action), before and after."""

    store: str
    order_id: int | None
    at: datetime
    source: str
    """The rule (`rule:invoice_payment`) or action (`action:create_invoice`) that wrote."""
    target: str
    """What was written, e.g. `v2.staff_notes`, `v2.status_id`, `b2b.po_number`."""
    before: str | None
    after: str | None
    id: int = 0


class WritebackLog:
    """Reads and appends the `writebacks` table inside the caller's transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def append(self, entries: Iterable[WritebackEntry]) -> int:
        """Log `entries`; returns how many were written."""
        rows = [
            {
                "store": entry.store,
                "order_id": entry.order_id,
                "at": entry.at,
                "source": entry.source,
                "target": entry.target,
                "before": entry.before,
                "after": entry.after,
            }
            for entry in entries
        ]
        if rows:
            await self._conn.execute(insert(writebacks), rows)
        return len(rows)

    async def pushed(self, store: str, order_ids: Iterable[int]) -> set[int]:
        """Those of `order_ids` that `b2bsync push orders` created."""
        ids = sorted(set(order_ids))
        if not ids:
            return set()
        result = await self._conn.execute(
            select(writebacks.c.order_id).where(
                writebacks.c.store == store,
                writebacks.c.source == PUSHED_ORDERS,
                among(self._conn, writebacks.c.order_id, ids),
            )
        )
        return {int(row.order_id) for row in result if row.order_id is not None}

    async def absorb(self, record: OrderRecord, content_hash: str, now: datetime) -> bool:
        """Make `record` (the current version plus our own write) the ledger's current content
        without a new version, so the echo of our write-back compares equal and is not
        delivered again; the order's stored draft takes the V2 values we wrote. Returns False
        when the order has no version to absorb into."""
        b2b = record.b2b
        result = await self._conn.execute(
            update(orders)
            .where(
                orders.c.store == record.store,
                orders.c.order_id == record.order_id,
                orders.c.version > 0,
            )
            .values(
                record=record.model_dump(mode="json"),
                content_hash=content_hash,
                status_id=record.status_id,
                status=record.status,
                po_number=b2b.po_number if b2b is not None else "",
                updated_at=now,
            )
        )
        # The caches the engine composes from take what we wrote too: an order recomposed from
        # its stored draft and signals (a signal changed before the next scan) must neither
        # bring back what we replaced nor make a version of it.
        where_draft = (
            order_drafts.c.store == record.store,
            order_drafts.c.order_id == record.order_id,
        )
        row = (await self._conn.execute(select(order_drafts.c.draft).where(*where_draft))).first()
        if row is not None:
            refreshed = {
                **row.draft,
                "staff_notes": record.staff_notes,
                "status_id": record.status_id,
                "status": record.status,
            }
            await self._conn.execute(
                update(order_drafts).where(*where_draft).values(draft=refreshed, updated_at=now)
            )
        if b2b is not None:
            await self._conn.execute(
                update(order_signals)
                .where(
                    order_signals.c.store == record.store,
                    order_signals.c.order_id == record.order_id,
                )
                .values(po_number=b2b.po_number, extra_fields=dict(b2b.extra_fields))
            )
        return bool(result.rowcount)

    async def for_order(self, store: str, order_id: int) -> list[WritebackEntry]:
        """Every write to one order, oldest first."""
        result = await self._conn.execute(
            select(writebacks)
            .where(writebacks.c.store == store, writebacks.c.order_id == order_id)
            .order_by(writebacks.c.id)
        )
        return [_entry(row._mapping) for row in result]

    async def recent(self, store: str, limit: int = 100) -> list[WritebackEntry]:
        """The newest writes of a store, newest first."""
        result = await self._conn.execute(
            select(writebacks)
            .where(writebacks.c.store == store)
            .order_by(writebacks.c.id.desc())
            .limit(limit)
        )
        return [_entry(row._mapping) for row in result]


def _entry(m: RowMapping) -> WritebackEntry:
    return WritebackEntry(
        store=m["store"],
        order_id=m["order_id"],
        at=m["at"],
        source=m["source"],
        target=m["target"],
        before=m["before"],
        after=m["after"],
        id=int(m["id"]),
    )
