"""Webhook bookkeeping: refused callbacks, installed hooks with the watchdog's verdict, and the
figures reconciliation reports (what webhooks announced versus what only polling found)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from b2bsync.store._sql import insert_ignoring_conflicts
from b2bsync.store.change_feed import ChangeSource
from b2bsync.store.schema import change_feed, orders, webhook_health, webhook_rejects

__all__ = ["BODY_EXCERPT_CHARS", "HookInstallation", "WebhookRepository"]

BODY_EXCERPT_CHARS = 2048
"""How much of a refused body is kept: enough to see what was wrong, never a whole upload."""

WEBHOOK_SOURCES = (ChangeSource.WEBHOOK.value, ChangeSource.METAFIELD.value)
"""Change-feed sources written by the intake."""


@dataclass(frozen=True, slots=True)
class HookInstallation:
    """The hooks b2bsync installed for a store and the watchdog's last verdict on them."""

    store: str
    destination: str
    hook_ids: tuple[int, ...]
    installed_at: datetime
    checked_at: datetime | None
    healthy: bool | None
    reactivations: int
    report: Mapping[str, Any] | None


class WebhookRepository:
    """Reads and writes the webhook tables inside the caller's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record_reject(
        self, store: str, reason: str, now: datetime, *, scope: str | None, body: bytes
    ) -> None:
        """Keep an authenticated callback that could not be used, with the start of its body."""
        excerpt = body[: BODY_EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
        await self._conn.execute(
            webhook_rejects.insert().values(
                store=store,
                received_at=now,
                reason=reason[:255],
                scope=scope[:128] if scope is not None else None,
                body=excerpt[:BODY_EXCERPT_CHARS],
            )
        )

    async def reject_count(self, store: str) -> int:
        """Refused authenticated callbacks of `store`."""
        query = select(func.count()).select_from(webhook_rejects)
        return int(await self._conn.scalar(query.where(webhook_rejects.c.store == store)) or 0)

    async def installation(self, store: str) -> HookInstallation | None:
        """The installed hooks of `store`, or None when b2bsync installed none."""
        row = (
            await self._conn.execute(select(webhook_health).where(webhook_health.c.store == store))
        ).first()
        if row is None:
            return None
        return HookInstallation(
            store=row.store,
            destination=row.destination,
            hook_ids=tuple(int(i) for i in row.hook_ids),
            installed_at=row.installed_at,
            checked_at=row.checked_at,
            healthy=row.healthy,
            reactivations=row.reactivations,
            report=row.report,
        )

    async def put_installation(
        self, store: str, destination: str, hook_ids: Sequence[int], now: datetime
    ) -> None:
        """Record the installed hooks; `installed_at` stays that of the first installation to
        the same destination, so reconciliation counts from when webhooks first went live."""
        values = {"destination": destination, "hook_ids": sorted(hook_ids), "updated_at": now}
        inserted = await self._conn.execute(
            insert_ignoring_conflicts(
                self._conn,
                webhook_health,
                [{"store": store, "installed_at": now, "reactivations": 0, **values}],
                ("store",),
            ).returning(webhook_health.c.store)
        )
        if inserted.first() is not None:
            return
        current = await self.installation(store)
        moved = current is not None and current.destination != destination
        await self._conn.execute(
            update(webhook_health)
            .where(webhook_health.c.store == store)
            .values(**values, **({"installed_at": now, "healthy": None} if moved else {}))
        )

    async def remove_installation(self, store: str) -> None:
        """Forget the hooks of `store` (after uninstalling them)."""
        await self._conn.execute(webhook_health.delete().where(webhook_health.c.store == store))

    async def put_check(
        self,
        store: str,
        now: datetime,
        *,
        healthy: bool,
        reactivated: int,
        report: Mapping[str, Any],
    ) -> None:
        """Store a watchdog verdict."""
        await self._conn.execute(
            update(webhook_health)
            .where(webhook_health.c.store == store)
            .values(
                checked_at=now,
                healthy=healthy,
                reactivations=webhook_health.c.reactivations + reactivated,
                report=dict(report),
                updated_at=now,
            )
        )

    async def last_webhook_at(self, store: str) -> datetime | None:
        """When the intake last accepted a callback of `store`."""
        query = select(func.max(change_feed.c.received_at)).where(
            change_feed.c.store == store, change_feed.c.source.in_(WEBHOOK_SOURCES)
        )
        value: datetime | None = await self._conn.scalar(query)
        return value

    async def webhook_count(self, store: str, since: datetime | None = None) -> int:
        """Distinct callbacks of `store` the intake accepted (since `since`)."""
        query = (
            select(func.count())
            .select_from(change_feed)
            .where(change_feed.c.store == store, change_feed.c.source.in_(WEBHOOK_SOURCES))
        )
        if since is not None:
            query = query.where(change_feed.c.received_at >= since)
        return int(await self._conn.scalar(query) or 0)

    async def missed_by_webhooks(
        self, store: str, since: datetime, until: datetime | None = None
    ) -> int:
        """Orders that entered the ledger since `since` (up to `until`) without any callback
        announcing them: the ones only polling found."""
        announced = exists().where(
            and_(
                change_feed.c.store == orders.c.store,
                change_feed.c.order_id == orders.c.order_id,
                change_feed.c.source.in_(WEBHOOK_SOURCES),
            )
        )
        query = (
            select(func.count())
            .select_from(orders)
            .where(orders.c.store == store, orders.c.created_at >= since, ~announced)
        )
        if until is not None:
            query = query.where(orders.c.created_at < until)
        return int(await self._conn.scalar(query) or 0)
