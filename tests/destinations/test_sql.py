"""The sql destination on SQLite and PostgreSQL: conformance plus its own guarantees."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from b2bsync.destinations import DestinationConfigError, SqlDestination
from b2bsync.domain.delivery import Delivery, Outcome
from b2bsync.domain.order_type import OrderType
from tests.destinations.conformance import (
    MAX_BATCH,
    STORE,
    DestinationConformance,
    Harness,
    make_delivery,
)


class SqlHarness(Harness):
    monotonic = True

    def __init__(self, destination: SqlDestination, *, postgres: bool) -> None:
        self.destination = destination
        self.sql = destination
        self.postgres = postgres

    async def _tables(self, connection: AsyncConnection) -> list[Table]:
        """The destination's tables that exist yet (it creates them on first delivery)."""
        names = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        return [t for t in (self.sql.orders_table, self.sql.payments_table) if t.name in names]

    async def _rows(self) -> list[Any]:
        rows: list[Any] = []
        async with self.sql.engine.connect() as connection:
            for table in await self._tables(connection):
                result = await connection.execute(select(table).order_by(table.c.order_id))
                rows.extend((table.name, *row) for row in result.all())
        return rows

    async def stored(self) -> dict[str, dict[str, Any]]:
        stored: dict[str, dict[str, Any]] = {}
        async with self.sql.engine.connect() as connection:
            for table in await self._tables(connection):
                result = await connection.execute(select(table.c.idempotency_key, table.c.record))
                stored.update({key: record for key, record in result.all()})
        return stored

    async def effect(self) -> object:
        return await self._rows()

    async def current_versions(self) -> dict[tuple[str, int], int]:
        versions: dict[tuple[str, int], int] = {}
        async with self.sql.engine.connect() as connection:
            for table in await self._tables(connection):
                result = await connection.execute(
                    select(table.c.store, table.c.order_id, table.c.version)
                )
                versions.update({(store, oid): version for store, oid, version in result.all()})
        return versions

    def poison(self) -> list[Delivery]:
        # An id no BIGINT column holds; and on PostgreSQL a NUL character, which text and
        # JSONB refuse in the database itself (the batch fails, then each item alone).
        poison = [make_delivery(2**63)]
        if self.postgres:
            poison.append(make_delivery(905, po_number="PO\x00905"))
        return poison


def _names() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return f"orders_{suffix}", f"payments_{suffix}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL as a user would configure it (no async driver named)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'erp.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def harness(sql_url: str) -> AsyncIterator[SqlHarness]:
    orders, payments = _names()
    destination = SqlDestination(
        "erp-db", url=sql_url, table=orders, payments_table=payments, max_batch=MAX_BATCH
    )
    try:
        yield SqlHarness(destination, postgres=sql_url.startswith("postgresql"))
    finally:
        await destination.aclose()


class TestSqlConformance(DestinationConformance):
    pass


async def test_columns_hold_the_order_and_the_payment(harness: SqlHarness) -> None:
    order = make_delivery(1, 2, po_number="PO-7781")
    payment = make_delivery(2, 1, order_type=OrderType.INVOICE_PAYMENT)
    assert [r.outcome for r in await harness.sql.deliver([order, payment])] == [
        Outcome.DELIVERED
    ] * 2
    async with harness.sql.engine.connect() as connection:
        orders = (await connection.execute(select(harness.sql.orders_table))).mappings().all()
        payments = (await connection.execute(select(harness.sql.payments_table))).mappings().all()
    assert len(orders) == 1
    assert len(payments) == 1
    row = orders[0]
    assert (row["store"], row["order_id"], row["version"]) == (STORE, 1, 2)
    assert row["idempotency_key"] == f"{STORE}:1:2"
    assert row["order_type"] == "online_order"
    assert (row["company_id"], row["company_name"]) == (41, "Acme Industrial Supply")
    assert (row["po_number"], row["currency"], row["status_id"]) == ("PO-7781", "USD", 11)
    assert row["total_inc_tax"] == Decimal("41.2500")
    assert row["date_modified"].replace(tzinfo=None) == order.record.date_modified.replace(
        tzinfo=None
    )
    assert row["delivered_at"] is not None
    paid = payments[0]
    assert paid["payment_id"] == 5002
    assert paid["amount_total"] == Decimal("250.0000")
    assert paid["invoices"] == [
        {"invoice_id": 702, "invoice_number": "INV-702", "amount": "150.0000"},
        {"invoice_id": 802, "invoice_number": "INV-802", "amount": "100.0000"},
    ]


