"""Read-only figures over the ledger that `b2bsync status`, `b2bsync demo` and the dashboard
show: counts by type and state, the outbox's depth, watermarks and lag, orders per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from b2bsync.domain.order_type import OrderType
from b2bsync.domain.sync_state import SyncState
from b2bsync.store.database import Database
from b2bsync.store.outbox import OutboxState
from b2bsync.store.schema import checkpoints, orders

__all__ = [
    "DailyCount",
    "LedgerCounts",
    "Watermark",
    "ledger_counts",
    "orders_per_day",
    "watermarks",
]


@dataclass(frozen=True, slots=True)
class LedgerCounts:
    """How many orders the ledger holds, by type and by sync state, and the outbox's state."""

    total: int
    by_type: dict[str, int]
    """`online_order`, `invoice_payment`, `unclassified` (pending and held orders count here)."""
    by_state: dict[str, int]
    outbox: dict[str, dict[str, int]]
    """Rows per destination and outbox state."""

    @property
    def dead_letters(self) -> int:
        """Outbox rows that gave up, over every destination."""
        return sum(states.get(OutboxState.DEAD.value, 0) for states in self.outbox.values())

    @property
    def outbox_depth(self) -> int:
        """Outbox rows still waiting for an attempt."""
        return sum(states.get(OutboxState.PENDING.value, 0) for states in self.outbox.values())


def type_name(value: str | None) -> str:
    """The type a reader sees: an order without a type yet (pending, held) is unclassified."""
    return str(value) if value else OrderType.UNCLASSIFIED.value


async def ledger_counts(db: Database, store: str | None) -> LedgerCounts:
    """Count the ledger of `store` (every store when None) and the whole outbox."""
    # Grouped by store too, so the covering index (store, order_type, sync_state) serves it.
    query = select(orders.c.order_type, orders.c.sync_state, func.count().label("n")).group_by(
        orders.c.store, orders.c.order_type, orders.c.sync_state
    )
    if store is not None:
        query = query.where(orders.c.store == store)
    by_type = {kind.value: 0 for kind in OrderType}
    by_state = {state.value: 0 for state in SyncState}
    async with db.transaction(readonly=True) as tx:
        for row in await tx.connection.execute(query):
            by_type[type_name(row.order_type)] += row.n
            by_state[row.sync_state] = by_state.get(row.sync_state, 0) + row.n
        outbox: dict[str, dict[str, int]] = {}
        for (destination, state), rows in (await tx.outbox.depth()).items():
            outbox.setdefault(destination, {})[state.value] = rows
    return LedgerCounts(sum(by_type.values()), by_type, by_state, outbox)


@dataclass(frozen=True, slots=True)
class Watermark:
    """How far one stream of one store has read, and how long ago that was."""

    store: str
    stream: str
    watermark: datetime | None
    """The newest change the stream has read (an idle store's stays put)."""
    lag_s: float | None
    """Seconds since the stream last read successfully: how stale the ledger may be. Not
    measured from `watermark`, which on an idle store says only that nothing changed."""
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The watermark as `b2bsync status --json` prints it."""
        return {
            "store": self.store,
            "stream": self.stream,
            "watermark": self.watermark.isoformat() if self.watermark else None,
            "lag_s": self.lag_s,
            "updated_at": self.updated_at.isoformat(),
        }


async def watermarks(db: Database, store: str | None, now: datetime) -> list[Watermark]:
    """Every stream's watermark of `store` (every store when None), with its lag at `now`
    (since its last successful read)."""
    query = select(checkpoints).order_by(checkpoints.c.store, checkpoints.c.stream)
    if store is not None:
        query = query.where(checkpoints.c.store == store)
    async with db.transaction(readonly=True) as tx:
        rows = (await tx.connection.execute(query)).all()
    return [
        Watermark(
            store=row.store,
            stream=row.stream,
            watermark=row.watermark,
            lag_s=max(round((now - row.updated_at).total_seconds(), 1), 0.0)
            if row.watermark
            else None,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class DailyCount:
    """Orders of one type created on one UTC day in one currency, and their total."""

    day: date
    order_type: str
    orders: int
    amount: Decimal = Decimal(0)
    """The orders' `total_inc_tax` summed: sales for online orders, the money collected for
    invoice payments."""
    currency: str = ""


def _utc_day(dialect: str) -> ColumnElement[str]:
    # SQLite keeps naive UTC text ("YYYY-MM-DD HH:MM:SS"); PostgreSQL a timestamptz.
    if dialect == "sqlite":
        return func.substr(cast(orders.c.date_created, String), 1, 10)
    return func.to_char(func.timezone("UTC", orders.c.date_created), "YYYY-MM-DD")


async def orders_per_day(db: Database, store: str | None, since: datetime) -> list[DailyCount]:
    """Orders created from `since` on and their totals, per UTC day, type and currency, oldest
    day first (the totals from each order's current record)."""
    day = _utc_day(db.dialect).label("day")
    currency = orders.c.record["currency"].as_string().label("currency")
    amount = func.sum(cast(orders.c.record["total_inc_tax"].as_string(), Numeric(18, 4)))
    query = (
        select(day, orders.c.order_type, currency, func.count().label("n"), amount.label("amount"))
        .where(orders.c.date_created >= since)
        .group_by(day, orders.c.order_type, currency)
        .order_by(day)
    )
    if store is not None:
        query = query.where(orders.c.store == store)
    async with db.transaction(readonly=True) as tx:
        rows = (await tx.connection.execute(query)).all()
    merged: dict[tuple[date, str, str], tuple[int, Decimal]] = {}
    for row in rows:
        key = (date.fromisoformat(row.day), type_name(row.order_type), row.currency or "")
        orders_before, amount_before = merged.get(key, (0, Decimal(0)))
        total = Decimal(str(row.amount)) if row.amount is not None else Decimal(0)
        merged[key] = (orders_before + row.n, amount_before + total)
    return [
        DailyCount(day, kind, n, total.quantize(Decimal("0.01")), code)
        for (day, kind, code), (n, total) in merged.items()
    ]


def days_back(now: datetime, days: int) -> datetime:
    """Midnight UTC `days - 1` days before `now`: the start of a `days`-day chart."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
