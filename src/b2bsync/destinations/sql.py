"""The `sql` destination: upsert each order's newest version into tables of any database.

Orders go to one table (default `b2bsync_orders`), Invoice Portal payments to another (default
`b2bsync_payments`): an invoice payment is money received against invoices, never a sale. Rows are
keyed by `(store, order_id)` and carry the version; an incoming version replaces the row only if
it is newer, so re-deliveries and late, older versions change nothing. When an order's kind
changes (an unclassified order later found to be an invoice payment), the newer version also
removes the older row from the other table.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Delete,
    Insert,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    and_,
    bindparam,
    delete,
    exc,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from b2bsync.destinations.base import BaseDestination, Prepared, error_text
from b2bsync.destinations.errors import DestinationConfigError
from b2bsync.domain.delivery import Delivery, DeliveryKind, DeliveryResult, Outcome
from b2bsync.domain.records import InvoiceRole
from b2bsync.json_columns import json_text

__all__ = ["DEFAULT_ORDERS_TABLE", "DEFAULT_PAYMENTS_TABLE", "SqlDestination", "async_url"]

DEFAULT_ORDERS_TABLE = "b2bsync_orders"
DEFAULT_PAYMENTS_TABLE = "b2bsync_payments"

_JSON = JSON().with_variant(JSONB(), "postgresql")
_MONEY = Numeric(20, 4, asdecimal=True)
_INT64_MAX = 2**63 - 1


def async_url(url: str) -> URL:
    """`url` with an asyncio driver: plain `sqlite://` gets aiosqlite and `postgresql://`
    psycopg 3 (both installed with b2bsync); a URL naming its driver is used as given."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise DestinationConfigError(f"not a database URL: {url!r}") from error
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def _tables(orders_name: str, payments_name: str) -> tuple[MetaData, Table, Table]:
    metadata = MetaData()

    def common() -> list[Column[Any]]:
        return [
            Column("store", String(64), primary_key=True),
            Column("order_id", BigInteger, primary_key=True, autoincrement=False),
            Column("version", BigInteger, nullable=False),
            Column("idempotency_key", String(200), nullable=False),
            Column("status_id", Integer, nullable=False),
            Column("company_id", BigInteger, nullable=True),
            Column("company_name", String(255), nullable=False),
            Column("currency", String(8), nullable=False),
        ]

    def tail() -> list[Column[Any]]:
        return [
            Column("date_created", DateTime(timezone=True), nullable=False),
            Column("date_modified", DateTime(timezone=True), nullable=False),
            Column("record", _JSON, nullable=False),
            Column("delivered_at", DateTime(timezone=True), nullable=False),
        ]

    orders = Table(
        orders_name,
        metadata,
        *common(),
        Column("order_type", String(32), nullable=False),
        Column("po_number", String(255), nullable=False),
        Column("total_inc_tax", _MONEY, nullable=False),
        *tail(),
    )
    payments = Table(
        payments_name,
        metadata,
        *common(),
        Column("payment_id", BigInteger, nullable=True),
        Column("invoices", _JSON, nullable=False),
        Column("amount_total", _MONEY, nullable=False),
        *tail(),
    )
    return metadata, orders, payments


def _utc(value: datetime) -> datetime:
    # SQLite keeps naive text; storing UTC everywhere keeps rows comparable across backends.
    return value.astimezone(UTC)


def _check_int64(name: str, value: int) -> None:
    if not 0 <= value <= _INT64_MAX:
        raise ValueError(f"{name} {value} does not fit a 64-bit integer column")


_UPSERT_DIALECTS = frozenset({"sqlite", "postgresql"})
"""Backends with `INSERT ... ON CONFLICT`: a chunk is one statement per table there; other
databases get an UPDATE, then an INSERT when there was no row, per delivery."""


@functools.cache
def _upsert_newer(dialect: str, target: Table) -> Insert:
    """Insert the row, or replace the existing one when the incoming version is newer."""
    statement = postgresql.insert(target) if dialect == "postgresql" else sqlite.insert(target)
    return statement.on_conflict_do_update(
        index_elements=["store", "order_id"],
        set_={
            column.name: statement.excluded[column.name]
            for column in target.columns
            if column.name not in ("store", "order_id")
        },
        where=target.c.version < statement.excluded.version,
    )