async def test_an_order_found_to_be_a_payment_leaves_the_orders_table(
    harness: SqlHarness,
) -> None:
    unclassified = make_delivery(3, 1, order_type=OrderType.UNCLASSIFIED)
    await harness.sql.deliver([unclassified])
    assert await harness.current_versions() == {(STORE, 3): 1}
    payment = make_delivery(3, 2, order_type=OrderType.INVOICE_PAYMENT)
    assert [r.outcome for r in await harness.sql.deliver([payment])] == [Outcome.DELIVERED]
    async with harness.sql.engine.connect() as connection:
        in_orders = await connection.scalar(select(harness.sql.orders_table.c.order_id))
        in_payments = await connection.scalar(select(harness.sql.payments_table.c.version))
    assert in_orders is None
    assert in_payments == 2


async def test_a_constraint_of_the_users_table_makes_that_item_dead(sql_url: str) -> None:
    orders, payments = _names()
    plain = SqlDestination("plain", url=sql_url, table=orders, payments_table=payments)
    await plain.deliver([make_delivery(1)])  # creates the tables
    async with plain.engine.begin() as connection:
        # Users add their own constraints to the tables they read; b2bsync must respect them.
        await connection.execute(
            text(f"CREATE UNIQUE INDEX uq_{orders}_po ON {orders} (po_number)")
        )
    await plain.aclose()
    destination = SqlDestination(
        "users-table", url=sql_url, table=orders, payments_table=payments, max_batch=10
    )
    try:
        batch = [
            make_delivery(2, po_number="PO-A"),
            make_delivery(3, po_number="PO-1"),  # the seed order 1 has PO-1 already
            make_delivery(4, po_number="PO-B"),
        ]
        results = await destination.deliver(batch)
        assert [r.outcome for r in results] == [Outcome.DELIVERED, Outcome.DEAD, Outcome.DELIVERED]
        assert results[1].error is not None
        assert "unique" in results[1].error.lower()
        async with destination.engine.connect() as connection:
            table = destination.orders_table
            ids = (await connection.execute(select(table.c.order_id))).scalars()
            assert sorted(ids) == [1, 2, 4]
    finally:
        await destination.aclose()


async def test_a_database_that_is_down_means_retry() -> None:
    # Nothing listens on port 1: the connection is refused (OperationalError).
    destination = SqlDestination("down", url="postgresql://erp:hunter2@127.0.0.1:1/erp")
    try:
        results = await destination.deliver([make_delivery(1), make_delivery(2)])
    finally:
        await destination.aclose()
    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]
    assert all(r.error and r.error.startswith("OperationalError") for r in results)
    assert all(r.error and "hunter2" not in r.error for r in results)


def test_bad_urls_and_tables_fail_at_configuration() -> None:
    with pytest.raises(DestinationConfigError, match="url is not set"):
        SqlDestination("x")
    with pytest.raises(DestinationConfigError, match="not a database URL"):
        SqlDestination("x", url="not a url")
    with pytest.raises(DestinationConfigError, match="cannot use"):
        SqlDestination("x", url="nosuchdb+nodriver://user:hunter2@host/db")
    with pytest.raises(DestinationConfigError, match="both 'same'"):
        SqlDestination("x", url="sqlite:///x.db", table="same", payments_table="same")


def test_the_password_never_appears_in_a_configuration_error() -> None:
    with pytest.raises(DestinationConfigError) as caught:
        SqlDestination("x", url="nosuchdb+nodriver://user:hunter2@host/db")
    assert "hunter2" not in str(caught.value)


async def test_a_shared_engine_is_used_and_left_open(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}")
    try:
        destination = SqlDestination("shared", engine=engine)
        [result] = await destination.deliver([make_delivery(1)])
        await destination.aclose()
        assert result.outcome is Outcome.DELIVERED
        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM b2bsync_orders"))
        assert count == 1
    finally:
        await engine.dispose()
