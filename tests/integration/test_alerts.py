"""Alerts against the ledger database (SQLite and PostgreSQL) and real receivers on loopback:
firings recorded once across concurrent evaluators, sent by e-mail (aiosmtpd) and over HTTP
(Apprise's `json://` and Slack-style `mmost://`), and a channel that is down retried at the
next evaluation."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from b2bsync.bigcommerce import BigCommerceClient, GovernorRegistry, Unauthorized
from b2bsync.config import AlertSettings, StoreEntry, load_bigcommerce_settings
from b2bsync.domain.alerts import AlertPolicy, Condition
from b2bsync.store import Database
from b2bsync.store.alerts import DeliveryState
from b2bsync.store.schema import alert_events
from b2bsync.sync import SyncContext, run_once
from b2bsync.sync.alerts import AlertService, ChannelError
from b2bsync.sync.fleet import Fleet
from b2bsync.sync.poller import ORDERS_STREAM
from b2bsync.web import create_app
from b2bsync.web.dashboard import Dashboard
from tests.integration.store_support import (
    STORE,
    T0,
    db,
    later,
    make_record,
    pg_db,
    write_version,
)
from tests.receivers import run_notification_receiver, run_smtp_server
from tests.sandbox_server import RunningSandbox, free_port

__all__ = ["db", "pg_db"]

QUIET = timedelta(minutes=30)


class Recorder:
    """A notifier that keeps what it was asked to send; `down` channels fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.down: set[str] = set()

    async def send(self, url: SecretStr, title: str, body: str) -> None:
        if url.get_secret_value() in self.down:
            raise ChannelError("connection refused")
        self.sent.append((url.get_secret_value(), title, body))


def alert(
    *channels: str, conditions: tuple[Condition, ...] = (Condition.DEAD_LETTERS,)
) -> AlertSettings:
    return AlertSettings(
        policy=AlertPolicy("ops", conditions, quiet_period=QUIET),
        channels=tuple(SecretStr(url) for url in channels),
        send_timeout=timedelta(seconds=5),
    )


async def dead_letter(database: Database, order_id: int = 101) -> None:
    await write_version(database, make_record(order_id), T0)
    async with database.transaction() as tx:
        (row,) = await tx.outbox.claim_due("sql", 10, T0, timedelta(seconds=30))
        await tx.outbox.mark_dead(row.id, "HTTP 422", T0)


async def evaluate(service: AlertService, database: Database, minutes: float) -> None:
    await service.evaluate(database, STORE, later(minutes), orders_stream=ORDERS_STREAM)


async def events(database: Database) -> list[tuple[str, str, str]]:
    async with database.transaction(readonly=True) as tx:
        found = await tx.alerts.events(STORE)
    return [(e.condition, e.state.value, e.delivery.value) for e in reversed(found)]


async def test_fire_hold_repeat_resolve_through_the_database(db: Database) -> None:
    notifier = Recorder()
    service = AlertService([alert("json://ops.example/hook")], notifier)
    await evaluate(service, db, 1)
    assert await events(db) == []
    await dead_letter(db)
    await evaluate(service, db, 2)
    await evaluate(service, db, 10)
    await evaluate(service, db, 32)
    async with db.transaction() as tx:
        await tx.outbox.skip_dead(STORE, None, later(33))
    await evaluate(service, db, 34)
    await evaluate(service, db, 35)
    assert await events(db) == [
        ("dead_letters", "fired", "sent"),
        ("dead_letters", "repeated", "sent"),
        ("dead_letters", "resolved", "sent"),
    ]
    titles = [title for _, title, _ in notifier.sent]
    assert titles == [
        f"b2bsync ops: dead_letters firing ({STORE})",
        f"b2bsync ops: dead_letters still firing ({STORE})",
        f"b2bsync ops: dead_letters resolved ({STORE})",
    ]
    assert notifier.sent[0][2] == f"1 dead letter in store {STORE}"
    async with db.transaction(readonly=True) as tx:
        assert await tx.alerts.active(STORE) == []


async def _three_evaluators(url: str) -> list[Recorder]:
    notifiers = [Recorder() for _ in range(3)]
    databases = [Database(url) for _ in range(3)]
    try:
        services = [AlertService([alert("json://ops.example/hook")], n) for n in notifiers]
        await asyncio.gather(
            *(
                s.evaluate(d, STORE, later(2), orders_stream=ORDERS_STREAM)
                for s, d in zip(services, databases, strict=True)
            )
        )
    finally:
        for database in databases:
            await database.close()
    return notifiers


async def test_three_concurrent_evaluators_fire_once(db: Database) -> None:
    """Three workers see the same dead letter at the same moment: one firing, one message;
    evaluating again at once changes nothing."""
    await dead_letter(db)
    first = await _three_evaluators(db.url)
    assert sum(len(n.sent) for n in first) == 1
    again = await _three_evaluators(db.url)
    assert sum(len(n.sent) for n in again) == 0
    assert await events(db) == [("dead_letters", "fired", "sent")]


