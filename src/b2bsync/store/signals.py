"""Signal caches and order drafts: what the signal streams learned, and each order's latest
V2 snapshot, so an order is composed from local rows instead of API calls per order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Row, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from b2bsync.domain.records import OrderRecord
from b2bsync.store._sql import among, chunks, execute_many, merging, update_many
from b2bsync.store.ledger import Page
from b2bsync.store.schema import companies, invoice_payments, invoices, order_drafts, order_signals

T = TypeVar("T")

_IN_CHUNK = 500
"""Ids per `IN (...)`; keeps SQLite under its bound-parameter limit."""


@dataclass(frozen=True, slots=True)
class MetafieldSignal:
    """The `orderType` metafield of one order."""

    order_id: int
    value: str
    namespace: str


@dataclass(frozen=True, slots=True)
class B2BOrderSignal:
    """The B2B Edition record of one order (from the list, or the detail when fetched)."""

    order_id: int
    b2b_order_id: int | None
    company_id: int | None
    po_number: str = ""
    extra_fields: Mapping[str, str] = field(default_factory=dict)
    is_invoice_order: bool | None = None
    """Only the detail carries it; None leaves a value seen earlier in place."""


@dataclass(frozen=True, slots=True)
class OrderSignalRow:
    """Everything cached about one order's signals."""

    order_id: int
    metafield_value: str | None = None
    metafield_namespace: str | None = None
    metafield_seen_at: datetime | None = None
    b2b_order_id: int | None = None
    company_id: int | None = None
    po_number: str = ""
    extra_fields: Mapping[str, str] = field(default_factory=dict)
    b2b_seen_at: datetime | None = None
    is_invoice_order: bool | None = None


@dataclass(frozen=True, slots=True)
class CompanyRow:
    company_id: int
    name: str
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    invoice_id: int
    number: str
    order_number: str | None
    """The BigCommerce order id the invoice bills, as B2B Edition spells it."""
    company_id: int | None
    status: int | None
    currency: str
    original_balance: Decimal
    open_balance: Decimal
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PaymentLineRow:
    invoice_id: int
    invoice_number: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PaymentRow:
    payment_id: int
    order_id: int | None
    """The BigCommerce order of a checkout payment (`moduleData.orderId`)."""
    company_id: int | None
    module_name: str
    processing_status: int | None
    currency: str
    total: Decimal
    lines: tuple[PaymentLineRow, ...]
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SignalBundle:
    """What the caches say about one order: the input of `compose`."""

    signal: OrderSignalRow | None = None
    company: CompanyRow | None = None
    billed_by: tuple[InvoiceRow, ...] = ()
    """Invoices created from this order (their `orderNumber` is its id)."""
    payment: PaymentRow | None = None
    """The Invoice Portal payment this order made, if it is a checkout payment."""
    paid_invoices: Mapping[int, InvoiceRow] = field(default_factory=dict)
    """The invoices `payment` settles, by id, as far as they are cached."""


def _money(value: Decimal) -> str:
    return format(value, "f")


def _signal_values(row: OrderSignalRow) -> dict[str, Any]:
    return {
        "metafield_value": row.metafield_value,
        "metafield_namespace": row.metafield_namespace,
        "metafield_seen_at": row.metafield_seen_at,
        "b2b_order_id": row.b2b_order_id,
        "company_id": row.company_id,
        "po_number": row.po_number,
        "extra_fields": dict(row.extra_fields),
        "b2b_seen_at": row.b2b_seen_at,
        "is_invoice_order": row.is_invoice_order,
    }


def _signal_row(row: Row[Any]) -> OrderSignalRow:
    m = row._mapping
    return OrderSignalRow(
        order_id=m["order_id"],
        metafield_value=m["metafield_value"],
        metafield_namespace=m["metafield_namespace"],
        metafield_seen_at=m["metafield_seen_at"],
        b2b_order_id=m["b2b_order_id"],
        company_id=m["company_id"],
        po_number=m["po_number"],
        extra_fields=dict(m["extra_fields"] or {}),
        b2b_seen_at=m["b2b_seen_at"],
        is_invoice_order=m["is_invoice_order"],
    )


def _invoice_values(row: InvoiceRow) -> dict[str, Any]:
    return {
        "number": row.number,
        "order_number": row.order_number,
        "company_id": row.company_id,
        "status": row.status,
        "currency": row.currency,
        "original_balance": _money(row.original_balance),
        "open_balance": _money(row.open_balance),
        "updated_at": row.updated_at,
    }


def _invoice_row(row: Row[Any]) -> InvoiceRow:
    m = row._mapping
    return InvoiceRow(
        invoice_id=m["invoice_id"],
        number=m["number"],
        order_number=m["order_number"],
        company_id=m["company_id"],
        status=m["status"],
        currency=m["currency"],
        original_balance=Decimal(m["original_balance"]),
        open_balance=Decimal(m["open_balance"]),
        updated_at=m["updated_at"],
    )


