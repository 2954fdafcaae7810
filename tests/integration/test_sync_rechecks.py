"""Pending orders over loopback: re-checks (B2B order detail, payment product) and the
deadline policy, against a flaky sandbox whose signals are late."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

import httpx2

from b2bsync.destinations import Route
from b2bsync.domain.classification import SignalSource, UnclassifiedPolicy
from b2bsync.domain.delivery import DeliveryKind
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.sync_state import SyncState
from b2bsync.sandbox.config import DelayRange, FaultProfile
from b2bsync.store import Database
from b2bsync.sync import SyncSettings, run_once
from tests.conftest import quiet_config
from tests.integration.sync_support import (
    Recorder,
    expected_type,
    ledger,
    sqlite_db,
    sync_context,
    truth,
)
from tests.sandbox_server import RunningSandbox, run_sandbox

__all__ = ["sqlite_db"]

INCOMPLETE = 0


def _simulate(sandbox: RunningSandbox, seed: int) -> None:
    with httpx2.Client(base_url=f"{sandbox.base_url}/__sandbox", headers=sandbox.headers()) as c:
        spec = {"rate": 40, "duration": 0.5, "invoice_share": 0.5, "seed": seed}
        c.post("/simulate", json=spec).raise_for_status()
        deadline = time.monotonic() + 15
        while c.get("/simulate").json()["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)


async def test_rechecks_classify_from_the_b2b_detail_and_the_payment_product(
    sqlite_db: Database,
) -> None:
    recorder = Recorder()
    config = quiet_config(
        orders=40,
        faults=FaultProfile.FLAKY,
        metafield_delay=DelayRange(600.0, 600.0),
        b2b_record_delay=DelayRange(0.0, 0.0),
    )
    settings = SyncSettings(
        recheck_base=timedelta(milliseconds=1), recheck_cap=timedelta(milliseconds=1)
    )
    with run_sandbox(config) as sandbox:
        async with sync_context(
            sandbox, sqlite_db, destinations=(recorder.configured(),), settings=settings
        ) as ctx:
            await run_once(ctx)
            history = set(truth(sandbox))
            _simulate(sandbox, seed=8)
            new = {i: row for i, row in truth(sandbox).items() if i not in history}
            waiting = [i for i, row in new.items() if row["status_id"] != INCOMPLETE]
            assert any(new[i]["kind"] == "invoice payment" for i in waiting)
            assert any(new[i]["company_id"] is None for i in waiting)

            summary = await run_once(ctx)
            assert summary.poll.processed.pending == len(waiting)
            assert summary.recheck.due == len(waiting)
            companies = [i for i in waiting if new[i]["company_id"] is not None]
            assert summary.recheck.detail_calls == len(companies) > 0
            assert summary.recheck.payment_product_id is not None

            entries = await ledger(sqlite_db, ctx.store)
            for order_id in waiting:
                entry = entries[order_id]
                row = new[order_id]
                assert entry.order_type is expected_type(row["kind"]), (order_id, row)
                expected_source = (
                    SignalSource.B2B_ORDER
                    if row["company_id"] is not None
                    else SignalSource.PAYMENT_PRODUCT
                )
                assert entry.classification_source is expected_source, (order_id, row)
                assert entry.sync_state is SyncState.DELIVERED
            delivered = Counter(d.order_id for d in recorder.received if d.order_id in new)
            assert set(delivered) == set(waiting)
            assert set(delivered.values()) == {1}


async def test_the_hold_policy_keeps_unsignalled_orders_until_a_signal_arrives(
    sqlite_db: Database,
) -> None:
    recorder = Recorder()
    config = quiet_config(
        orders=40,
        faults=FaultProfile.FLAKY,
        metafield_delay=DelayRange(2.0, 2.0),
        b2b_record_delay=DelayRange(600.0, 600.0),
    )
    settings = SyncSettings(classification_deadline=timedelta(0))
    with run_sandbox(config) as sandbox:
        async with sync_context(
            sandbox, sqlite_db, destinations=(recorder.configured(),), settings=settings
        ) as ctx:
            await run_once(ctx)
            history = set(truth(sandbox))
            _simulate(sandbox, seed=9)
            started = time.monotonic()
            new = {i: row for i, row in truth(sandbox).items() if i not in history}
            waiting = {i for i, row in new.items() if row["status_id"] != INCOMPLETE}
            assert waiting

            summary = await run_once(ctx)
            assert summary.poll.processed.held == len(waiting)
            entries = await ledger(sqlite_db, ctx.store)
            assert {entries[i].sync_state for i in waiting} == {SyncState.HELD}
            assert all(entries[i].version == 0 for i in waiting)
            assert not {d.order_id for d in recorder.received} & waiting

            again = await run_once(ctx)
            assert again.recheck.due == 0
            # Held orders are not re-checked; only a signal (the metafield, when it is already
            # there) moves them on, never the policy.
            entries = await ledger(sqlite_db, ctx.store)
            for order_id in waiting:
                entry = entries[order_id]
                assert entry.sync_state is SyncState.HELD or (
                    entry.classification_source is SignalSource.METAFIELD
                ), (order_id, entry.sync_state)

            await asyncio.sleep(max(0.0, 2.5 - (time.monotonic() - started)))
            await run_once(ctx)
            entries = await ledger(sqlite_db, ctx.store)
            for order_id in waiting:
                assert entries[order_id].order_type is expected_type(new[order_id]["kind"])
                assert entries[order_id].classification_source is SignalSource.METAFIELD
            assert {d.order_id for d in recorder.received} >= waiting


async def test_the_deliver_unclassified_policy_sends_orders_without_a_signal_as_unclassified(
    sqlite_db: Database,
) -> None:
    recorder = Recorder()
    config = quiet_config(
        orders=30,
        faults=FaultProfile.FLAKY,
        metafield_delay=DelayRange(600.0, 600.0),
        b2b_record_delay=DelayRange(600.0, 600.0),
    )
    settings = SyncSettings(
        classification_deadline=timedelta(0), policy=UnclassifiedPolicy.DELIVER_UNCLASSIFIED
    )
    with run_sandbox(config) as sandbox:
        async with sync_context(
            sandbox,
            sqlite_db,
            destinations=(recorder.configured(Route(order_types=None)),),
            settings=settings,
        ) as ctx:
            await run_once(ctx)
            history = set(truth(sandbox))
            _simulate(sandbox, seed=10)
            new = {i: row for i, row in truth(sandbox).items() if i not in history}
            waiting = {i for i, row in new.items() if row["status_id"] != INCOMPLETE}

            await run_once(ctx)
            sent = {d.order_id: d for d in recorder.received if d.order_id in new}
            assert set(sent) == waiting
            for delivery in sent.values():
                assert delivery.record.order_type is OrderType.UNCLASSIFIED
                assert delivery.kind is DeliveryKind.ORDER
            entries = await ledger(sqlite_db, ctx.store)
            assert {entries[i].classification_source for i in waiting} == {SignalSource.POLICY}
