"""Webhooks driving the sync, real HTTP both ways on loopback: the sandbox calls the intake, the
micro-batcher scans in batches and delivers; duplicates and out-of-order callbacks are harmless."""

from __future__ import annotations

from datetime import datetime

import httpx2

from b2bsync.sandbox.config import DelayRange
from b2bsync.store import Database
from b2bsync.sync.webhooks.install import WebhookSecret, install_webhooks
from b2bsync.sync.webhooks.intake import INTAKE_PATH, IntakeSettings, WebhookIntake
from b2bsync.sync.webhooks.microbatch import BatchSettings, MicroBatcher, process_feed
from b2bsync.web import create_app
from tests.conftest import quiet_config
from tests.integration.sync_support import (  # noqa: F401
    Recorder,
    any_db,
    ledger,
    put_order,
    sqlite_db,
    sync_context,
)
from tests.integration.webhook_support import (
    INTAKE_SECRET,
    auth_headers,
    callback,
    delivered_current,
    encode,
    feed_rows,
    open_rows,
    sandbox_truth,
    serve,
    simulate,
    wait_for,
)
from tests.sandbox_server import free_port, run_sandbox

SECRET = WebhookSecret("X-B2BSync-Webhook-Secret", INTAKE_SECRET)


async def test_callbacks_from_the_sandbox_drive_batched_scans_to_delivery(
    sqlite_db: Database,  # noqa: F811
) -> None:
    recorder = Recorder()
    config = quiet_config(webhook_duplicate_rate=0.5, metafield_delay=DelayRange(0.0, 0.3))
    with run_sandbox(config) as sandbox:
        async with sync_context(sandbox, sqlite_db, destinations=(recorder.configured(),)) as ctx:
            port = free_port()
            await install_webhooks(
                ctx.client, sqlite_db, ctx.store, f"http://127.0.0.1:{port}", SECRET
            )
            batcher = MicroBatcher(ctx, poll_interval=lambda: 3600.0)
            intake = WebhookIntake(
                sqlite_db,
                IntakeSettings(store=ctx.store, secret=SECRET.value),
                on_accepted=batcher.wake,
            )
            app = create_app(intakes=[intake], services=(batcher.run,))
            async with serve(app, port):
                await wait_for(lambda: batcher.polls == 1)
                calls_after_backfill = ctx.calls.count
                seeded = set(await sandbox_truth(sandbox))
                await simulate(
                    sandbox, {"rate": 30, "duration": 1.5, "invoice_share": 0.4, "seed": 5}
                )
                truth = await sandbox_truth(sandbox)
                await wait_for(lambda: delivered_current(recorder, truth), limit_s=30)
                await wait_for(lambda: _no_open(sqlite_db, ctx.store))
            webhook_calls = ctx.calls.count - calls_after_backfill

    new = set(truth) - seeded
    new_orders = len(new)
    assert new_orders >= 25
    # Only the first round was a poll: everything after came through webhook batches.
    assert batcher.polls == 1
    assert 1 <= batcher.batches < new_orders
    assert webhook_calls / new_orders < 0.5
    rows = await feed_rows(sqlite_db, ctx.store)
    assert {row["order_id"] for row in rows} >= new
    assert len({row["webhook_hash"] for row in rows}) == len(rows)
    assert intake.counters["duplicate"] > 0
    assert intake.counters["unauthorized"] == 0
    # Duplicated callbacks cost nothing: one delivery per version.
    keys = [delivery.idempotency_key for delivery in recorder.received]
    assert len(keys) == len(set(keys))


