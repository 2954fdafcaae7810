"""The Alembic migrations build exactly the schema `store/schema.py` declares, on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from b2bsync.store import Database, head_revision
from b2bsync.store.schema import metadata

TABLES = {
    "orders",
    "order_versions",
    "order_events",
    "change_feed",
    "checkpoints",
    "outbox",
    "delivery_attempts",
    "order_signals",
    "companies",
    "invoices",
    "invoice_payments",
    "order_drafts",
    "writebacks",
    "webhook_rejects",
    "webhook_health",
    "quarantine",
    "alert_state",
    "alert_events",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/nested/dir/empty.db"
    url: str = request.getfixturevalue("empty_postgres_url")
    return url


def _diff(sync_conn: Connection) -> list[Any]:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(sync_conn: Connection) -> set[str]:
    return set(inspect(sync_conn).get_table_names())


async def test_upgrade_builds_exactly_the_declared_schema(empty_url: str) -> None:
    async with Database(empty_url) as db:
        assert await db.current_revision() is None
        await db.upgrade()
        assert await db.current_revision() == head_revision() == "0008"
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) >= TABLES
            assert await conn.run_sync(_diff) == []


async def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    async with Database(empty_url) as db:
        await db.upgrade()
        await db.upgrade()
        assert await db.current_revision() == "0008"


async def test_downgrade_to_base_removes_every_table(empty_url: str) -> None:
    async with Database(empty_url) as db:
        await db.upgrade()
        await db.downgrade("base")
        assert await db.current_revision() is None
        async with db.engine.connect() as conn:
            assert not (await conn.run_sync(_tables) & TABLES)