async def test_concurrent_evaluators_on_postgres_race_on_an_existing_standing(
    pg_db: Database,
) -> None:
    """The compare-and-set on an existing standing: once the quiet period has passed, three
    evaluators at once record one repeat."""
    await dead_letter(pg_db)
    await evaluate(AlertService([alert("json://h/x")], Recorder()), pg_db, 1)
    notifiers = [Recorder() for _ in range(3)]
    databases = [Database(pg_db.url) for _ in range(3)]
    try:
        await asyncio.gather(
            *(
                AlertService([alert("json://h/x")], n).evaluate(
                    d, STORE, later(40), orders_stream=ORDERS_STREAM
                )
                for n, d in zip(notifiers, databases, strict=True)
            )
        )
    finally:
        for database in databases:
            await database.close()
    assert await events(pg_db) == [
        ("dead_letters", "fired", "sent"),
        ("dead_letters", "repeated", "sent"),
    ]
    assert sum(len(n.sent) for n in notifiers) == 1


async def test_a_channel_that_is_down_is_retried_until_it_takes_the_firing(db: Database) -> None:
    notifier = Recorder()
    notifier.down.add("json://down.example/hook")
    service = AlertService([alert("json://up.example/hook", "json://down.example/hook")], notifier)
    await dead_letter(db)
    await evaluate(service, db, 2)
    async with db.transaction(readonly=True) as tx:
        (event,) = await tx.alerts.events(STORE)
    assert event.delivery is DeliveryState.PENDING
    assert event.last_error == "channel 2 (json): connection refused"
    assert [url for url, _, _ in notifier.sent] == ["json://up.example/hook"]
    notifier.down.clear()
    await evaluate(service, db, 3)
    # The channel that already had it is not sent it again.
    assert [url for url, _, _ in notifier.sent] == [
        "json://up.example/hook",
        "json://down.example/hook",
    ]
    assert await events(db) == [("dead_letters", "fired", "sent")]


async def test_a_channel_down_for_good_is_given_up_after_the_last_attempt(db: Database) -> None:
    notifier = Recorder()
    notifier.down.add("json://down.example/hook")
    service = AlertService([alert("json://down.example/hook")], notifier, max_attempts=2)
    await dead_letter(db)
    for minute in (2, 3, 4):
        await evaluate(service, db, minute)
    async with db.transaction(readonly=True) as tx:
        (event,) = await tx.alerts.events(STORE)
    assert (event.delivery, event.attempts) == (DeliveryState.FAILED, 2)


async def test_a_slow_channel_times_out_without_holding_the_round(db: Database) -> None:
    class Slow(Recorder):
        async def send(self, url: SecretStr, title: str, body: str) -> None:
            await asyncio.sleep(30)

    settings = alert("json://slow.example/hook")
    fast = AlertSettings(settings.policy, settings.channels, send_timeout=timedelta(seconds=0.2))
    await dead_letter(db)
    result = await AlertService([fast], Slow()).evaluate(
        db, STORE, later(2), orders_stream=ORDERS_STREAM
    )
    assert [r.error for r in result.failed] == ["no answer within 0.2 s"]


async def test_e_mail_and_json_and_slack_style_channels_over_real_sockets(db: Database) -> None:
    """Apprise sends to an aiosmtpd server and an HTTP receiver on loopback."""
    await dead_letter(db)
    with run_smtp_server() as smtp, run_notification_receiver() as http:
        channels = (
            f"mailto://127.0.0.1:{smtp.port}?from=b2bsync@example.com&to=ops@example.com",
            f"json://{http.url}/alerts",
            f"mmost://{http.url}/hooktoken123",
        )
        service = AlertService([alert(*channels)])
        result = await service.evaluate(db, STORE, later(2), orders_stream=ORDERS_STREAM)
        assert result.failed == []
        assert result.sent == 1
    ((sender, recipients, message),) = smtp.messages
    assert (sender, recipients) == ("b2bsync@example.com", ["ops@example.com"])
    assert message["Subject"] == f"b2bsync ops: dead_letters firing ({STORE})"
    assert f"1 dead letter in store {STORE}" in message.get_body().get_content()
    by_path = dict(http.received)
    assert by_path["/alerts"]["title"] == f"b2bsync ops: dead_letters firing ({STORE})"
    assert by_path["/alerts"]["message"] == f"1 dead letter in store {STORE}"
    assert f"1 dead letter in store {STORE}" in by_path["/hooks/hooktoken123"]["text"]


