"""Alert persistence: what each alert last said per condition and store (`alert_state`), every
firing (`alert_events`) with its delivery to the channels, and the health figures the alerts
are judged on.

Several processes may evaluate the same store at once (workers, a web process, a CLI run).
`record` changes a standing only if nobody changed it since it was read (a compare-and-set on
`revision`, or an insert that yields to a concurrent one) and writes the firing in the same
transaction, so a firing is recorded once however many evaluators saw the condition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from b2bsync.domain.alerts import AlertState, Condition, Decision, HealthSnapshot, Standing
from b2bsync.domain.delivery import Outcome
from b2bsync.domain.sync_state import SyncState
from b2bsync.store._sql import ignoring_conflicts
from b2bsync.store.outbox import OutboxState
from b2bsync.store.quarantine import QuarantineRepository
from b2bsync.store.schema import (
    alert_events,
    alert_state,
    checkpoints,
    delivery_attempts,
    orders,
    outbox,
)
from b2bsync.store.webhooks import WebhookRepository

__all__ = [
    "AlertEvent",
    "AlertRepository",
    "DeliveryState",
    "KnownStanding",
    "read_health",
]


class DeliveryState(StrEnum):
    """Where a firing's notification stands."""

    PENDING = "pending"
    """Not yet taken by every channel; sent again at the next evaluation."""
    SENT = "sent"
    FAILED = "failed"
    """Gave up after the last attempt."""


@dataclass(frozen=True, slots=True)
class KnownStanding:
    """A standing as read, with the revision a change must find to win."""

    standing: Standing
    revision: int


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One recorded firing."""

    id: int
    alert: str
    condition: str
    store: str
    state: AlertState
    message: str
    at: datetime
    delivery: DeliveryState
    attempts: int
    sent_to: tuple[str, ...]
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        """The firing as `alerts list --json` and the dashboard's API give it."""
        return {
            "id": self.id,
            "alert": self.alert,
            "condition": self.condition,
            "store": self.store,
            "state": self.state.value,
            "message": self.message,
            "at": self.at.isoformat(),
            "delivery": self.delivery.value,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }


def _event(row: Any) -> AlertEvent:
    m = row._mapping
    return AlertEvent(
        id=m["id"],
        alert=m["alert"],
        condition=m["condition"],
        store=m["store"],
        state=AlertState(m["state"]),
        message=m["message"],
        at=m["at"],
        delivery=DeliveryState(m["delivery"]),
        attempts=m["attempts"],
        sent_to=tuple(m["sent_to"] or ()),
        last_error=m["last_error"],
    )


