"""The change feed: order ids someone announced (webhook, poll, re-check) and not yet processed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b2bsync.store._sql import chunks, insert_ignoring_conflicts, locked_candidates
from b2bsync.store.schema import change_feed


class ChangeSource(StrEnum):
    WEBHOOK = "webhook"
    POLL = "poll"
    METAFIELD = "metafield"
    B2B = "b2b"
    RECHECK = "recheck"


@dataclass(frozen=True, slots=True)
class ChangeItem:
    id: int
    store: str
    order_id: int
    source: ChangeSource
    scope: str | None
    webhook_hash: str | None
    received_at: datetime


class ChangeFeedRepository:
    """Adds, leases and acknowledges change-feed rows inside the caller's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(
        self,
        store: str,
        order_ids: Iterable[int],
        source: ChangeSource,
        now: datetime,
        *,
        webhook_hash: str | None = None,
        scope: str | None = None,
    ) -> bool:
        """Announce orders to look at; False when this webhook (`webhook_hash`) was seen before.

        A webhook announces exactly one order, so a hash comes with exactly one order id.
        """
        ids = list(order_ids)
        if webhook_hash is not None and len(ids) != 1:
            raise ValueError("a webhook hash deduplicates the announcement of exactly one order")
        rows = [
            {
                "store": store,
                "order_id": order_id,
                "source": source.value,
                "scope": scope,
                "webhook_hash": webhook_hash,
                "received_at": now,
                "claimed_until": None,
                "processed_at": None,
            }
            for order_id in ids
        ]
        added = 0
        for chunk in chunks(rows):
            result = await self._conn.execute(
                insert_ignoring_conflicts(
                    self._conn, change_feed, chunk, ("store", "webhook_hash")
                ).returning(change_feed.c.id)
            )
            added += len(result.all())
        return added > 0

    async def claim(
        self, store: str, limit: int, now: datetime, lease: timedelta
    ) -> list[ChangeItem]:
        """Lease up to `limit` unprocessed rows of `store`, oldest first, until `now + lease`.

        As with the outbox, two claimers never get the same row, and a row whose lease ran out
        is claimable again.
        """
        due = (
            change_feed.c.store == store,
            change_feed.c.processed_at.is_(None),
            or_(change_feed.c.claimed_until.is_(None), change_feed.c.claimed_until <= now),
        )
        candidates = (
            select(change_feed.c.id)
            .where(*due)
            .order_by(change_feed.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        picked = locked_candidates(self._conn, candidates, "picked")
        result = await self._conn.execute(
            update(change_feed)
            .where(change_feed.c.id.in_(select(picked.c.id)), *due)
            .values(claimed_until=now + lease)
            .returning(*change_feed.c)
        )
        items = [
            ChangeItem(
                id=row.id,
                store=row.store,
                order_id=row.order_id,
                source=ChangeSource(row.source),
                scope=row.scope,
                webhook_hash=row.webhook_hash,
                received_at=row.received_at,
            )
            for row in result
        ]
        return sorted(items, key=lambda item: item.id)

    async def ack(self, ids: Iterable[int], now: datetime) -> int:
        """Mark rows processed; returns how many were still open."""
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        result = await self._conn.execute(
            update(change_feed)
            .where(change_feed.c.id.in_(wanted), change_feed.c.processed_at.is_(None))
            .values(processed_at=now, claimed_until=None)
        )
        return result.rowcount

    async def pending_count(self, store: str | None = None) -> int:
        """Unprocessed rows (leased or not), for one store or all."""
        query = (
            select(func.count())
            .select_from(change_feed)
            .where(change_feed.c.processed_at.is_(None))
        )
        if store is not None:
            query = query.where(change_feed.c.store == store)
        return int(await self._conn.scalar(query) or 0)
