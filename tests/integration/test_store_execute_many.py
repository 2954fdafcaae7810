"""`execute_many` (the driver's executemany, parameters bound by each column's own processor)
stores exactly what SQLAlchemy's own executemany stores, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, cast, insert, select

from b2bsync.store import Database
from b2bsync.store._sql import execute_many, update_many
from b2bsync.store.types import JSONType, UTCDateTime
from tests.integration.sync_support import any_db

__all__ = ["any_db"]

_metadata = MetaData()


def _table(name: str) -> Table:
    return Table(
        name,
        _metadata,
        Column("id", Integer, primary_key=True),
        Column("label", String(50)),
        Column("at", UTCDateTime),
        Column("detail", JSONType),
        # A name a named parameter style has to escape.
        Column("percent%", String(10)),
    )


THEIRS = _table("execute_many_theirs")
OURS = _table("execute_many_ours")
OURS_INSERT = insert(OURS)

ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "label": "plain",
        "at": datetime(2026, 3, 1, 12, tzinfo=UTC),
        "detail": {"b": [1, 2], "a": "é"},
        "percent%": "50%",
    },
    {
        "id": 2,
        "label": None,
        "at": datetime(2026, 3, 1, 14, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
        "detail": None,
        "percent%": None,
    },
]


@pytest.fixture
async def db(any_db: Database) -> AsyncIterator[Database]:
    """`any_db` with both tables, dropped afterwards (PostgreSQL's database lasts the session)."""
    async with any_db.transaction() as tx:
        await tx.connection.run_sync(lambda sync: _metadata.create_all(sync))
    try:
        yield any_db
    finally:
        async with any_db.transaction() as tx:
            await tx.connection.run_sync(lambda sync: _metadata.drop_all(sync))


async def _stored(db: Database, table: Table) -> list[tuple[Any, ...]]:
    async with db.transaction(readonly=True) as tx:
        result = await tx.connection.execute(
            select(*(cast(column, Text) for column in table.c)).order_by(table.c.id)
        )
        return [tuple(row) for row in result]


async def test_rows_are_stored_as_sqlalchemy_stores_them(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.connection.execute(insert(THEIRS), ROWS)
        await execute_many(tx.connection, OURS_INSERT, ROWS)
    assert await _stored(db, OURS) == await _stored(db, THEIRS)
    async with db.transaction(readonly=True) as tx:
        read = [dict(row._mapping) for row in await tx.connection.execute(select(OURS))]
    assert read == [{**row, "at": row["at"].astimezone(UTC)} for row in ROWS]


async def test_updates_of_different_columns_go_by_shape(db: Database) -> None:
    async with db.transaction() as tx:
        await execute_many(tx.connection, OURS_INSERT, ROWS)
        await update_many(
            tx.connection,
            OURS,
            ("id",),
            [
                {"id": 1, "label": "renamed"},
                {"id": 2, "percent%": "7%", "detail": {"k": 1}},
            ],
        )
    async with db.transaction(readonly=True) as tx:
        read = {
            row.id: (row.label, row.detail, row._mapping["percent%"])
            for row in await tx.connection.execute(select(OURS))
        }
    assert read == {1: ("renamed", {"b": [1, 2], "a": "é"}, "50%"), 2: (None, {"k": 1}, "7%")}
