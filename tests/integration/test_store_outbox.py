"""The outbox on SQLite and PostgreSQL: idempotent enqueue, leases that never overlap and expire,
retries, dead letters, replay and skip, with the order's sync state following along."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from b2bsync.domain.delivery import Outcome
from b2bsync.domain.sync_state import SyncState
from b2bsync.store import Database, OrderEvent, OutboxState
from tests.integration.store_support import (
    STORE,
    T0,
    db,
    later,
    make_delivery,
    make_record,
    pg_db,
    write_version,
)

__all__ = ["db", "pg_db"]

LEASE = timedelta(seconds=30)


async def order_state(database: Database, order_id: int) -> SyncState:
    async with database.transaction(readonly=True) as tx:
        return (await tx.ledger.current(STORE, [order_id]))[order_id].sync_state


async def test_enqueue_is_idempotent_per_destination_and_key(db: Database) -> None:
    record = make_record(101)
    delivery = make_delivery(record, 1)
    async with db.transaction() as tx:
        assert await tx.outbox.enqueue([("sql", delivery), ("http", delivery)], T0) == 2
    async with db.transaction() as tx:
        assert await tx.outbox.enqueue([("sql", delivery), ("jsonl", delivery)], later(1)) == 1
        assert await tx.outbox.enqueue([], later(1)) == 0
        depth = await tx.outbox.depth()
        claimed = await tx.outbox.claim_due("sql", 10, later(2), LEASE)
    assert depth == {
        ("http", OutboxState.PENDING): 1,
        ("jsonl", OutboxState.PENDING): 1,
        ("sql", OutboxState.PENDING): 1,
    }
    assert len(claimed) == 1
    assert claimed[0].delivery() == delivery
    assert claimed[0].idempotency_key == f"{STORE}:101:1"
    assert claimed[0].kind == "order"
    assert claimed[0].created_at == T0


async def test_claim_due_takes_due_rows_of_one_destination_oldest_first(db: Database) -> None:
    for order_id in (1, 2, 3):
        await write_version(
            db, make_record(order_id), later(order_id), destinations=("sql", "http")
        )
    async with db.transaction() as tx:
        assert await tx.outbox.claim_due("sql", 10, later(0), LEASE) == []
        first = await tx.outbox.claim_due("sql", 2, later(5), LEASE)
        second = await tx.outbox.claim_due("sql", 2, later(5), LEASE)
    assert [row.order_id for row in first] == [1, 2]
    assert [row.order_id for row in second] == [3]
    assert {row.destination for row in first + second} == {"sql"}
    assert all(row.claimed_until == later(5) + LEASE for row in first + second)


async def test_an_expired_lease_makes_the_row_claimable_again(db: Database) -> None:
    await write_version(db, make_record(101), T0)
    async with db.transaction() as tx:
        [claimed] = await tx.outbox.claim_due("sql", 10, T0, LEASE)
    # The worker holding the lease dies without a word: nobody gets the row until it expires.
    async with db.transaction() as tx:
        assert await tx.outbox.claim_due("sql", 10, T0 + LEASE - timedelta(seconds=1), LEASE) == []
    async with db.transaction() as tx:
        again = await tx.outbox.claim_due("sql", 10, T0 + LEASE, LEASE)
    assert [row.id for row in again] == [claimed.id]
    assert again[0].claimed_until == T0 + 2 * LEASE


async def test_concurrent_claimers_never_get_the_same_row(db: Database) -> None:
    for order_id in range(1, 41):
        await write_version(db, make_record(order_id), T0)
    now = later(1)

    async def worker() -> list[int]:
        got: list[int] = []
        while True:
            async with db.transaction() as tx:
                rows = await tx.outbox.claim_due("sql", 3, now, LEASE)
            if not rows:
                return got
            got.extend(row.id for row in rows)
            await asyncio.sleep(0)

    results = await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(4))), 30)
    claimed = [row_id for result in results for row_id in result]
    assert len(claimed) == 40
    assert len(set(claimed)) == 40
    assert sum(1 for result in results if result) >= 2


@pytest.mark.postgres
async def test_postgres_claimers_skip_rows_locked_by_an_open_transaction(pg_db: Database) -> None:
    # SQLite has no row locks: its writers queue (BEGIN IMMEDIATE), tested above.
    db = pg_db
    for order_id in range(1, 11):
        await write_version(db, make_record(order_id), T0)
    async with db.transaction() as first:
        held = await first.outbox.claim_due("sql", 5, later(1), LEASE)

        async def other() -> list[int]:
            async with db.transaction() as tx:
                return [row.id for row in await tx.outbox.claim_due("sql", 10, later(1), LEASE)]

        # The first transaction is still open: its rows are locked, not yet leased.
        taken = await asyncio.wait_for(other(), 10)
    assert len(held) == 5
    assert len(taken) == 5
    assert not {row.id for row in held} & set(taken)


async def test_retry_then_dead_then_replay_then_delivered(db: Database) -> None:
    await write_version(db, make_record(101), T0)
    async with db.transaction() as tx:
        [row] = await tx.outbox.claim_due("sql", 1, T0, LEASE)
        retried = await tx.outbox.mark_retry(row.id, "HTTP 503", later(5), later(0), duration_ms=12)
    assert (retried.state, retried.attempts, retried.next_attempt_at) == (
        OutboxState.PENDING,
        1,
        later(5),
    )
    assert retried.claimed_until is None
    assert retried.last_error == "HTTP 503"
    assert await order_state(db, 101) is SyncState.FAILED
    async with db.transaction() as tx:
        assert await tx.outbox.claim_due("sql", 1, later(4), LEASE) == []
        [row] = await tx.outbox.claim_due("sql", 1, later(5), LEASE)
        dead = await tx.outbox.mark_dead(row.id, "HTTP 422", later(5))
        letters = await tx.outbox.dead_letters(store=STORE)
        assert await tx.outbox.dead_letters(destination="http") == []
        assert await tx.outbox.claim_due("sql", 1, later(60), LEASE) == []
    assert (dead.state, dead.attempts, dead.last_error) == (OutboxState.DEAD, 2, "HTTP 422")
    assert [letter.id for letter in letters] == [row.id]
    assert await order_state(db, 101) is SyncState.DEAD

    async with db.transaction() as tx:
        assert await tx.outbox.replay(STORE, None, later(10)) == 1
        [again] = await tx.outbox.claim_due("sql", 1, later(10), LEASE)
    assert (again.attempts, again.state, again.next_attempt_at) == (
        0,
        OutboxState.PENDING,
        later(10),
    )
    assert await order_state(db, 101) is SyncState.READY
    async with db.transaction() as tx:
        delivered = await tx.outbox.mark_delivered(again.id, later(11), duration_ms=3)
        attempts = await tx.outbox.attempts(again.id)
        detail = await tx.ledger.get_order(STORE, 101)
    assert (delivered.state, delivered.delivered_at) == (OutboxState.DELIVERED, later(11))
    assert [(a.attempt, a.outcome, a.error, a.duration_ms, a.at) for a in attempts] == [
        (1, Outcome.RETRY, "HTTP 503", 12, later(0)),
        (2, Outcome.DEAD, "HTTP 422", None, later(5)),
        (3, Outcome.DELIVERED, None, 3, later(11)),
    ]
    assert await order_state(db, 101) is SyncState.DELIVERED
    assert detail is not None
    assert [e.event for e in detail.events][-4:] == [
        OrderEvent.DELIVERY_FAILED,
        OrderEvent.DEAD,
        OrderEvent.REPLAYED,
        OrderEvent.DELIVERED,
    ]
    assert detail.events[-4].detail == {
        "outbox_id": row.id,
        "version": 1,
        "error": "HTTP 503",
        "next_attempt_at": later(5).isoformat(),
    }


async def test_a_later_version_waits_for_the_earlier_one_of_the_same_destination(
    db: Database,
) -> None:
    await write_version(db, make_record(101), T0, destinations=("sql", "http"))
    async with db.transaction() as tx:
        [v1] = await tx.outbox.claim_due("sql", 10, T0, LEASE)
        await tx.outbox.mark_retry(v1.id, "timeout", later(30), T0)
    await write_version(db, make_record(101, status_id=2, date_modified=later(1)), later(1))
    async with db.transaction() as tx:
        assert await tx.outbox.claim_due("sql", 10, later(2), LEASE) == []
        http = await tx.outbox.claim_due("http", 10, later(2), LEASE)
        assert [row.version for row in http] == [1]
        [first] = await tx.outbox.claim_due("sql", 10, later(30), LEASE)
        assert first.version == 1
        await tx.outbox.mark_delivered(first.id, later(30))
        [second] = await tx.outbox.claim_due("sql", 10, later(30), LEASE)
    assert second.version == 2


async def test_batched_claims_deliver_each_orders_versions_in_order(db: Database) -> None:
    for step in range(3):
        for order_id in range(1, 7):
            record = make_record(order_id, status_id=step + 1, date_modified=later(step))
            await write_version(db, record, later(step))
    delivered: dict[int, list[int]] = {}
    async with db.transaction() as tx:
        while batch := await tx.outbox.claim_due("sql", 4, later(10), LEASE):
            # A claimed, undelivered row is still pending: its later versions wait.
            assert len({row.order_id for row in batch}) == len(batch)
            for row in batch:
                delivered.setdefault(row.order_id, []).append(row.version)
                await tx.outbox.mark_delivered(row.id, later(10))
    assert delivered == {order_id: [1, 2, 3] for order_id in range(1, 7)}


async def test_a_dead_earlier_version_does_not_hold_back_the_next(db: Database) -> None:
    await write_version(db, make_record(101), T0)
    await write_version(db, make_record(101, status_id=2, date_modified=later(1)), later(1))
    async with db.transaction() as tx:
        [v1] = await tx.outbox.claim_due("sql", 10, later(2), LEASE)
        await tx.outbox.mark_dead(v1.id, "HTTP 422", later(2))
        [v2] = await tx.outbox.claim_due("sql", 10, later(2), LEASE)
    assert (v1.version, v2.version) == (1, 2)


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


async def _explain(conn: AsyncConnection, statement: str, parameters: Any) -> dict[str, Any]:
    result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
    [[plan]] = result.all()
    found: dict[str, Any] = plan[0]["Plan"]
    return found


@pytest.mark.postgres
async def test_the_postgres_claim_walks_indexes_with_or_without_table_statistics(
    empty_postgres_url: str,
) -> None:
    # Without statistics (autovacuum off, or a bulk-loaded outbox before its first ANALYZE) the
    # former NOT EXISTS anti-join ran over every pending row for every pending row and sorted
    # them all: quadratic. The plan must stay index-driven whatever the planner believes.
    async with Database(empty_postgres_url) as database:
        await database.upgrade()
        deliveries = [
            make_delivery(make_record(order_id), version)
            for order_id in range(1, 201)
            for version in (1, 2)
        ]
        async with database.transaction() as tx:
            await tx.outbox.enqueue([("sql", delivery) for delivery in deliveries], T0)
        statements: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if "SKIP LOCKED" in statement:
                statements.append((statement, parameters))

        event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
        async with database.transaction() as tx:
            claimed = await tx.outbox.claim_due("sql", 50, later(1), LEASE)
        event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
        [(statement, parameters)] = statements
        async with database.engine.connect() as conn:
            analysed = await conn.scalar(
                text("SELECT count(*) FROM pg_stats WHERE tablename = 'outbox'")
            )
            unanalysed_plan = await _explain(conn, statement, parameters)
            await conn.execute(text("ANALYZE outbox"))
            analysed_plan = await _explain(conn, statement, parameters)
    assert analysed == 0
    assert [row.version for row in claimed] == [1] * 50
    for plan in (unanalysed_plan, analysed_plan):
        nodes = list(_plan_nodes(plan))
        # The candidate scan; the UPDATE around it then touches the `limit` rows it picked.
        [picked] = [node for node in nodes if node.get("Subplan Name") == "CTE picked"]
        outbox_scans = [
            node
            for node in _plan_nodes(picked)
            if node.get("Relation Name") == "outbox" and node["Node Type"].endswith("Scan")
        ]
        assert {node["Node Type"] for node in outbox_scans} == {"Index Scan"}
        assert {node["Index Name"] for node in outbox_scans} == {
            "ix_outbox_destination_state_next_attempt_at_id",
            "ix_outbox_store_order_id_destination_version",
        }
        assert not [node for node in nodes if node["Node Type"] == "Sort"]
        assert not [node for node in nodes if node.get("Join Type") == "Anti"]
    # The UPDATE finds the picked rows by primary key, not by walking every due row again.
    [leased] = [
        node
        for node in _plan_nodes(unanalysed_plan)
        if node.get("Alias") == "outbox" and node["Node Type"].endswith("Scan")
    ]
    assert (leased["Node Type"], leased["Index Name"]) == ("Index Scan", "pk_outbox")


async def test_replay_of_chosen_orders_resends_delivered_rows(db: Database) -> None:
    for order_id in (1, 2):
        await write_version(db, make_record(order_id), T0, destinations=("sql", "http"))
    async with db.transaction() as tx:
        for row in await tx.outbox.claim_due("sql", 10, T0, LEASE):
            await tx.outbox.mark_delivered(row.id, later(1))
        # Only dead letters by default: there are none.
        assert await tx.outbox.replay(STORE, [1], later(2)) == 0
        assert await tx.outbox.replay(STORE, [1], later(2), dead_only=False, destination="sql") == 1
        again = await tx.outbox.claim_due("sql", 10, later(2), LEASE)
        assert await tx.outbox.replay("other", None, later(2), dead_only=False) == 0
    assert [(row.order_id, row.destination, row.delivered_at) for row in again] == [
        (1, "sql", None)
    ]
    assert await order_state(db, 1) is SyncState.READY
    assert await order_state(db, 2) is SyncState.READY


async def test_skip_gives_up_on_rows_and_the_order_becomes_skipped(db: Database) -> None:
    await write_version(db, make_record(101), T0, destinations=("sql", "http"))
    async with db.transaction() as tx:
        rows = await tx.outbox.claim_due("sql", 10, T0, LEASE)
        rows += await tx.outbox.claim_due("http", 10, T0, LEASE)
        await tx.outbox.mark_dead(rows[0].id, "bad", T0)
        assert await tx.outbox.skip([rows[0].id], later(1)) == 1
    assert await order_state(db, 101) is SyncState.READY
    async with db.transaction() as tx:
        assert await tx.outbox.skip([rows[1].id, rows[0].id], later(2)) == 1
        assert await tx.outbox.skip([], later(2)) == 0
        depth = await tx.outbox.depth()
        assert await tx.outbox.claim_due("http", 10, later(60), LEASE) == []
    assert depth == {("http", OutboxState.SKIPPED): 1, ("sql", OutboxState.SKIPPED): 1}
    assert await order_state(db, 101) is SyncState.SKIPPED


async def test_marking_an_unknown_row_fails(db: Database) -> None:
    async with db.transaction() as tx:
        with pytest.raises(Exception, match="does not exist"):
            await tx.outbox.mark_delivered(12345, T0)


async def test_a_late_report_from_a_worker_whose_lease_expired_changes_nothing(
    db: Database,
) -> None:
    await write_version(db, make_record(101), T0)
    async with db.transaction() as tx:
        [stale] = await tx.outbox.claim_due("sql", 1, T0, LEASE)
        [fresh] = await tx.outbox.claim_due("sql", 1, T0 + LEASE, LEASE)
        assert fresh.id == stale.id
        await tx.outbox.mark_delivered(fresh.id, later(1))
        late = await tx.outbox.mark_retry(stale.id, "timeout", later(5), later(2))
        attempts = await tx.outbox.attempts(stale.id)
    assert (late.state, late.attempts, late.last_error) == (OutboxState.DELIVERED, 0, None)
    assert [a.outcome for a in attempts] == [Outcome.DELIVERED]
    assert await order_state(db, 101) is SyncState.DELIVERED
