"""Fixtures and builders shared by the `test_store_*` tests: a migrated database per test on
SQLite and on PostgreSQL, and small OrderRecord / Delivery factories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from b2bsync.domain.classification import Classification, SignalSource
from b2bsync.domain.delivery import Delivery, delivery_kind, idempotency_key
from b2bsync.domain.fingerprint import content_hash
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import B2BInfo, InvoiceLink, InvoiceRole, OrderRecord
from b2bsync.store import Database
from b2bsync.store.schema import metadata

STORE = "store1"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ONLINE = Classification(OrderType.ONLINE_ORDER, SignalSource.METAFIELD, "orderType metafield")
PAYMENT = Classification(OrderType.INVOICE_PAYMENT, SignalSource.B2B_ORDER, "isInvoiceOrder=1")

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

_migrated_postgres: set[str] = set()


async def _postgres(url: str) -> Database:
    database = Database(url)
    if url not in _migrated_postgres:
        await database.upgrade()
        _migrated_postgres.add(url)
    names = ", ".join(table.name for table in metadata.sorted_tables)
    async with database.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return database


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty, migrated database: a new SQLite file, or the session's PostgreSQL database
    with every b2bsync table emptied."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/store.db")
        await database.upgrade()
    else:
        database = await _postgres(request.getfixturevalue("postgres_url"))
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def pg_db(postgres_url: str) -> AsyncIterator[Database]:
    """The PostgreSQL flavour of `db` alone, for behaviour only PostgreSQL has (row locks)."""
    database = await _postgres(postgres_url)
    try:
        yield database
    finally:
        await database.close()


def make_record(order_id: int = 101, **changes: object) -> OrderRecord:
    """An online order of company 7 with PO `PO-<id>` and one invoice, modified at T0."""
    base = OrderRecord(
        store=STORE,
        order_id=order_id,
        order_type=OrderType.ONLINE_ORDER,
        status_id=11,
        status="Awaiting Fulfillment",
        date_created=T0,
        date_modified=T0,
        currency="USD",
        total_inc_tax=Decimal("10.0000"),
        b2b=B2BInfo(company_id=7, company_name="Acme", po_number=f"PO-{order_id}"),
        invoices=(InvoiceLink(invoice_id=500 + order_id, role=InvoiceRole.CREATED_FROM_ORDER),),
    )
    return base.model_copy(update=changes)


def make_delivery(record: OrderRecord, version: int) -> Delivery:
    """The delivery of `record` as ledger version `version`."""
    return Delivery(
        idempotency_key=idempotency_key(record.store, record.order_id, version),
        store=record.store,
        order_id=record.order_id,
        version=version,
        kind=delivery_kind(record.order_type),
        record=record,
    )


async def write_version(
    db: Database,
    record: OrderRecord,
    now: datetime,
    destinations: tuple[str, ...] = ("sql",),
    classification: Classification = ONLINE,
) -> int | None:
    """Append `record` and enqueue it for `destinations` in one transaction, as the engine does."""
    async with db.transaction() as tx:
        version = await tx.ledger.append_version(
            record.store, record, content_hash(record), classification, now
        )
        if version is not None:
            await tx.outbox.enqueue(
                [(name, make_delivery(record, version)) for name in destinations], now
            )
        return version


def later(minutes: float) -> datetime:
    """T0 plus `minutes`."""
    return T0 + timedelta(minutes=minutes)