class AlertRepository:
    """Alert standings and firings, inside one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def standings(self, alert: str, store: str) -> dict[Condition, KnownStanding]:
        """What `alert` last said about each condition of `store` (absent: never fired)."""
        rows = await self._conn.execute(
            select(alert_state).where(alert_state.c.alert == alert, alert_state.c.store == store)
        )
        found: dict[Condition, KnownStanding] = {}
        for row in rows:
            if row.condition in Condition.__members__.values():
                found[Condition(row.condition)] = KnownStanding(
                    Standing(active=row.active, last_fired_at=row.last_fired_at), row.revision
                )
        return found

    async def record(
        self,
        alert: str,
        store: str,
        decision: Decision,
        previous: KnownStanding | None,
        standing: Standing,
        now: datetime,
    ) -> int | None:
        """Move the standing from `previous` to `standing` and record the firing; None (and
        nothing written) when another evaluator changed the standing first."""
        key = {"alert": alert, "condition": decision.condition.value, "store": store}
        values = {
            "active": standing.active,
            "last_fired_at": standing.last_fired_at,
            "updated_at": now,
        }
        if previous is None:
            # RETURNING rather than rowcount, which psycopg does not report reliably for an
            # INSERT ... ON CONFLICT DO NOTHING.
            inserted = await self._conn.execute(
                ignoring_conflicts(self._conn, alert_state, list(key))
                .values(**key, **values, revision=1)
                .returning(alert_state.c.revision)
            )
            won = inserted.first() is not None
        else:
            updated = await self._conn.execute(
                update(alert_state)
                .where(
                    alert_state.c.alert == alert,
                    alert_state.c.condition == decision.condition.value,
                    alert_state.c.store == store,
                    alert_state.c.revision == previous.revision,
                )
                .values(**values, revision=previous.revision + 1)
            )
            won = updated.rowcount == 1
        if not won:
            return None
        result = await self._conn.execute(
            insert(alert_events)
            .values(
                **key,
                state=decision.state.value,
                message=decision.message,
                at=now,
                delivery=DeliveryState.PENDING.value,
                attempts=0,
                sent_to=[],
                last_error=None,
                claimed_until=None,
            )
            .returning(alert_events.c.id)
        )
        return int(result.scalar_one())

    async def claim_pending(
        self, store: str, alerts: Sequence[str], now: datetime, lease: timedelta, limit: int = 50
    ) -> list[AlertEvent]:
        """Take the firings of `store` by `alerts` still waiting for a channel, oldest first,
        for `lease`: another evaluator skips them meanwhile, so none is sent twice at once."""
        if not alerts:
            return []
        free: ColumnElement[bool] = or_(
            alert_events.c.claimed_until.is_(None), alert_events.c.claimed_until <= now
        )
        candidates: list[int] = list(
            (
                await self._conn.execute(
                    select(alert_events.c.id)
                    .where(
                        alert_events.c.delivery == DeliveryState.PENDING.value,
                        alert_events.c.store == store,
                        alert_events.c.alert.in_(list(alerts)),
                        free,
                    )
                    .order_by(alert_events.c.id)
                    .limit(limit)
                )
            ).scalars()
        )
        claimed: list[AlertEvent] = []
        for event_id in candidates:
            row = (
                await self._conn.execute(
                    update(alert_events)
                    .where(
                        alert_events.c.id == event_id,
                        alert_events.c.delivery == DeliveryState.PENDING.value,
                        free,
                    )
                    .values(claimed_until=now + lease)
                    .returning(*alert_events.c)
                )
            ).first()
            if row is not None:
                claimed.append(_event(row))
        return claimed

    async def finish(
        self,
        event_id: int,
        sent_to: Sequence[str],
        error: str | None,
        *,
        give_up: bool,
    ) -> DeliveryState:
        """Record one delivery attempt: the channels that have the firing so far, and the
        error (channel labels only) of those that did not take it."""
        state = (
            DeliveryState.SENT
            if error is None
            else (DeliveryState.FAILED if give_up else DeliveryState.PENDING)
        )
        await self._conn.execute(
            update(alert_events)
            .where(alert_events.c.id == event_id)
            .values(
                delivery=state.value,
                attempts=alert_events.c.attempts + 1,
                sent_to=list(sent_to),
                last_error=error,
                claimed_until=None,
            )
        )
        return state

    async def events(
        self, store: str | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[AlertEvent]:
        """Firings, newest first (of `store`, or every store)."""
        query = select(alert_events).order_by(alert_events.c.id.desc()).limit(limit).offset(offset)
        if store is not None:
            query = query.where(alert_events.c.store == store)
        return [_event(row) for row in await self._conn.execute(query)]

    async def active(self, store: str | None = None) -> list[dict[str, Any]]:
        """Alert conditions fired and not resolved since (of `store`, or every store)."""
        query = (
            select(alert_state)
            .where(alert_state.c.active.is_(True))
            .order_by(alert_state.c.store, alert_state.c.alert, alert_state.c.condition)
        )
        if store is not None:
            query = query.where(alert_state.c.store == store)
        return [
            {
                "alert": row.alert,
                "condition": row.condition,
                "store": row.store,
                "since": row.last_fired_at.isoformat(),
            }
            for row in await self._conn.execute(query)
        ]


async def _failing_since(conn: AsyncConnection, store: str) -> dict[str, datetime]:
    """Per destination, the first failed attempt of the rows still waiting to be retried."""
    query = (
        select(outbox.c.destination, func.min(delivery_attempts.c.at).label("since"))
        .join(delivery_attempts, delivery_attempts.c.outbox_id == outbox.c.id)
        .where(
            outbox.c.store == store,
            outbox.c.state == OutboxState.PENDING.value,
            outbox.c.attempts > 0,
            delivery_attempts.c.outcome == Outcome.RETRY.value,
        )
        .group_by(outbox.c.destination)
    )
    return {row.destination: row.since for row in await conn.execute(query)}


async def read_health(
    conn: AsyncConnection,
    store: str,
    now: datetime,
    *,
    orders_stream: str,
    throttled: int = 0,
    windows_spent: tuple[str, ...] = (),
) -> HealthSnapshot:
    """The figures every alert condition is judged on, for `store` at `now`; the API's 429s
    and spent windows come from the caller, which saw them."""
    dead = (
        await conn.execute(
            select(func.count()).where(
                outbox.c.store == store, outbox.c.state == OutboxState.DEAD.value
            )
        )
    ).scalar_one()
    held = (
        await conn.execute(
            select(func.count()).where(
                orders.c.store == store, orders.c.sync_state == SyncState.HELD.value
            )
        )
    ).scalar_one()
    overdue = (
        await conn.execute(
            select(func.count()).where(
                and_(
                    orders.c.store == store,
                    orders.c.sync_state == SyncState.PENDING_CLASSIFICATION.value,
                    orders.c.classification_deadline < now,
                )
            )
        )
    ).scalar_one()
    mark = (
        await conn.execute(
            select(checkpoints.c.watermark, checkpoints.c.updated_at).where(
                checkpoints.c.store == store, checkpoints.c.stream == orders_stream
            )
        )
    ).first()
    lag_s = (
        max((now - mark.updated_at).total_seconds(), 0.0)
        if mark is not None and mark.watermark is not None
        else None
    )
    installation = await WebhookRepository(conn).installation(store)
    report: Mapping[str, Any] = (installation.report if installation else None) or {}
    quarantined = await QuarantineRepository(conn).counts(store)
    return HealthSnapshot(
        store=store,
        at=now,
        dead_letters=int(dead),
        failing_since=await _failing_since(conn, store),
        webhook_installed=installation is not None,
        webhook_healthy=installation.healthy if installation is not None else None,
        webhook_findings=tuple(str(finding) for finding in report.get("findings", ())),
        held=int(held),
        pending_overdue=int(overdue),
        quarantined=sum(quarantined.values()),
        lag_s=lag_s,
        throttled=throttled,
        windows_spent=windows_spent,
    )