async def test_safety_net_polls_beside_the_batches_deliver_every_version_once(
    any_db: Database,  # noqa: F811
) -> None:
    recorder = Recorder()
    config = quiet_config(webhook_duplicate_rate=0.3, metafield_delay=DelayRange(0.0, 0.5))
    with run_sandbox(config) as sandbox:
        async with sync_context(sandbox, any_db, destinations=(recorder.configured(),)) as ctx:
            port = free_port()
            intake_url = f"http://127.0.0.1:{port}"
            await install_webhooks(ctx.client, any_db, ctx.store, intake_url, SECRET)
            # A poll every second, re-reading its whole overlap while batches scan the same
            # streams: the two lanes write the same orders, signals and checkpoints at once.
            # The whole quota, so that the paced polls come round often in a short test.
            batcher = MicroBatcher(
                ctx, settings=BatchSettings(quota_share=1.0), poll_interval=lambda: 1.0
            )
            intake = WebhookIntake(
                any_db,
                IntakeSettings(store=ctx.store, secret=SECRET.value),
                on_accepted=batcher.wake,
            )
            app = create_app(intakes=[intake], services=(batcher.run,))
            async with serve(app, port):
                await wait_for(lambda: batcher.polls == 1)
                await simulate(
                    sandbox, {"rate": 20, "duration": 3, "invoice_share": 0.4, "seed": 9}
                )
                polls_before = batcher.polls
                await wait_for(lambda: batcher.polls >= polls_before + 2, limit_s=60)
                truth = await sandbox_truth(sandbox)
                await wait_for(lambda: delivered_current(recorder, truth), limit_s=60)
            watermark_rows = await _watermarks(any_db, ctx.store)
            entries = await ledger(any_db, ctx.store)

    assert batcher.batches >= 1
    keys = [delivery.idempotency_key for delivery in recorder.received]
    assert len(keys) == len(set(keys))
    assert set(entries) == set(truth)
    # Neither lane set the other's progress back: the watermark covers every live order read.
    newest = max(entry.date_modified for entry in entries.values() if not entry.is_archived)
    watermark = watermark_rows["v2_orders"]
    assert isinstance(watermark, datetime)
    assert watermark >= newest


async def _watermarks(db: Database, store: str) -> dict[str, object]:
    async with db.transaction(readonly=True) as tx:
        found = {
            stream: await tx.checkpoints.get(store, stream)
            for stream in ("v2_orders", "metafields")
        }
    return {stream: point.watermark if point else None for stream, point in found.items()}


async def _no_open(db: Database, store: str) -> bool:
    return await open_rows(db, store) == 0


async def test_out_of_order_callbacks_end_in_the_current_state(
    sqlite_db: Database,  # noqa: F811
) -> None:
    recorder = Recorder()
    with run_sandbox(quiet_config()) as sandbox:
        async with sync_context(sandbox, sqlite_db, destinations=(recorder.configured(),)) as ctx:
            batcher = MicroBatcher(ctx)
            await batcher.poll_round()
            # Two changes while no hook is installed; their callbacks then arrive backwards:
            # the newest change first, the creation of the order last.
            seeded = await sandbox_truth(sandbox)
            first, second = (
                min(i for i, row in seeded.items() if row["status_id"] == status)
                for status in (1, 7)
            )
            await put_order(sandbox, first, {"status_id": 10})
            await put_order(sandbox, second, {"status_id": 9})
            intake = WebhookIntake(sqlite_db, IntakeSettings(store=ctx.store, secret=SECRET.value))
            async with serve(create_app(intakes=[intake])) as base, httpx2.AsyncClient() as http:
                for order_id, scope in [
                    (second, "store/order/statusUpdated"),
                    (first, "store/order/updated"),
                    (second, "store/order/created"),
                    (first, "store/order/created"),
                ]:
                    response = await http.post(
                        base + INTAKE_PATH,
                        content=encode(callback(ctx.store, order_id, scope)),
                        headers=auth_headers(),
                    )
                    assert response.json() == {"status": "accepted"}
            before = len(recorder.received)
            summary = await process_feed(ctx, BatchSettings())
            truth = await sandbox_truth(sandbox)

    assert summary is not None
    assert summary.rows == 4
    assert summary.calls <= 2
    assert await open_rows(sqlite_db, ctx.store) == 0
    fresh = {d.order_id: d.record.status_id for d in recorder.received[before:]}
    assert fresh == {first: 10, second: 9}
    assert truth[first]["status_id"] == 10
    assert truth[second]["status_id"] == 9
