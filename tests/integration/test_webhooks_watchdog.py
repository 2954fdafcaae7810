"""A webhook outage: the sandbox gives up and deactivates the hook while polling (at the short
interval) delivers every order; the watchdog re-activates the hook, reports what only polling
found, and returns to the long interval once callbacks flow again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from b2bsync.store import Database
from b2bsync.sync.webhooks.install import WebhookSecret, install_webhooks
from b2bsync.sync.webhooks.intake import IntakeSettings, WebhookIntake
from b2bsync.sync.webhooks.microbatch import BatchSettings, MicroBatcher
from b2bsync.sync.webhooks.watchdog import Watchdog, WatchdogSettings, webhook_health
from b2bsync.web import create_app
from tests.conftest import quiet_config
from tests.integration.sync_support import Recorder, any_db, sync_context  # noqa: F401
from tests.integration.webhook_support import (
    INTAKE_SECRET,
    delivered_current,
    hooks_admin,
    sandbox_truth,
    serve,
    simulate,
    wait_for,
)
from tests.sandbox_server import RunningSandbox, free_port, run_sandbox

SECRET = WebhookSecret("X-B2BSync-Webhook-Secret", INTAKE_SECRET)
SETTINGS = WatchdogSettings(
    interval_s=0.2, healthy_poll_s=60.0, degraded_poll_s=0.3, silence_grace=timedelta(seconds=0.5)
)


async def _hook_status(sandbox: RunningSandbox) -> str:
    (hook,) = (await hooks_admin(sandbox))["hooks_list"]
    return str(hook["status"])


async def test_an_outage_is_carried_by_polling_and_repaired_by_the_watchdog(
    any_db: Database,  # noqa: F811
) -> None:
    recorder = Recorder()
    # Time scale 1e-5: BigCommerce's ~48 h of retries take under two seconds.
    with run_sandbox(quiet_config(time_scale=1e-5)) as sandbox:
        async with sync_context(sandbox, any_db, destinations=(recorder.configured(),)) as ctx:
            port = free_port()
            await install_webhooks(
                ctx.client, any_db, ctx.store, f"http://127.0.0.1:{port}", SECRET
            )
            watchdog = Watchdog(ctx.client, any_db, ctx.store, SETTINGS)
            # The whole quota: during the outage the paced polls are the only path, and they
            # should come round in seconds, not at a fifth of a Standard store's quota.
            batcher = MicroBatcher(
                ctx, settings=BatchSettings(quota_share=1.0), poll_interval=watchdog.poll_interval
            )
            stop = asyncio.Event()
            running = asyncio.create_task(batcher.run(stop))
            await wait_for(lambda: batcher.polls >= 1)
            seeded = set(await sandbox_truth(sandbox))

            # The outage: nothing listens at the intake's address.
            await simulate(sandbox, {"rate": 20, "duration": 1, "seed": 3})
            await wait_for(lambda: _is(sandbox, "deactivated"), limit_s=20)
            during = await sandbox_truth(sandbox)
            await wait_for(lambda: delivered_current(recorder, during), limit_s=20)
            outage_orders = set(during) - seeded
            assert outage_orders
            assert batcher.polls >= 2
            assert batcher.batches == 0

            intake = WebhookIntake(
                any_db,
                IntakeSettings(store=ctx.store, secret=SECRET.value),
                on_accepted=batcher.wake,
            )
            async with serve(create_app(intakes=[intake]), port):
                # Orders polled within the grace are not yet "silent": let the last poll age.
                await asyncio.sleep(SETTINGS.silence_grace.total_seconds() + 0.1)
                broken = await watchdog.check()
                assert await _hook_status(sandbox) == "active"
                assert watchdog.poll_interval() == SETTINGS.degraded_poll_s

                await simulate(sandbox, {"rate": 20, "duration": 1, "seed": 4})
                after = await sandbox_truth(sandbox)
                await wait_for(lambda: delivered_current(recorder, after), limit_s=20)
                await wait_for(lambda: intake.counters["accepted"] >= len(set(after) - set(during)))
                await asyncio.sleep(SETTINGS.silence_grace.total_seconds() + 0.1)
                recovered = await watchdog.check()
                interval_after = watchdog.poll_interval()
            stop.set()
            await running
            status = await webhook_health(any_db, ctx.store, SETTINGS)

    assert broken.healthy is False
    assert broken.reactivations == 1
    assert any("was deactivated; re-activated" in finding for finding in broken.findings)
    assert any("reached the ledger by polling" in finding for finding in broken.findings)
    assert broken.missed_by_webhooks >= len(outage_orders)
    assert recovered.healthy is True, recovered.findings
    assert recovered.findings == ()
    assert interval_after == SETTINGS.healthy_poll_s
    assert batcher.batches >= 1
    # `b2bsync status` material: the outage's orders stay counted as found by polling only.
    assert status.installed
    assert status.healthy is True
    assert status.reactivations == 1
    assert status.missed_by_webhooks >= len(outage_orders)
    assert status.webhooks_received >= len(set(after) - set(during))
    assert status.as_dict()["last_webhook_at"] is not None


async def _is(sandbox: RunningSandbox, status: str) -> bool:
    return await _hook_status(sandbox) == status
