"""PostgreSQL plans a primary-key lookup on `orders` by the primary key, also after psycopg
starts preparing the statement (its fifth run) on a table that was empty at the time."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from b2bsync.store import Database
from tests.integration.store_support import STORE, pg_db

__all__ = ["pg_db"]

pytestmark = pytest.mark.postgres

_LOOKUP = "SELECT * FROM orders WHERE store = $1 AND order_id = $2"


async def test_connections_plan_each_statement_for_its_values(pg_db: Database) -> None:
    async with pg_db.engine.connect() as conn:
        assert await conn.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"


async def test_a_prepared_primary_key_lookup_uses_the_primary_key_after_a_cold_start(
    pg_db: Database,
) -> None:
    async with pg_db.engine.connect() as conn:
        await conn.exec_driver_sql(f"PREPARE lookup (text, bigint) AS {_LOOKUP}")
        # Cold: six runs against an empty table, enough for a generic plan to be cached.
        for order_id in range(6):
            await conn.exec_driver_sql(f"EXECUTE lookup ('{STORE}', {order_id})")
        await conn.exec_driver_sql(
            "INSERT INTO orders (store, order_id, sync_state, status_id, status, po_number,"
            " invoice_ids, is_archived, date_created, date_modified, version, signals,"
            " signals_seen_at, check_attempts, first_seen_via, created_at, updated_at)"
            " SELECT 'store1', n, 'ready', 11, 'x', '', '[]', false, now(), now(), 1,"
            " '{}', '{}', 0, 'poll', now(), now() FROM generate_series(1, 20000) AS n"
        )
        for order_id in range(6):
            await conn.exec_driver_sql(f"EXECUTE lookup ('{STORE}', {order_id})")
        plan = "\n".join(
            row[0] for row in await conn.exec_driver_sql(f"EXPLAIN EXECUTE lookup ('{STORE}', 7)")
        )
        await conn.rollback()
    assert "pk_orders" in plan, plan
    assert "$2" not in plan, plan