def _payment_values(row: PaymentRow) -> dict[str, Any]:
    return {
        "order_id": row.order_id,
        "company_id": row.company_id,
        "module_name": row.module_name,
        "processing_status": row.processing_status,
        "currency": row.currency,
        "total": _money(row.total),
        "lines": [
            {
                "invoice_id": line.invoice_id,
                "invoice_number": line.invoice_number,
                "amount": _money(line.amount),
            }
            for line in row.lines
        ],
        "updated_at": row.updated_at,
    }


def _payment_row(row: Row[Any]) -> PaymentRow:
    m = row._mapping
    return PaymentRow(
        payment_id=m["payment_id"],
        order_id=m["order_id"],
        company_id=m["company_id"],
        module_name=m["module_name"],
        processing_status=m["processing_status"],
        currency=m["currency"],
        total=Decimal(m["total"]),
        lines=tuple(
            PaymentLineRow(
                invoice_id=int(line["invoice_id"]),
                invoice_number=str(line.get("invoice_number") or ""),
                amount=Decimal(str(line["amount"])),
            )
            for line in m["lines"] or []
        ),
        updated_at=m["updated_at"],
    )


def _content(values: Mapping[str, Any], compared: Iterable[str]) -> tuple[Any, ...]:
    return tuple(values[name] for name in compared)