@functools.cache
def _delete_older(table: Table) -> Delete:
    """Remove the order's row of a version older than the one just written (executemany)."""
    return delete(table).where(
        table.c.store == bindparam("k_store"),
        table.c.order_id == bindparam("k_order_id"),
        table.c.version < bindparam("k_version"),
    )


@dataclass(frozen=True, slots=True)
class _Row:
    kind: DeliveryKind
    values: dict[str, Any]


class SqlDestination(BaseDestination[_Row]):
    """Upserts into `table` / `payments_table` at `url` (created when missing), or through
    `engine` when the caller shares one (it then stays open on `aclose`).

    A batch is one transaction; if it fails, each delivery is retried in its own. Lock waits,
    timeouts and lost connections are RETRY; constraint and data errors are DEAD.
    """

    def __init__(
        self,
        name: str,
        *,
        url: str | None = None,
        table: str = DEFAULT_ORDERS_TABLE,
        payments_table: str = DEFAULT_PAYMENTS_TABLE,
        create_tables: bool = True,
        max_batch: int = 100,
        engine: AsyncEngine | None = None,
    ) -> None:
        super().__init__(name, max_batch=max_batch)
        if table == payments_table:
            raise DestinationConfigError(
                f"sql destination {name!r}: table and payments_table are both {table!r}"
            )
        self._metadata, self.orders_table, self.payments_table = _tables(table, payments_table)
        self._create_tables = create_tables
        self._owns_engine = engine is None
        if engine is None:
            if not url:
                raise DestinationConfigError(f"sql destination {name!r}: url is not set")
            target = async_url(url)
            try:
                engine = create_async_engine(
                    target, pool_pre_ping=True, hide_parameters=True, json_serializer=json_text
                )
            except (exc.ArgumentError, exc.InvalidRequestError, exc.NoSuchModuleError) as error:
                raise DestinationConfigError(
                    f"sql destination {name!r}: cannot use "
                    f"{target.render_as_string(hide_password=True)!r} ({error})"
                ) from error
        self.engine = engine
        self._ready = False
        self._ready_lock = asyncio.Lock()

    def prepare(self, delivery: Delivery) -> _Row:
        """The row's column values."""
        record = delivery.record
        _check_int64("order_id", delivery.order_id)
        _check_int64("version", delivery.version)
        b2b = record.b2b
        values: dict[str, Any] = {
            "store": delivery.store,
            "order_id": delivery.order_id,
            "version": delivery.version,
            "idempotency_key": delivery.idempotency_key,
            "status_id": record.status_id,
            "company_id": b2b.company_id if b2b else None,
            "company_name": b2b.company_name if b2b else "",
            "currency": record.currency,
            "date_created": _utc(record.date_created),
            "date_modified": _utc(record.date_modified),
            "record": record.model_dump(mode="json"),
        }
        if delivery.kind is DeliveryKind.ORDER:
            values |= {
                "order_type": record.order_type.value,
                "po_number": b2b.po_number if b2b else "",
                "total_inc_tax": record.total_inc_tax,
            }
        else:
            paid = [link for link in record.invoices if link.role is InvoiceRole.PAID_BY_ORDER]
            amounts = [link.amount for link in paid if link.amount is not None]
            values |= {
                "payment_id": b2b.payment_id if b2b else None,
                "invoices": [
                    {
                        "invoice_id": link.invoice_id,
                        "invoice_number": link.invoice_number,
                        "amount": None if link.amount is None else str(link.amount),
                    }
                    for link in paid
                ],
                # What the payment applied to invoices; the order total when that is unknown.
                "amount_total": sum(amounts, start=Decimal("0"))
                if amounts
                else record.total_inc_tax,
            }
        return _Row(delivery.kind, values)

    async def send(self, items: Sequence[Prepared[_Row]]) -> list[DeliveryResult]:
        """Upsert the chunk in one transaction."""
        await self._ensure_tables()
        for attempt in (1, 2):
            try:
                async with self.engine.begin() as connection:
                    if connection.dialect.name in _UPSERT_DIALECTS:
                        await self._upsert_batch(connection, [item.payload for item in items])
                    else:
                        for item in items:
                            await self._upsert(connection, item.payload)
                break
            except exc.IntegrityError:
                # Another writer inserted the same new order between our update and insert; a
                # second pass finds its row and updates it. Twice means a real constraint error.
                if attempt == 2:
                    raise
        return [
            DeliveryResult(idempotency_key=item.delivery.idempotency_key, outcome=Outcome.DELIVERED)
            for item in items
        ]

    def classify_error(self, error: Exception) -> Outcome:
        """Constraint, data and value errors are DEAD; locks, timeouts, connections RETRY."""
        if isinstance(error, exc.IntegrityError | exc.DataError | exc.ProgrammingError):
            return Outcome.DEAD
        if isinstance(error, exc.StatementError) and not isinstance(error, exc.DBAPIError):
            return Outcome.DEAD
        if isinstance(error, ValueError | TypeError | OverflowError):
            return Outcome.DEAD
        return super().classify_error(error)

    def fails_whole_batch(self, error: Exception) -> bool:
        """Connection, lock and pool errors are the database's, not one row's."""
        return isinstance(error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError)

    def describe_error(self, error: Exception) -> str:
        """The driver's own message, without SQLAlchemy's statement and parameters."""
        if isinstance(error, exc.DBAPIError):
            return error_text(error.orig) if error.orig is not None else type(error).__name__
        return super().describe_error(error)

    async def aclose(self) -> None:
        """Dispose of the connection pool if this destination created it."""
        if self._owns_engine:
            await self.engine.dispose()

    async def _ensure_tables(self) -> None:
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready and self._create_tables:
                async with self.engine.begin() as connection:
                    await connection.run_sync(self._metadata.create_all)
            self._ready = True

    def _targets(self, kind: DeliveryKind) -> tuple[Table, Table]:
        """The table a delivery of `kind` goes to, and the other one."""
        if kind is DeliveryKind.ORDER:
            return self.orders_table, self.payments_table
        return self.payments_table, self.orders_table

    async def _upsert_batch(self, connection: AsyncConnection, rows: Sequence[_Row]) -> None:
        """Upsert a chunk with one `INSERT ... ON CONFLICT DO UPDATE ... WHERE newer` per table
        and one executemany DELETE of older rows from the other table (SQLite, PostgreSQL)."""
        newest: dict[tuple[str, int], _Row] = {}
        for row in rows:
            key = (row.values["store"], row.values["order_id"])
            kept = newest.get(key)
            if kept is None or row.values["version"] > kept.values["version"]:
                newest[key] = row
        delivered_at = datetime.now(UTC)
        for kind in DeliveryKind:
            batch = [
                {**row.values, "delivered_at": delivered_at}
                for row in newest.values()
                if row.kind is kind
            ]
            if not batch:
                continue
            target, other = self._targets(kind)
            await connection.execute(_upsert_newer(connection.dialect.name, target), batch)
            await connection.execute(
                _delete_older(other),
                [
                    {
                        "k_store": values["store"],
                        "k_order_id": values["order_id"],
                        "k_version": values["version"],
                    }
                    for values in batch
                ],
            )

    async def _upsert(self, connection: AsyncConnection, row: _Row) -> None:
        target, other = self._targets(row.kind)
        values = row.values
        key = and_(target.c.store == values["store"], target.c.order_id == values["order_id"])
        stamped = {**values, "delivered_at": datetime.now(UTC)}
        updated = await connection.execute(
            update(target).where(key, target.c.version < values["version"]).values(stamped)
        )
        if updated.rowcount == 0:
            current = await connection.scalar(select(target.c.version).where(key))
            if current is not None:
                return  # the same or a newer version is already there
            await connection.execute(insert(target).values(stamped))
        await connection.execute(
            delete(other).where(
                other.c.store == values["store"],
                other.c.order_id == values["order_id"],
                other.c.version < values["version"],
            )
        )
