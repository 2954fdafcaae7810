"""The ledger: each order's current state, its versions and its history of events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Row,
    RowMapping,
    and_,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from b2bsync.domain.classification import Classification, Signals, SignalSource
from b2bsync.domain.fingerprint import strip_writeback_lines
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import OrderRecord
from b2bsync.domain.sync_state import SyncState
from b2bsync.store._sql import among, insert_rows, update_many
from b2bsync.store.errors import LedgerError
from b2bsync.store.events import OrderEvent
from b2bsync.store.outbox import OUTBOX_COLUMNS, OutboxRow, outbox_row
from b2bsync.store.schema import order_events, order_versions, orders, outbox

T = TypeVar("T")

_UNCOMPARED_FIELDS = frozenset({"date_modified"})
"""Fields left out of `changed_fields`: they move on every touch, like in the content hash."""


class SeenVia(StrEnum):
    """How b2bsync first heard of an order."""

    POLL = "poll"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class ObservedOrder:
    """What is known of an order before it can be classified (from the V2 order alone)."""

    order_id: int
    status_id: int
    date_created: datetime
    date_modified: datetime
    status: str = ""
    is_archived: bool = False
    company_id: int | None = None
    po_number: str = ""
    invoice_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One order's current row."""

    store: str
    order_id: int
    order_type: OrderType | None
    sync_state: SyncState
    status_id: int
    status: str
    company_id: int | None
    po_number: str
    invoice_ids: tuple[int, ...]
    is_archived: bool
    date_created: datetime
    date_modified: datetime
    version: int
    """0 while no version exists (pending or held)."""
    content_hash: str | None
    record: OrderRecord | None
    classification_source: SignalSource | None
    classification_reason: str | None
    signals: Signals
    signals_seen_at: Mapping[str, datetime]
    """When each signal (a `Signals` field name) was first seen."""
    pending_since: datetime | None
    next_check_at: datetime | None
    check_attempts: int
    classification_deadline: datetime | None
    first_seen_via: SeenVia
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """A row of the order list (no record body)."""

    store: str
    order_id: int
    order_type: OrderType | None
    sync_state: SyncState
    status_id: int
    status: str
    company_id: int | None
    po_number: str
    invoice_ids: tuple[int, ...]
    is_archived: bool
    date_created: datetime
    date_modified: datetime
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CurrentRow:
    """What deciding a new read of an order needs of its ledger row, kept as stored (the
    record as JSON, never parsed: comparing and versioning work on the JSON)."""

    order_id: int
    order_type: OrderType | None
    sync_state: SyncState
    version: int
    date_modified: datetime
    content_hash: str | None
    record: Mapping[str, Any] | None
    classification_source: SignalSource | None
    classification_reason: str | None
    signals: Mapping[str, Any]
    """The `signals` column: the non-None `Signals` fields by name."""
    signals_seen_at: Mapping[str, str]
    pending_since: datetime | None
    check_attempts: int
    classification_deadline: datetime | None

    @property
    def known_signals(self) -> Signals:
        """The stored signals as `Signals`."""
        return Signals(
            metafield_value=self.signals.get("metafield_value"),
            b2b_is_invoice_order=self.signals.get("b2b_is_invoice_order"),
            lines_are_payment_product=self.signals.get("lines_are_payment_product"),
        )


def _current_row(m: RowMapping) -> CurrentRow:
    return CurrentRow(
        order_id=m["order_id"],
        order_type=OrderType(m["order_type"]) if m["order_type"] else None,
        sync_state=SyncState(m["sync_state"]),
        version=m["version"],
        date_modified=m["date_modified"],
        content_hash=m["content_hash"],
        record=m["record"],
        classification_source=(
            SignalSource(m["classification_source"]) if m["classification_source"] else None
        ),
        classification_reason=m["classification_reason"],
        signals=m["signals"] or {},
        signals_seen_at=m["signals_seen_at"] or {},
        pending_since=m["pending_since"],
        check_attempts=m["check_attempts"],
        classification_deadline=m["classification_deadline"],
    )