async def test_a_real_channel_down_then_up_gets_the_firing_at_the_next_evaluation(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    url = f"json://user:hunter2-secret@127.0.0.1:{port}/alerts"
    service = AlertService([alert(url)])
    await dead_letter(db)
    first = await service.evaluate(db, STORE, later(2), orders_stream=ORDERS_STREAM)
    assert [(r.channel, r.ok) for r in first.failed] == [("channel 1 (json)", False)]
    with run_notification_receiver(port) as http:
        second = await service.evaluate(db, STORE, later(3), orders_stream=ORDERS_STREAM)
    assert second.sent == 1
    assert len(http.received) == 1
    async with db.transaction(readonly=True) as tx:
        count = await tx.connection.execute(select(func.count()).select_from(alert_events))
        assert count.scalar_one() == 1
    assert "hunter2" not in caplog.text


async def test_a_destination_failing_long_enough_and_the_lag_fire(db: Database) -> None:
    notifier = Recorder()
    conditions = (Condition.DESTINATION_FAILING, Condition.LAG, Condition.DEAD_LETTERS)
    service = AlertService([alert("json://h/x", conditions=conditions)], notifier)
    await write_version(db, make_record(101), T0)
    async with db.transaction() as tx:
        (row,) = await tx.outbox.claim_due("sql", 10, T0, timedelta(seconds=30))
        await tx.outbox.mark_retry(row.id, "HTTP 503", later(1), T0)
        await tx.checkpoints.put(STORE, ORDERS_STREAM, watermark=T0, cursor=None, now=T0)
    await evaluate(service, db, 5)
    assert notifier.sent == []
    await evaluate(service, db, 16)
    assert sorted(body for _, _, body in notifier.sent) == [
        f"deliveries of store {STORE} keep failing: sql (for 16 min)",
        f"store {STORE} last read its orders 16 min ago",
    ]


async def test_the_dashboard_lists_firings_on_the_overview_and_the_alerts_page(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path}/ledger.db")
    await database.upgrade()
    secret = "json://user:dash-secret-7@127.0.0.1:9/hook"
    try:
        await dead_letter(database)
        await evaluate(AlertService([alert(secret)], Recorder()), database, 2)
        app = create_app(dashboard=Dashboard(db=database))
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
        ) as client:
            api = (await client.get("/api/alerts")).json()
            page = await client.get("/alerts")
            overview = await client.get("/")
    finally:
        await database.close()
    (event,) = api["events"]
    assert (event["alert"], event["condition"], event["state"]) == ("ops", "dead_letters", "fired")
    assert api["active"][0]["condition"] == "dead_letters"
    assert page.status_code == 200
    assert "1 dead letter in store store1" in page.text
    assert 'href="/alerts" aria-current="page"' in page.text
    assert 'id="alerts-panel"' in overview.text
    assert "1 dead letter in store store1" in overview.text
    for text in (page.text, overview.text, json.dumps(api)):
        assert "dash-secret-7" not in text


async def test_every_store_context_of_the_service_and_workers_carries_the_alerts(
    tmp_path: Path,
) -> None:
    """`run_forever` and the worker jobs run `run_once` on contexts from the `Fleet`, which
    evaluates the alerts after each round: the fleet hands them to every store's context."""
    service = AlertService([alert("json://h/x")], Recorder())
    entries = {
        name: StoreEntry(
            load_bigcommerce_settings(
                BIGCOMMERCE_STORE_HASH=name, BIGCOMMERCE_ACCESS_TOKEN="token-123"
            )
        )
        for name in ("s1", "s2")
    }
    async with Database(f"sqlite:///{tmp_path}/ledger.db") as database:
        fleet = Fleet(db=database, destinations=(), stores=entries, alerts=service)
        for name in entries:
            async with fleet.context(name) as ctx:
                assert ctx.alerts is service


async def test_a_round_that_fails_on_the_api_still_evaluates_the_alerts(
    sandbox: RunningSandbox, db: Database
) -> None:
    store = sandbox.config.store_hash
    await write_version(db, make_record(101, store=store), T0)
    async with db.transaction() as tx:
        (row,) = await tx.outbox.claim_due("sql", 10, T0, timedelta(seconds=30))
        await tx.outbox.mark_dead(row.id, "HTTP 422", T0)
    notifier = Recorder()
    service = AlertService([alert("json://h/x")], notifier)
    async with httpx2.AsyncClient(timeout=15) as http:
        client = BigCommerceClient(
            store_hash=store,
            access_token="a-revoked-token",
            api_url=sandbox.base_url,
            b2b_api_url=f"{sandbox.base_url}/b2b",
            http_client=http,
            governors=GovernorRegistry(),
        )
        ctx = SyncContext(store=store, client=client, db=db, alerts=service)
        # The store refuses the token: the round fails, and that is when alerts matter most.
        with pytest.raises(Unauthorized):
            await run_once(ctx)
    assert len(notifier.sent) == 1
    channel, _, body = notifier.sent[0]
    assert channel == "json://h/x"
    assert "dead letter" in body
