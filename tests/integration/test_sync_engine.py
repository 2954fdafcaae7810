"""End to end over loopback: the sandbox (with flaky faults) → `run_once` → ledger → destination."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import select

from b2bsync.destinations import ConfiguredDestination, Route, SqlDestination
from b2bsync.domain.delivery import DeliveryKind
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.records import InvoiceRole
from b2bsync.domain.retry_schedule import RetrySchedule
from b2bsync.domain.sync_state import SyncState
from b2bsync.sandbox.config import DelayRange, FaultProfile
from b2bsync.store import Database, OutboxState
from b2bsync.sync import (
    SyncSettings,
    deliver_due,
    process_changes,
    replay,
    run_forever,
    run_once,
)
from b2bsync.sync.streams import run_streams
from tests.conftest import quiet_config
from tests.integration.sync_support import (
    Recorder,
    any_db,
    expected_type,
    ledger,
    put_order,
    sqlite_db,
    sync_context,
    truth,
)
from tests.sandbox_server import RunningSandbox, run_sandbox

__all__ = ["any_db", "sqlite_db"]

INCOMPLETE = 0


def _wait_simulation(sandbox: RunningSandbox, spec: dict[str, Any]) -> dict[str, Any]:
    with httpx2.Client(base_url=f"{sandbox.base_url}/__sandbox", headers=sandbox.headers()) as c:
        c.post("/simulate", json=spec).raise_for_status()
        deadline = time.monotonic() + 15
        while True:
            progress: dict[str, Any] = c.get("/simulate").json()
            if progress["state"] != "running":
                return progress
            assert time.monotonic() < deadline, progress
            time.sleep(0.05)


async def test_a_cold_run_syncs_every_order_once_and_a_second_run_nothing(
    any_db: Database, tmp_path: Path
) -> None:
    recorder = Recorder()
    erp_sql = SqlDestination("erp_sql", url=f"sqlite:///{tmp_path}/erp.db")
    destinations = (recorder.configured(), ConfiguredDestination("erp_sql", Route(), erp_sql))
    with run_sandbox(quiet_config(orders=150, faults=FaultProfile.FLAKY)) as sandbox:
        async with sync_context(sandbox, any_db, destinations=destinations) as ctx:
            first = await run_once(ctx)
            expected = truth(sandbox)
            entries = await ledger(any_db, ctx.store)

            assert set(entries) == set(expected)
            assert first.poll.orders_read == len(expected)
            assert first.delivery.dead == 0
            for order_id, row in expected.items():
                entry = entries[order_id]
                assert entry.order_type is expected_type(row["kind"]), (order_id, row)
                assert entry.is_archived == row["is_deleted"], order_id
                assert entry.version == 1
                assert entry.record is not None
                if row["status_id"] == INCOMPLETE:
                    assert entry.sync_state is SyncState.SKIPPED
                else:
                    assert entry.sync_state is SyncState.DELIVERED, (order_id, entry.sync_state)
                if row["company_id"] is not None:
                    assert entry.record.b2b is not None, order_id
                    assert entry.record.b2b.company_id == row["company_id"]
                    assert entry.record.b2b.company_name
                links = {link.invoice_id for link in entry.record.invoices}
                assert links == set(row["invoice_ids"]), (order_id, row)
                if entry.order_type is OrderType.INVOICE_PAYMENT:
                    assert entry.record.b2b is not None
                    assert entry.record.b2b.payment_id
                    assert all(
                        link.role is InvoiceRole.PAID_BY_ORDER for link in entry.record.invoices
                    )
                    assert sum(link.amount or 0 for link in entry.record.invoices) == (
                        entry.record.total_inc_tax
                    )

            deliverable = {i for i, row in expected.items() if row["status_id"] != INCOMPLETE}
            per_order = Counter(delivery.order_id for delivery in recorder.received)
            assert set(per_order) == deliverable
            assert set(per_order.values()) == {1}
            kinds = {delivery.order_id: delivery.kind for delivery in recorder.received}
            for order_id in deliverable:
                payment = expected[order_id]["kind"] == "invoice payment"
                assert kinds[order_id] is (DeliveryKind.PAYMENT if payment else DeliveryKind.ORDER)
            assert any(row["kind"] == "invoice payment" for row in expected.values())
            assert any(row["status_id"] == INCOMPLETE for row in expected.values())

            second = await run_once(ctx)
            assert second.poll.processed.versions == 0
            assert second.recheck.processed.versions == 0
            assert second.delivery.delivered == 0
            assert len(recorder.received) == len(deliverable)
            assert {i: e.version for i, e in (await ledger(any_db, ctx.store)).items()} == {
                i: 1 for i in expected
            }
    async with erp_sql.engine.connect() as conn:
        booked = {
            table.name: dict((await conn.execute(select(table.c.order_id, table.c.version))).all())
            for table in (erp_sql.orders_table, erp_sql.payments_table)
        }
    await erp_sql.aclose()
    payments = {i for i in deliverable if expected[i]["kind"] == "invoice payment"}
    assert set(booked["b2bsync_payments"]) == payments
    assert set(booked["b2bsync_orders"]) == deliverable - payments
    assert set(booked["b2bsync_orders"].values()) | set(booked["b2bsync_payments"].values()) == {1}


async def test_orders_modified_during_a_scan_are_not_missed(sqlite_db: Database) -> None:
    recorder = Recorder()
    edits: dict[int, str] = {}
    read: set[int] = set()
    with run_sandbox(quiet_config(orders=300, faults=FaultProfile.FLAKY)) as sandbox:
        newest_first = sorted(
            truth(sandbox).values(), key=lambda row: (row["date_modified"], row["id"]), reverse=True
        )
        unread = [row["id"] for row in newest_first]
        scanning = True

        async def edit_between_pages(response: httpx2.Response) -> None:
            request = response.request
            if not scanning or response.status_code != 200:
                return
            if request.method != "GET" or not request.url.path.endswith("/v2/orders"):
                return
            if "is_deleted" in request.url.params:
                return
            await response.aread()
            page = [order["id"] for order in response.json()]
            read.update(page)
            ahead = next((i for i in unread if i not in read and i not in edits), None)
            # One order this page just returned, and one the scan has not reached yet: both jump
            # to the end of the date_modified order while the scan is running.
            for order_id in (page[0], ahead):
                if order_id is not None and order_id not in edits:
                    edits[order_id] = f"edited during the scan ({len(edits)})"
                    await put_order(sandbox, order_id, {"staff_notes": edits[order_id]})

        settings = SyncSettings(page_size=50)
        async with sync_context(
            sandbox,
            sqlite_db,
            destinations=(recorder.configured(),),
            settings=settings,
            on_response=edit_between_pages,
        ) as ctx:
            first = await run_once(ctx)
            assert first.poll.scans[0].pages >= 6
            assert len(edits) >= 10
            scanning = False
            entries = await ledger(sqlite_db, ctx.store)
            untouched = set(truth(sandbox)) - set(edits)
            assert untouched <= set(entries)

            await run_once(ctx)
            expected = truth(sandbox)
            entries = await ledger(sqlite_db, ctx.store)
            assert set(entries) == set(expected)
            for order_id, notes in edits.items():
                record = entries[order_id].record
                assert record is not None
                assert record.staff_notes == notes, order_id
            keys = Counter((d.order_id, d.version) for d in recorder.received)
            assert set(keys.values()) == {1}
            latest = {d.order_id: d.record.staff_notes for d in recorder.received}
            for order_id, notes in edits.items():
                if expected[order_id]["status_id"] != INCOMPLETE:
                    assert latest[order_id] == notes


async def test_a_late_metafield_keeps_new_orders_pending_until_it_arrives(
    sqlite_db: Database,
) -> None:
    recorder = Recorder()
    config = quiet_config(
        orders=40,
        faults=FaultProfile.FLAKY,
        metafield_delay=DelayRange(5.0, 5.0),
        b2b_record_delay=DelayRange(600.0, 600.0),
    )
    with run_sandbox(config) as sandbox:
        async with sync_context(
            sandbox,
            sqlite_db,
            destinations=(recorder.configured(),),
        ) as ctx:
            await run_once(ctx)
            history = set(truth(sandbox))
            progress = _wait_simulation(
                sandbox, {"rate": 40, "duration": 0.5, "invoice_share": 0.5, "seed": 5}
            )
            assert progress["counts"]["invoice_payments"] > 0, progress
            started = time.monotonic()
            expected = truth(sandbox)
            new = {i: row for i, row in expected.items() if i not in history}
            assert any(row["kind"] == "invoice payment" for row in new.values())

            waiting = await run_once(ctx)
            assert waiting.poll.processed.pending == len(
                [row for row in new.values() if row["status_id"] != INCOMPLETE]
            )
            entries = await ledger(sqlite_db, ctx.store)
            for order_id, row in new.items():
                entry = entries[order_id]
                assert entry.order_type is None, order_id
                assert entry.version == 0
                expected_state = (
                    SyncState.SKIPPED
                    if row["status_id"] == INCOMPLETE
                    else SyncState.PENDING_CLASSIFICATION
                )
                assert entry.sync_state is expected_state
                assert entry.next_check_at is not None
            assert not {d.order_id for d in recorder.received} & set(new)

            await asyncio.sleep(max(0.0, 5.5 - (time.monotonic() - started)))
            # The signal streams announce the orders whose metafield arrived; they are composed
            # from their stored drafts, without a single API call.
            streams = await run_streams(ctx, ctx.clock())
            changed = set().union(*(result.changed_orders for result in streams))
            assert set(new) <= changed
            calls = ctx.calls.count
            recomposed = await process_changes(ctx, new, ctx.clock())
            assert ctx.calls.count == calls
            assert recomposed.missing == 0
            assert recomposed.versions == len(new)
            entries = await ledger(sqlite_db, ctx.store)
            for order_id, row in new.items():
                assert entries[order_id].order_type is expected_type(row["kind"]), (order_id, row)
            classified = await run_once(ctx)
            assert classified.poll.processed.versions == 0
            delivered = Counter(d.order_id for d in recorder.received if d.order_id in new)
            assert set(delivered) == {i for i, row in new.items() if row["status_id"] != INCOMPLETE}
            assert set(delivered.values()) == {1}
            for delivery in recorder.received:
                if delivery.order_id in new:
                    assert delivery.record.order_type is expected_type(
                        new[delivery.order_id]["kind"]
                    )


async def test_a_destination_that_fails_for_a_while_gets_everything_once_it_recovers(
    sqlite_db: Database,
) -> None:
    recorder = Recorder()
    recorder.failing = True
    retry = RetrySchedule(
        base=timedelta(milliseconds=50), cap=timedelta(milliseconds=200), max_attempts=8
    )
    with run_sandbox(quiet_config(orders=60, faults=FaultProfile.FLAKY)) as sandbox:
        async with sync_context(
            sandbox,
            sqlite_db,
            destinations=(recorder.configured(),),
            settings=SyncSettings(retry=retry, delivery_batch=25),
        ) as ctx:
            first = await run_once(ctx)
            assert first.delivery.delivered == 0
            assert first.delivery.retried == first.poll.processed.enqueued > 0
            async with sqlite_db.transaction(readonly=True) as tx:
                entries = await ledger(sqlite_db, ctx.store)
                failed = [e for e in entries.values() if e.sync_state is SyncState.FAILED]
                assert len(failed) == first.poll.processed.enqueued
                detail = await tx.ledger.get_order(ctx.store, failed[0].order_id)
                assert detail is not None
                row = detail.outbox[0]
                assert row.state is OutboxState.PENDING
                assert row.attempts == 1
                assert row.next_attempt_at > row.created_at
                assert row.last_error == "503 Service Unavailable"

            for _ in range(2):
                await asyncio.sleep(0.25)
                assert (await deliver_due(ctx, ctx.clock())).delivered == 0
            recorder.failing = False
            delivered = 0
            for _ in range(10):
                await asyncio.sleep(0.25)
                delivered += (await deliver_due(ctx, ctx.clock())).delivered
                if delivered == first.poll.processed.enqueued:
                    break
            assert delivered == first.poll.processed.enqueued
            entries = await ledger(sqlite_db, ctx.store)
            assert {e.sync_state for e in entries.values()} <= {
                SyncState.DELIVERED,
                SyncState.SKIPPED,
            }
            async with sqlite_db.transaction(readonly=True) as tx:
                depth = await tx.outbox.depth()
            assert depth == {("erp", OutboxState.DELIVERED): delivered}
            assert Counter(d.idempotency_key for d in recorder.received).most_common(1)[0][1] == 1


async def test_a_refused_delivery_is_a_dead_letter_until_replayed(sqlite_db: Database) -> None:
    recorder = Recorder()
    with run_sandbox(quiet_config(orders=30, faults=FaultProfile.FLAKY)) as sandbox:
        async with sync_context(sandbox, sqlite_db, destinations=(recorder.configured(),)) as ctx:
            deliverable = [i for i, row in truth(sandbox).items() if row["status_id"] != INCOMPLETE]
            refused = deliverable[0]
            recorder.refuse = {refused}
            first = await run_once(ctx)
            assert first.delivery.dead == 1
            assert (await ledger(sqlite_db, ctx.store))[refused].sync_state is SyncState.DEAD
            assert refused not in {d.order_id for d in recorder.received}

            recorder.refuse = set()
            assert await replay(ctx, [refused]) == 1
            again = await deliver_due(ctx, ctx.clock())
            assert again.delivered == 1
            assert (await ledger(sqlite_db, ctx.store))[refused].sync_state is SyncState.DELIVERED
            assert [d.order_id for d in recorder.received].count(refused) == 1


async def test_run_forever_repeats_rounds_until_stopped(sqlite_db: Database) -> None:
    recorder = Recorder()
    with run_sandbox(quiet_config(orders=20, faults=FaultProfile.FLAKY)) as sandbox:
        async with sync_context(sandbox, sqlite_db, destinations=(recorder.configured(),)) as ctx:
            stop = asyncio.Event()
            loop = asyncio.create_task(run_forever(ctx, 0.05, stop))
            deadline = time.monotonic() + 20
            # Every round polls at least the seven streams; wait for a few rounds.
            while ctx.calls.count < 30:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(loop, timeout=10)
            expected = truth(sandbox)
            assert set(await ledger(sqlite_db, ctx.store)) == set(expected)
            deliverable = {i for i, row in expected.items() if row["status_id"] != INCOMPLETE}
            assert Counter(d.order_id for d in recorder.received) == dict.fromkeys(deliverable, 1)