@dataclass(slots=True)
class PageWrites:
    """A page's ledger writes as rows, applied by `LedgerRepository.write_page` with one
    statement per table and shape (executemany, whose compiled form SQLAlchemy caches)."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    """New `orders` rows, all with the same columns."""
    updates: list[dict[str, Any]] = field(default_factory=list)
    """Changed `orders` columns, each with `store` and `order_id` naming its row."""
    versions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    """`order_events` rows, each order's in the order they happened."""


@dataclass(frozen=True, slots=True)
class VersionEntry:
    version: int
    order_type: OrderType
    content_hash: str
    record: OrderRecord
    changed_fields: tuple[str, ...] | None
    """Top-level fields that differ from the previous version; None for the first version."""
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventEntry:
    id: int
    at: datetime
    event: OrderEvent
    destination: str | None
    detail: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """Everything the ledger knows about one order."""

    entry: LedgerEntry
    versions: tuple[VersionEntry, ...]
    """Newest first."""
    events: tuple[EventEntry, ...]
    """Oldest first."""
    outbox: tuple[OutboxRow, ...]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1, so an empty result still has a page to show)."""
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True, slots=True)
class LedgerQuery:
    """Filters of the order list; None means "any"."""

    store: str | None = None
    order_type: OrderType | None = None
    """`UNCLASSIFIED` also matches orders with no type yet (pending, held)."""
    sync_state: SyncState | None = None
    company_id: int | None = None
    status_id: int | None = None
    search: str | None = None
    """An order id, or part of a PO number (case-insensitive)."""
    created_from: datetime | None = None
    created_to: datetime | None = None
    """Exclusive upper bound on `date_created`."""
    include_archived: bool = True


def _signals_json(signals: Signals) -> dict[str, Any]:
    return {
        name: value
        for name, value in (
            ("metafield_value", signals.metafield_value),
            ("b2b_is_invoice_order", signals.b2b_is_invoice_order),
            ("lines_are_payment_product", signals.lines_are_payment_product),
        )
        if value is not None
    }


def merge_signals(
    stored: Mapping[str, Any], seen_at: Mapping[str, str], signals: Signals | None, now: datetime
) -> tuple[dict[str, Any], dict[str, str]]:
    """The `signals` and `signals_seen_at` columns after seeing `signals`: newest value of each
    signal wins; the time it was first seen is kept."""
    merged = dict(stored)
    stamps = dict(seen_at)
    for name, value in _signals_json(signals or Signals()).items():
        merged[name] = value
        stamps.setdefault(name, now.isoformat())
    return merged, stamps


def version_values(
    record: OrderRecord,
    classification: Classification,
    *,
    version: int,
    content_hash: str,
    body: Mapping[str, Any],
    signals: Mapping[str, Any],
    signals_seen_at: Mapping[str, Any],
    state: SyncState,
    now: datetime,
) -> dict[str, Any]:
    """The `orders` columns an order's new version sets (every column but the key and those
    written only when the row is created)."""
    return {
        "order_type": classification.order_type.value,
        "sync_state": state.value,
        "status_id": record.status_id,
        "status": record.status,
        "company_id": record.b2b.company_id if record.b2b else None,
        "po_number": record.b2b.po_number if record.b2b else "",
        "invoice_ids": [link.invoice_id for link in record.invoices],
        "is_archived": record.is_archived,
        "date_created": record.date_created,
        "date_modified": record.date_modified,
        "version": version,
        "content_hash": content_hash,
        "record": body,
        "classification_source": classification.source.value,
        "classification_reason": classification.reason,
        "signals": signals,
        "signals_seen_at": signals_seen_at,
        "pending_since": None,
        "next_check_at": None,
        "classification_deadline": None,
        "updated_at": now,
    }


def _record_json(record: OrderRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")


def changed_fields(previous: Mapping[str, Any], current: Mapping[str, Any]) -> tuple[str, ...]:
    """Top-level fields whose JSON values differ, ignoring what the content hash ignores."""

    def comparable(body: Mapping[str, Any], name: str) -> Any:
        value = body.get(name)
        return strip_writeback_lines(value) if name == "staff_notes" and value else value

    names = (set(previous) | set(current)) - _UNCOMPARED_FIELDS
    return tuple(
        sorted(name for name in names if comparable(previous, name) != comparable(current, name))
    )


def _summary_fields(m: RowMapping) -> dict[str, Any]:
    """The columns an `OrderSummary` and a `LedgerEntry` share, converted."""
    return {
        "store": m["store"],
        "order_id": m["order_id"],
        "order_type": OrderType(m["order_type"]) if m["order_type"] else None,
        "sync_state": SyncState(m["sync_state"]),
        "status_id": m["status_id"],
        "status": m["status"],
        "company_id": m["company_id"],
        "po_number": m["po_number"],
        "invoice_ids": tuple(m["invoice_ids"]),
        "is_archived": m["is_archived"],
        "date_created": m["date_created"],
        "date_modified": m["date_modified"],
        "version": m["version"],
        "updated_at": m["updated_at"],
    }


def _entry(row: Row[Any]) -> LedgerEntry:
    m = row._mapping
    raw_signals: Mapping[str, Any] = m["signals"] or {}
    return LedgerEntry(
        **_summary_fields(m),
        content_hash=m["content_hash"],
        record=OrderRecord.model_validate(m["record"]) if m["record"] is not None else None,
        classification_source=(
            SignalSource(m["classification_source"]) if m["classification_source"] else None
        ),
        classification_reason=m["classification_reason"],
        signals=Signals(
            metafield_value=raw_signals.get("metafield_value"),
            b2b_is_invoice_order=raw_signals.get("b2b_is_invoice_order"),
            lines_are_payment_product=raw_signals.get("lines_are_payment_product"),
        ),
        signals_seen_at={
            name: datetime.fromisoformat(at) for name, at in (m["signals_seen_at"] or {}).items()
        },
        pending_since=m["pending_since"],
        next_check_at=m["next_check_at"],
        check_attempts=m["check_attempts"],
        classification_deadline=m["classification_deadline"],
        first_seen_via=SeenVia(m["first_seen_via"]),
        created_at=m["created_at"],
    )


def _summary(row: Row[Any]) -> OrderSummary:
    return OrderSummary(**_summary_fields(row._mapping))


_SUMMARY_COLUMNS = (
    orders.c.store,
    orders.c.order_id,
    orders.c.order_type,
    orders.c.sync_state,
    orders.c.status_id,
    orders.c.status,
    orders.c.company_id,
    orders.c.po_number,
    orders.c.invoice_ids,
    orders.c.is_archived,
    orders.c.date_created,
    orders.c.date_modified,
    orders.c.version,
    orders.c.updated_at,
)


class LedgerRepository:
    """Reads and writes the ledger inside the caller's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def current(self, store: str, order_ids: Iterable[int]) -> dict[int, LedgerEntry]:
        """The current rows of those orders that the ledger has, by order id."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        result = await self._conn.execute(
            select(orders).where(orders.c.store == store, among(self._conn, orders.c.order_id, ids))
        )
        return {entry.order_id: entry for entry in map(_entry, result)}

    async def current_rows(self, store: str, order_ids: Iterable[int]) -> dict[int, CurrentRow]:
        """The rows of those orders that the ledger has, locked for this transaction.

        FOR UPDATE (PostgreSQL; SQLite's write transactions are serial) keeps two writers of
        one order in line; rows are read in key order so two writers lock in the same order.
        """
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        result = await self._conn.execute(
            select(orders)
            .where(orders.c.store == store, among(self._conn, orders.c.order_id, ids))
            .order_by(orders.c.order_id)
            .with_for_update()
        )
        return {row.order_id: _current_row(row._mapping) for row in result}

    async def write_page(self, writes: PageWrites) -> None:
        """Apply a page's writes: new rows, changed rows, versions, then events."""
        await insert_rows(self._conn, orders, writes.inserts)
        await update_many(self._conn, orders, ("store", "order_id"), writes.updates)
        await insert_rows(self._conn, order_versions, writes.versions)
        await insert_rows(self._conn, order_events, writes.events)

    async def _locked(self, store: str, order_id: int) -> Row[Any] | None:
        # FOR UPDATE keeps two writers of one order in line on PostgreSQL; SQLite's write
        # transactions (BEGIN IMMEDIATE) are serial anyway and the clause is not rendered there.
        result = await self._conn.execute(
            select(orders)
            .where(orders.c.store == store, orders.c.order_id == order_id)
            .with_for_update()
        )
        return result.first()

    async def append_version(
        self,
        store: str,
        record: OrderRecord,
        content_hash: str,
        classification: Classification,
        now: datetime,
        *,
        seen_via: SeenVia = SeenVia.POLL,
        signals: Signals | None = None,
    ) -> int | None:
        """Write `record` as the order's next version and return its number.

        Returns None, writing no version, when `content_hash` equals the current one (then the
        observed fields status, date_modified and is_archived are refreshed) or when `record`
        is older than what the ledger already has (a stale read must not undo a newer one).
        The new version makes the order `ready`; its outbox rows belong in the same transaction.
        """
        if record.store != store:
            raise LedgerError(f"record of store {record.store!r} written to store {store!r}")
        if record.order_type is not classification.order_type:
            raise LedgerError(
                f"record says {record.order_type}, its classification {classification.order_type}"
            )
        current = await self._locked(store, record.order_id)
        body = _record_json(record)
        if current is not None:
            m = current._mapping
            if record.date_modified < m["date_modified"]:
                return None
            merged, stamps = merge_signals(m["signals"], m["signals_seen_at"], signals, now)
            if m["content_hash"] == content_hash:
                await self._conn.execute(
                    update(orders)
                    .where(orders.c.store == store, orders.c.order_id == record.order_id)
                    .values(
                        status_id=record.status_id,
                        status=record.status,
                        date_modified=record.date_modified,
                        is_archived=record.is_archived,
                        signals=merged,
                        signals_seen_at=stamps,
                        updated_at=now,
                    )
                )
                return None
            version = int(m["version"]) + 1
            changed = changed_fields(m["record"], body) if m["record"] is not None else None
            reclassified = (
                m["order_type"] != classification.order_type
                or m["classification_source"] != classification.source
            )
        else:
            version = 1
            changed = None
            reclassified = True
            merged, stamps = merge_signals({}, {}, signals, now)
        values = version_values(
            record,
            classification,
            version=version,
            content_hash=content_hash,
            body=body,
            signals=merged,
            signals_seen_at=stamps,
            state=SyncState.READY,
            now=now,
        )
        if current is None:
            await self._conn.execute(
                insert(orders).values(
                    store=store,
                    order_id=record.order_id,
                    check_attempts=0,
                    first_seen_via=seen_via.value,
                    created_at=now,
                    **values,
                )
            )
            await self.record_event(
                store, record.order_id, OrderEvent.SEEN, now, {"via": seen_via.value}
            )
        else:
            await self._conn.execute(
                update(orders)
                .where(orders.c.store == store, orders.c.order_id == record.order_id)
                .values(**values)
            )
        await self._conn.execute(
            insert(order_versions).values(
                store=store,
                order_id=record.order_id,
                version=version,
                order_type=classification.order_type.value,
                content_hash=content_hash,
                record=body,
                changed_fields=list(changed) if changed is not None else None,
                created_at=now,
            )
        )
        if reclassified:
            await self.record_event(
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
        await self.record_event(
            store,
            record.order_id,
            OrderEvent.VERSIONED,
            now,
            {
                "version": version,
                "content_hash": content_hash,
                "changed_fields": list(changed) if changed is not None else None,
            },
        )
        return version

    async def mark_pending(
        self,
        store: str,
        observed: ObservedOrder,
        signals: Signals,
        now: datetime,
        *,
        next_check_at: datetime,
        deadline: datetime,
        seen_via: SeenVia = SeenVia.POLL,
    ) -> LedgerEntry:
        """Record an order that cannot be classified yet, and when to look at it again.

        The first call starts the wait (`pending_since`, `classification_deadline`); later calls
        count a check, keep the original deadline and merge newly seen signals. An order that
        already has a version is never pending again: that raises `LedgerError`.
        """
        current = await self._locked(store, observed.order_id)
        observed_values: dict[str, Any] = {
            "sync_state": SyncState.PENDING_CLASSIFICATION.value,
            "status_id": observed.status_id,
            "status": observed.status,
            "company_id": observed.company_id,
            "po_number": observed.po_number,
            "invoice_ids": list(observed.invoice_ids),
            "is_archived": observed.is_archived,
            "date_created": observed.date_created,
            "date_modified": observed.date_modified,
            "next_check_at": next_check_at,
            "updated_at": now,
        }
        if current is None:
            merged, stamps = merge_signals({}, {}, signals, now)
            await self._conn.execute(
                insert(orders).values(
                    store=store,
                    order_id=observed.order_id,
                    order_type=None,
                    version=0,
                    content_hash=None,
                    record=None,
                    classification_source=None,
                    classification_reason=None,
                    signals=merged,
                    signals_seen_at=stamps,
                    pending_since=now,
                    check_attempts=0,
                    classification_deadline=deadline,
                    first_seen_via=seen_via.value,
                    created_at=now,
                    **observed_values,
                )
            )
            await self.record_event(
                store,
                observed.order_id,
                OrderEvent.SEEN,
                now,
                {"via": seen_via.value, "sync_state": SyncState.PENDING_CLASSIFICATION.value},
            )
        else:
            m = current._mapping
            if m["version"] > 0:
                raise LedgerError(
                    f"order {store}:{observed.order_id} has version {m['version']}; "
                    "a classified order is never pending again"
                )
            merged, stamps = merge_signals(m["signals"], m["signals_seen_at"], signals, now)
            await self._conn.execute(
                update(orders)
                .where(orders.c.store == store, orders.c.order_id == observed.order_id)
                .values(
                    signals=merged,
                    signals_seen_at=stamps,
                    pending_since=m["pending_since"] or now,
                    check_attempts=orders.c.check_attempts + 1,
                    classification_deadline=m["classification_deadline"] or deadline,
                    **observed_values,
                )
            )
        entries = await self.current(store, [observed.order_id])
        return entries[observed.order_id]

    async def mark_held(self, store: str, order_id: int, now: datetime, reason: str) -> None:
        """Hold an unclassified order for a person: no more scheduled checks."""
        await self._set(
            store,
            order_id,
            {"sync_state": SyncState.HELD.value, "next_check_at": None, "updated_at": now},
        )
        await self.record_event(store, order_id, OrderEvent.HELD, now, {"reason": reason})

    async def set_state(
        self,
        store: str,
        order_id: int,
        state: SyncState,
        now: datetime,
        *,
        event: OrderEvent = OrderEvent.STATE_CHANGED,
        destination: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Move an order to `state` and note it in its history."""
        await self._set(store, order_id, {"sync_state": state.value, "updated_at": now})
        await self.record_event(
            store,
            order_id,
            event,
            now,
            {"sync_state": state.value, **(detail or {})},
            destination=destination,
        )

    async def _set(self, store: str, order_id: int, values: Mapping[str, Any]) -> None:
        result = await self._conn.execute(
            update(orders)
            .where(orders.c.store == store, orders.c.order_id == order_id)
            .values(**values)
        )
        if result.rowcount == 0:
            raise LedgerError(f"order {store}:{order_id} is not in the ledger")

    async def due_rechecks(self, store: str, now: datetime, limit: int) -> list[int]:
        """Pending orders whose next check is due, the most overdue first."""
        result = await self._conn.execute(
            select(orders.c.order_id)
            .where(
                orders.c.sync_state == SyncState.PENDING_CLASSIFICATION.value,
                orders.c.store == store,
                orders.c.next_check_at <= now,
            )
            .order_by(orders.c.next_check_at, orders.c.order_id)
            .limit(limit)
        )
        return list(result.scalars())

    async def record_event(
        self,
        store: str,
        order_id: int,
        event: OrderEvent,
        now: datetime,
        detail: Mapping[str, Any] | None = None,
        *,
        destination: str | None = None,
    ) -> None:
        """Append an entry to the order's history."""
        await self._conn.execute(
            insert(order_events).values(
                store=store,
                order_id=order_id,
                at=now,
                event=event.value,
                destination=destination,
                detail=dict(detail) if detail is not None else None,
            )
        )

    async def list_orders(
        self, filters: LedgerQuery = LedgerQuery(), *, page: int = 1, page_size: int = 50
    ) -> Page[OrderSummary]:
        """One page of orders matching `filters`, newest first."""
        if page < 1 or page_size < 1:
            raise ValueError("page and page_size start at 1")
        conditions: list[ColumnElement[bool]] = []
        if filters.store is not None:
            conditions.append(orders.c.store == filters.store)
        if filters.order_type is OrderType.UNCLASSIFIED:
            # Pending and held orders have no type yet: to a reader they are unclassified too.
            conditions.append(
                or_(orders.c.order_type.is_(None), orders.c.order_type == filters.order_type.value)
            )
        elif filters.order_type is not None:
            conditions.append(orders.c.order_type == filters.order_type.value)
        if filters.sync_state is not None:
            conditions.append(orders.c.sync_state == filters.sync_state.value)
        if filters.company_id is not None:
            conditions.append(orders.c.company_id == filters.company_id)
        if filters.status_id is not None:
            conditions.append(orders.c.status_id == filters.status_id)
        if filters.created_from is not None:
            conditions.append(orders.c.date_created >= filters.created_from)
        if filters.created_to is not None:
            conditions.append(orders.c.date_created < filters.created_to)
        if not filters.include_archived:
            conditions.append(orders.c.is_archived.is_(False))
        if filters.search:
            term = filters.search.strip()
            pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            matches: list[ColumnElement[bool]] = [
                func.lower(orders.c.po_number).like(pattern.lower() + "%", escape="\\")
            ]
            if term.isdigit():
                matches.append(orders.c.order_id == int(term))
            conditions.append(or_(*matches))
        where = and_(true(), *conditions)
        total = await self._conn.scalar(select(func.count()).select_from(orders).where(where))
        newest: ColumnElement[Any] = orders.c.date_created
        if filters.search and self._conn.dialect.name == "sqlite":
            # Without statistics SQLite would walk the newest-first index and read every row
            # to test the LIKE; `+column` makes it scan once and sort the few matches.
            newest = literal_column("+orders.date_created")
        result = await self._conn.execute(
            select(*_SUMMARY_COLUMNS)
            .where(where)
            # One direction throughout, so ix_orders_date_created_order_id_store serves it.
            .order_by(newest.desc(), orders.c.order_id.desc(), orders.c.store.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return Page(
            items=tuple(map(_summary, result)),
            total=int(total or 0),
            page=page,
            page_size=page_size,
        )

    async def get_order(self, store: str, order_id: int) -> OrderDetail | None:
        """The order's row, versions, history and outbox rows, or None when unknown."""
        entries = await self.current(store, [order_id])
        if order_id not in entries:
            return None
        versions = await self._conn.execute(
            select(order_versions)
            .where(order_versions.c.store == store, order_versions.c.order_id == order_id)
            .order_by(order_versions.c.version.desc())
        )
        events = await self._conn.execute(
            select(order_events)
            .where(order_events.c.store == store, order_events.c.order_id == order_id)
            .order_by(order_events.c.id)
        )
        rows = await self._conn.execute(
            select(*OUTBOX_COLUMNS)
            .where(outbox.c.store == store, outbox.c.order_id == order_id)
            .order_by(outbox.c.version.desc(), outbox.c.destination)
        )
        return OrderDetail(
            entry=entries[order_id],
            versions=tuple(
                VersionEntry(
                    version=v.version,
                    order_type=OrderType(v.order_type),
                    content_hash=v.content_hash,
                    record=OrderRecord.model_validate(v.record),
                    changed_fields=(
                        tuple(v.changed_fields) if v.changed_fields is not None else None
                    ),
                    created_at=v.created_at,
                )
                for v in versions
            ),
            events=tuple(
                EventEntry(
                    id=e.id,
                    at=e.at,
                    event=OrderEvent(e.event),
                    destination=e.destination,
                    detail=e.detail,
                )
                for e in events
            ),
            outbox=tuple(map(outbox_row, rows)),
        )