class SignalRepository:
    """Reads and writes the signal caches and drafts inside the caller's transaction.

    Every `put_*` writes only rows whose content changed and returns the keys it changed, so
    the streams can tell which orders need composing again.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _select_in(
        self,
        table: Table,
        key: ColumnElement[Any],
        store: str,
        ids: Iterable[Any],
        *,
        locked: bool = False,
    ) -> list[Row[Any]]:
        wanted = sorted(set(ids))
        found: list[Row[Any]] = []
        for chunk in chunks(wanted, _IN_CHUNK):
            query = select(table).where(table.c.store == store, among(self._conn, key, chunk))
            if locked:
                # In key order, so two writers locking overlapping rows cannot deadlock.
                query = query.order_by(key).with_for_update()
            found.extend(await self._conn.execute(query))
        return found

    async def _upsert(
        self,
        table: Table,
        store: str,
        key: str,
        rows: Mapping[int, dict[str, Any]],
        compared: Sequence[str],
        now: datetime,
        stamp: str,
    ) -> set[int]:
        """Insert new rows and update changed ones; `compared` names the content columns."""
        if not rows:
            return set()
        existing = {
            row._mapping[key]: dict(row._mapping)
            for row in await self._select_in(table, table.c[key], store, rows)
        }
        changed: set[int] = set()
        new_rows = []
        changed_rows = []
        for ident, values in rows.items():
            old = existing.get(ident)
            if old is None:
                new_rows.append({"store": store, key: ident, **values, stamp: now})
                changed.add(ident)
            elif _content(old, compared) != _content(values, compared):
                changed_rows.append({"store": store, key: ident, **values, stamp: now})
                changed.add(ident)
        await self._write(table, key, new_rows, changed_rows)
        return changed

    async def _write(
        self,
        table: Table,
        key: str,
        new_rows: Sequence[dict[str, Any]],
        changed_rows: Sequence[dict[str, Any]],
    ) -> None:
        """Insert `new_rows` and update `changed_rows` (keyed by `store` and `key`), one
        executemany each."""
        await update_many(self._conn, table, ("store", key), changed_rows)
        if new_rows:
            # A row another transaction inserted meanwhile (a webhook batch and the poll reading
            # two streams of one new order) gets this one's values merged in, not dropped.
            columns = [name for name in new_rows[0] if name not in ("store", key)]
            await execute_many(
                self._conn, merging(self._conn, table, ("store", key), columns), new_rows
            )

    async def signals(
        self, store: str, order_ids: Iterable[int], *, locked: bool = False
    ) -> dict[int, OrderSignalRow]:
        """Cached signals of those orders that have any, by order id; `locked` holds the rows
        until the transaction ends, for a read-modify-write (PostgreSQL; a SQLite writer holds
        the whole database)."""
        rows = await self._select_in(
            order_signals, order_signals.c.order_id, store, order_ids, locked=locked
        )
        return {row.order_id: _signal_row(row) for row in rows}

    async def put_metafields(
        self, store: str, found: Sequence[MetafieldSignal], now: datetime
    ) -> set[int]:
        """Cache `orderType` metafields; returns the orders whose value or namespace changed."""
        current = await self.signals(store, (item.order_id for item in found), locked=True)
        merged: dict[int, OrderSignalRow] = {}
        for item in found:
            base = merged.get(item.order_id) or current.get(item.order_id)
            base = base or OrderSignalRow(order_id=item.order_id)
            seen_at = base.metafield_seen_at if base.metafield_value == item.value else None
            merged[item.order_id] = replace(
                base,
                metafield_value=item.value,
                metafield_namespace=item.namespace,
                metafield_seen_at=seen_at or now,
            )
        return await self._put_signals(
            store, merged, now, ("metafield_value", "metafield_namespace")
        )

    async def put_b2b_orders(
        self, store: str, found: Sequence[B2BOrderSignal], now: datetime
    ) -> set[int]:
        """Cache B2B Edition order records; returns the orders whose record changed."""
        current = await self.signals(store, (item.order_id for item in found), locked=True)
        merged: dict[int, OrderSignalRow] = {}
        for item in found:
            base = merged.get(item.order_id) or current.get(item.order_id)
            base = base or OrderSignalRow(order_id=item.order_id)
            merged[item.order_id] = replace(
                base,
                b2b_order_id=item.b2b_order_id,
                company_id=item.company_id,
                po_number=item.po_number,
                extra_fields=dict(item.extra_fields),
                b2b_seen_at=base.b2b_seen_at or now,
                is_invoice_order=(
                    item.is_invoice_order
                    if item.is_invoice_order is not None
                    else base.is_invoice_order
                ),
            )
        return await self._put_signals(
            store,
            merged,
            now,
            ("b2b_order_id", "company_id", "po_number", "extra_fields", "is_invoice_order"),
        )

    async def _put_signals(
        self,
        store: str,
        rows: Mapping[int, OrderSignalRow],
        now: datetime,
        compared: Sequence[str],
    ) -> set[int]:
        return await self._upsert(
            order_signals,
            store,
            "order_id",
            {ident: _signal_values(row) for ident, row in rows.items()},
            compared,
            now,
            "updated_at",
        )

    async def orders_of_companies(self, store: str, company_ids: Iterable[int]) -> set[int]:
        """Orders whose B2B record names one of these companies."""
        rows = await self._select_in(order_signals, order_signals.c.company_id, store, company_ids)
        return {row.order_id for row in rows}

    async def put_companies(
        self, store: str, found: Sequence[CompanyRow], now: datetime
    ) -> set[int]:
        """Cache companies; returns the ids whose name changed (or that are new)."""
        rows = {row.company_id: {"name": row.name, "updated_at": row.updated_at} for row in found}
        return await self._upsert(companies, store, "company_id", rows, ("name",), now, "seen_at")

    async def put_invoices(
        self, store: str, found: Sequence[InvoiceRow], now: datetime
    ) -> set[int]:
        """Cache invoices; returns the ids whose content changed (or that are new)."""
        rows = {row.invoice_id: _invoice_values(row) for row in found}
        compared = (
            "number",
            "order_number",
            "company_id",
            "status",
            "currency",
            "original_balance",
            "open_balance",
        )
        return await self._upsert(invoices, store, "invoice_id", rows, compared, now, "seen_at")

    async def put_payments(
        self, store: str, found: Sequence[PaymentRow], now: datetime
    ) -> set[int]:
        """Cache payments; returns the ids whose content changed (or that are new)."""
        rows = {row.payment_id: _payment_values(row) for row in found}
        compared = (
            "order_id",
            "company_id",
            "module_name",
            "processing_status",
            "currency",
            "total",
            "lines",
        )
        return await self._upsert(
            invoice_payments, store, "payment_id", rows, compared, now, "seen_at"
        )

    async def invoices(self, store: str, invoice_ids: Iterable[int]) -> dict[int, InvoiceRow]:
        """Cached invoices by id."""
        rows = await self._select_in(invoices, invoices.c.invoice_id, store, invoice_ids)
        return {row.invoice_id: _invoice_row(row) for row in rows}

    async def payments(self, store: str, payment_ids: Iterable[int]) -> dict[int, PaymentRow]:
        """Cached payments by id."""
        rows = await self._select_in(
            invoice_payments, invoice_payments.c.payment_id, store, payment_ids
        )
        return {row.payment_id: _payment_row(row) for row in rows}

    async def list_invoices(
        self, store: str, *, page: int = 1, page_size: int = 50
    ) -> Page[InvoiceRow]:
        """One page of the store's cached invoices by number, highest first (a longer number
        sorts higher, so 1000 comes before 261 as people count)."""
        return await self._page(
            invoices,
            (
                func.length(invoices.c.number).desc(),
                invoices.c.number.desc(),
                invoices.c.invoice_id.desc(),
            ),
            _invoice_row,
            store,
            page,
            page_size,
        )

    async def list_payments(
        self, store: str, *, page: int = 1, page_size: int = 50
    ) -> Page[PaymentRow]:
        """One page of the store's cached Invoice Portal payments, newest id first."""
        return await self._page(
            invoice_payments,
            (invoice_payments.c.payment_id.desc(),),
            _payment_row,
            store,
            page,
            page_size,
        )

    async def _page(
        self,
        table: Table,
        order: Sequence[ColumnElement[Any]],
        convert: Callable[[Row[Any]], T],
        store: str,
        page: int,
        page_size: int,
    ) -> Page[T]:
        if page < 1 or page_size < 1:
            raise ValueError("page and page_size start at 1")
        total = await self._conn.scalar(
            select(func.count()).select_from(table).where(table.c.store == store)
        )
        rows = await self._conn.execute(
            select(table)
            .where(table.c.store == store)
            .order_by(*order)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return Page(tuple(map(convert, rows)), int(total or 0), page, page_size)

    async def company_names(self, store: str, company_ids: Iterable[int]) -> dict[int, str]:
        """The cached names of those companies, by id."""
        rows = await self._select_in(companies, companies.c.company_id, store, company_ids)
        return {row.company_id: row.name for row in rows}

    async def bundles(self, store: str, order_ids: Iterable[int]) -> dict[int, SignalBundle]:
        """What the caches know about each of these orders, in a fixed number of queries."""
        ids = sorted(set(order_ids))
        signals = await self.signals(store, ids)
        company_ids = {row.company_id for row in signals.values() if row.company_id is not None}
        payment_rows = [
            _payment_row(row)
            for row in await self._select_in(
                invoice_payments, invoice_payments.c.order_id, store, ids
            )
        ]
        payments_by_order: dict[int, PaymentRow] = {}
        for found in sorted(payment_rows, key=lambda p: p.payment_id):
            assert found.order_id is not None
            payments_by_order.setdefault(found.order_id, found)
        company_ids |= {p.company_id for p in payment_rows if p.company_id is not None}
        company_rows = {
            row.company_id: CompanyRow(row.company_id, row.name, row.updated_at)
            for row in await self._select_in(companies, companies.c.company_id, store, company_ids)
        }
        billed: dict[int, list[InvoiceRow]] = {}
        for row in await self._select_in(
            invoices, invoices.c.order_number, store, (str(ident) for ident in ids)
        ):
            invoice = _invoice_row(row)
            assert invoice.order_number is not None
            billed.setdefault(int(invoice.order_number), []).append(invoice)
        paid = await self.invoices(
            store, (line.invoice_id for p in payment_rows for line in p.lines)
        )
        bundles: dict[int, SignalBundle] = {}
        for ident in ids:
            signal = signals.get(ident)
            payment = payments_by_order.get(ident)
            company_id = signal.company_id if signal and signal.company_id is not None else None
            if company_id is None and payment is not None:
                company_id = payment.company_id
            bundles[ident] = SignalBundle(
                signal=signal,
                company=company_rows.get(company_id) if company_id is not None else None,
                billed_by=tuple(sorted(billed.get(ident, []), key=lambda i: i.invoice_id)),
                payment=payment,
                paid_invoices=(
                    {
                        line.invoice_id: paid[line.invoice_id]
                        for line in payment.lines
                        if line.invoice_id in paid
                    }
                    if payment is not None
                    else {}
                ),
            )
        return bundles

    async def put_drafts(self, store: str, drafts: Sequence[OrderRecord], now: datetime) -> None:
        """Keep each order's latest draft; an older snapshot never replaces a newer one."""
        if not drafts:
            return
        latest: dict[int, OrderRecord] = {}
        for draft in drafts:
            kept = latest.get(draft.order_id)
            if kept is None or draft.date_modified >= kept.date_modified:
                latest[draft.order_id] = draft
        existing = {
            row.order_id: row.date_modified
            for row in await self._select_in(order_drafts, order_drafts.c.order_id, store, latest)
        }
        new_rows = []
        changed_rows = []
        for ident, draft in latest.items():
            values = {
                "draft": draft.model_dump(mode="json"),
                "date_modified": draft.date_modified,
                "updated_at": now,
            }
            if ident not in existing:
                new_rows.append({"store": store, "order_id": ident, **values})
            elif draft.date_modified >= existing[ident]:
                changed_rows.append({"store": store, "order_id": ident, **values})
        await self._write(order_drafts, "order_id", new_rows, changed_rows)

    async def drafts(self, store: str, order_ids: Iterable[int]) -> dict[int, OrderRecord]:
        """The stored drafts of those orders that have one, by order id."""
        rows = await self._select_in(order_drafts, order_drafts.c.order_id, store, order_ids)
        return {row.order_id: OrderRecord.model_validate(row.draft) for row in rows}
