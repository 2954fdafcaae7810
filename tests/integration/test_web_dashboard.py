"""The dashboard and its `/api/` over a ledger filled by a real sandbox sync: reads, filters,
the order journey, Retry/Skip through the replay services, CSRF, credentials, masking."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from b2bsync.config import load_settings
from b2bsync.domain.rejects import Rejected, RejectedStream
from b2bsync.store import Database
from b2bsync.store.schema import orders
from b2bsync.web import create_app
from b2bsync.web.access import Access
from b2bsync.web.dashboard import Dashboard
from b2bsync.web.pages import PROCESSING_STATUSES
from tests.integration.sync_support import Recorder
from tests.sandbox_server import RunningSandbox
from tests.web_support import SyncedLedger, dashboard_over, sync_ledger

TOKEN = "dashboard-token-4f9c2a"


@pytest.fixture(scope="module")
def synced(sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> SyncedLedger:
    """One sync of the sandbox for the module; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    return asyncio.run(sync_ledger(sandbox, f"sqlite:///{path}"))


@pytest.fixture
def ledger_url(synced: SyncedLedger, tmp_path: Path) -> str:
    source = Path(synced.url.removeprefix("sqlite:///"))
    shutil.copy(source, tmp_path / "ledger.db")
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def _client(dashboard: Dashboard) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=create_app(dashboard=dashboard)),
        base_url="http://127.0.0.1:8000",
    )


@pytest.fixture
async def served(
    sandbox: RunningSandbox, ledger_url: str
) -> AsyncIterator[tuple[httpx2.AsyncClient, Recorder]]:
    async with (
        dashboard_over(sandbox, ledger_url) as (dashboard, recorder),
        _client(dashboard) as client,
    ):
        yield client, recorder


async def _csrf(client: httpx2.AsyncClient) -> str:
    token = (await client.get("/api/csrf")).json()["csrf_token"]
    assert isinstance(token, str)
    return token


async def test_the_overview_counts_what_the_sync_put_in_the_ledger(
    served: tuple[httpx2.AsyncClient, Recorder], synced: SyncedLedger
) -> None:
    client, _ = served
    shown = (await client.get("/api/overview")).json()
    assert shown["by_type"]["invoice_payment"] == len(synced.invoice_payments) > 0
    assert shown["by_type"]["online_order"] == len(synced.online_orders) > 0
    assert shown["dead_letters"] == len(synced.dead_orders) > 0
    assert shown["last_poll_at"] is not None
    assert shown["lag_s"] is not None
    charted = sum(row["orders"] for row in shown["per_day"])
    assert 0 < charted <= shown["orders"]
    # The amounts chart sums each charted order's total, in the currency most orders use.
    currency = shown["currency"]
    assert currency
    since = min(date.fromisoformat(row["day"]) for row in shown["per_day"])
    expected = await _totals_since(synced.url, since, currency)
    per_type = {
        kind: sum(
            Decimal(row["amount"])
            for row in shown["per_day"]
            if row["order_type"] == kind and row["currency"] == currency
        )
        for kind in ("online_order", "invoice_payment")
    }
    assert per_type == expected
    assert per_type["invoice_payment"] > 0
    page = await client.get("/")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert f">{shown['orders']}</span>" in page.text
    live = await client.get("/overview/live")
    assert 'hx-trigger="every 5s"' in live.text


async def test_filters_narrow_the_order_list_and_bad_values_are_named(
    served: tuple[httpx2.AsyncClient, Recorder], synced: SyncedLedger
) -> None:
    client, _ = served
    everything = (await client.get("/api/orders")).json()
    payments = (await client.get("/api/orders", params={"type": "invoice_payment"})).json()
    assert payments["total"] == len(synced.invoice_payments) < everything["total"]
    assert {item["order_type"] for item in payments["items"]} == {"invoice_payment"}
    one = synced.online_orders[0]
    found = (await client.get("/api/orders", params={"search": str(one)})).json()
    assert [item["order_id"] for item in found["items"]] == [one]
    paged = (await client.get("/api/orders", params={"page_size": "5", "page": "2"})).json()
    assert paged["pages"] == -(-everything["total"] // 5)
    assert [i["order_id"] for i in paged["items"]] == [
        i["order_id"] for i in everything["items"][5:10]
    ]
    wrong = (await client.get("/api/orders", params={"company": "acme"})).json()
    assert wrong["total"] == everything["total"]
    assert wrong["problems"] == ["ignored company='acme': not a valid company"]
    html = await client.get("/orders", params={"type": "invoice_payment", "store": synced.store})
    assert f"{len(synced.invoice_payments)} order(s)" in html.text


async def test_an_invoice_payment_order_page_shows_the_invoices_it_paid(
    served: tuple[httpx2.AsyncClient, Recorder], synced: SyncedLedger
) -> None:
    client, _ = served
    pages = [
        (await client.get(f"/api/orders/{synced.store}/{order_id}")).json()
        for order_id in synced.invoice_payments
    ]
    paying = [page for page in pages if page["payment"] and page["payment"]["lines"]]
    assert paying, "no invoice payment order has its payment cached"
    order = paying[0]
    assert order["signals"]
    assert all(signal["seen_at"] for signal in order["signals"])
    assert order["versions"][0]["changed_fields"] == []
    assert order["deliveries"][0]["history"][0]["outcome"] == "delivered"
    html = (await client.get(f"/orders/{synced.store}/{order['order_id']}")).text
    for line in order["payment"]["lines"]:
        assert line["invoice_number"] in html
        assert line["amount"] in html
    # People read labels; the codes stay in the tooltips and in the JSON.
    shown = _visible_text(html)
    payment = order["payment"]
    assert payment["module_name"] == "payments_bigcommerce_sales_order"
    assert "by Store checkout" in shown
    assert "payments_bigcommerce_sales_order" not in shown
    assert f'title="{payment["module_name"]}"' in html
    assert PROCESSING_STATUSES[payment["processing_status"]] in shown
    assert "processing status" not in shown
    assert f"Status {order['status']}" in shown
    assert f"{order['status_id']} {order['status']}" not in shown
    missing = await client.get(f"/api/orders/{synced.store}/999999999")
    assert missing.status_code == 404


async def test_retry_on_the_failures_page_delivers_the_dead_letter_and_it_disappears(
    served: tuple[httpx2.AsyncClient, Recorder], synced: SyncedLedger
) -> None:
    client, recorder = served
    dead = synced.dead_orders[0]
    answer = await client.post(
        "/failures/retry",
        data={
            "csrf_token": await _csrf(client),
            "store": synced.store,
            "order_id": str(dead),
            "destination": "erp",
        },
    )
    assert answer.status_code == 303
    assert "1+delivered" in answer.headers["location"]
    assert [delivery.order_id for delivery in recorder.received] == [dead]
    left = (await client.get("/api/failures")).json()["dead_letters"]
    assert dead not in {row["order_id"] for row in left}
    assert len(left) == len(synced.dead_orders) - 1
    order = (await client.get(f"/api/orders/{synced.store}/{dead}")).json()
    assert order["state"] == "delivered"
    assert [event["event"] for event in order["events"]][-1] == "delivered"


async def test_skip_gives_up_and_bulk_retry_sends_the_rest(
    served: tuple[httpx2.AsyncClient, Recorder], synced: SyncedLedger
) -> None:
    client, recorder = served
    skipped, *rest = synced.dead_orders
    headers = {"X-CSRF-Token": await _csrf(client)}
    answer = await client.post(
        "/api/deadletters/skip",
        json={"store": synced.store, "order_id": skipped},
        headers=headers,
    )
    assert answer.json() == {"store": synced.store, "skipped": 1}
    bulk = await client.post(
        "/api/deadletters/retry", json={"store": synced.store}, headers=headers
    )
    assert bulk.json()["queued"] == bulk.json()["delivered"] == len(rest)
    assert sorted(d.order_id for d in recorder.received) == sorted(rest)
    assert (await client.get("/api/failures")).json()["dead_letters"] == []
    state = (await client.get(f"/api/orders/{synced.store}/{skipped}")).json()["state"]
    assert state == "skipped"
    unknown = await client.post("/api/deadletters/retry", json={"store": "other"}, headers=headers)
    assert unknown.status_code == 400
    assert "not synced by this process" in unknown.json()["error"]


async def test_posts_without_the_csrf_token_or_from_another_origin_are_refused(
    served: tuple[httpx2.AsyncClient, Recorder], synced: SyncedLedger
) -> None:
    client, recorder = served
    form = {"store": synced.store, "order_id": str(synced.dead_orders[0])}
    refused = await client.post("/failures/retry", data=form)
    assert refused.status_code == 403
    forged = await client.post(
        "/failures/retry",
        data=form | {"csrf_token": "0" * 64},
    )
    assert forged.status_code == 403
    cross = await client.post(
        "/failures/retry",
        data=form | {"csrf_token": await _csrf(client)},
        headers={"Origin": "http://evil.example"},
    )
    assert cross.status_code == 403
    assert recorder.received == []
    assert len((await client.get("/api/failures")).json()["dead_letters"]) == len(
        synced.dead_orders
    )


async def test_with_a_token_only_health_checks_answer_without_credentials(
    sandbox: RunningSandbox, ledger_url: str
) -> None:
    access = Access(token=SecretStr(TOKEN), user="ops", password=SecretStr("pw-9"))
    async with (
        dashboard_over(sandbox, ledger_url, access) as (dashboard, _),
        _client(dashboard) as client,
    ):
        for path in ("/api/overview", "/metrics", "/api/settings", "/openapi.json"):
            answer = await client.get(path)
            assert answer.status_code == 401, path
            assert answer.json() == {"error": "authentication required"}
        page = await client.get("/orders")
        assert page.status_code == 401
        assert 'action="/login"' in page.text
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).json() == {"status": "ok"}
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert (await client.get("/api/overview", headers=bearer)).status_code == 200
        assert (await client.get("/metrics", headers=bearer)).status_code == 200
        schema = (await client.get("/openapi.json", headers=bearer)).json()
        assert "/api/deadletters/{action}" in schema["paths"]
        basic = "Basic " + base64.b64encode(b"ops:pw-9").decode()
        assert (await client.get("/orders", headers={"Authorization": basic})).status_code == 200
        wrong = "Basic " + base64.b64encode(b"ops:nope").decode()
        assert (await client.get("/orders", headers={"Authorization": wrong})).status_code == 401

        login = (await client.get("/login")).text
        csrf = re.search(r'name="csrf_token" value="(\w+)"', login)
        assert csrf is not None
        bad = await client.post("/login", data={"csrf_token": csrf[1], "token": "guess"})
        assert bad.status_code == 401
        good = await client.post("/login", data={"csrf_token": csrf[1], "token": TOKEN})
        assert good.status_code == 303
        assert TOKEN not in good.headers["set-cookie"]
        assert (await client.get("/orders")).status_code == 200


async def test_no_secret_reaches_a_page_or_the_api(
    ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = {
        "BIGCOMMERCE_ACCESS_TOKEN": "store-token-s3cr3t",
        "B2B_ACCESS_TOKEN": "b2b-token-s3cr3t",
        "HOOK_SECRET": "hook-secret-s3cr3t",
        "OPS_URL": "json://ops:alert-s3cr3t@hooks.example/b2bsync",
    }
    config = tmp_path / "b2bsync.toml"
    config.write_text(
        '[[alerts]]\nname = "ops"\nchannels = ["${OPS_URL}"]\n'
        'conditions = ["dead_letters", "lag"]\nquiet_period = "30m"\n',
        encoding="utf-8",
    )
    destinations = (
        '[{"name": "erp", "type": "http", "url": "https://user:pw-s3cr3t@erp.example/in", '
        '"secret": "${HOOK_SECRET}", "headers": {"X-Api-Key": "header-s3cr3t"}}]'
    )
    environ = secrets | {
        "BIGCOMMERCE_STORE_HASH": "abc123",
        "B2BSYNC_DATABASE_URL": "postgresql://b2b:db-s3cr3t@db.internal/ledger",
        "B2BSYNC_DESTINATIONS": destinations,
        "B2BSYNC_CONFIG": str(config),
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(Path(ledger_url.removeprefix("sqlite:///")).parent)
    settings = load_settings()
    db = Database(ledger_url)
    try:
        async with _client(Dashboard(db=db, settings=settings)) as client:
            shown = [
                (await client.get(path)).text
                for path in ("/api/settings", "/settings", "/api/overview", "/")
            ]
    finally:
        await db.close()
    assert "erp.example" in shown[0]
    assert "abc123" in shown[1]
    (store,) = json.loads(shown[0])["stores"]
    assert (store["store_hash"], store["channels"], store["destinations"]) == (
        "abc123",
        "all",
        "all",
    )
    (alert,) = json.loads(shown[0])["alerts"]
    assert (alert["name"], alert["conditions"], alert["channels"]) == (
        "ops",
        ["dead_letters", "lag"],
        ["channel 1 (json)"],
    )
    assert "channel 1 (json)" in shown[1]
    for text in shown:
        assert "s3cr3t" not in text


@pytest.mark.postgres
async def test_the_overview_and_filters_read_a_postgresql_ledger(
    sandbox: RunningSandbox, postgres_url: str
) -> None:
    synced = await sync_ledger(sandbox, postgres_url)
    async with (
        dashboard_over(sandbox, postgres_url) as (dashboard, _),
        _client(dashboard) as client,
    ):
        shown = (await client.get("/api/overview")).json()
        assert shown["by_type"]["invoice_payment"] == len(synced.invoice_payments)
        assert 0 < sum(row["orders"] for row in shown["per_day"]) <= shown["orders"]
        assert all(len(row["day"]) == 10 for row in shown["per_day"])
        found = (await client.get("/api/orders", params={"type": "online_order"})).json()
        assert found["total"] == len(synced.online_orders)
        page = await client.get("/")
        assert page.status_code == 200
        assert "<rect" in page.text


async def test_quarantined_records_show_on_failures_escaped_and_in_metrics(
    served: tuple[httpx2.AsyncClient, Recorder], ledger_url: str, synced: SyncedLedger
) -> None:
    client, _ = served
    store = synced.store
    hostile = Rejected(
        stream=RejectedStream.B2B_COMPANY,
        key="1003",
        order_id=None,
        reason="companyName: Input should be a valid string <script>alert(1)</script>",
        path="companyName",
        payload='{"companyName": ["<script>alert(2)</script>"]}',
        payload_chars=48,
    )
    database = Database(ledger_url)
    try:
        async with database.transaction() as tx:
            await tx.quarantine.put(store, [hostile], datetime.now(UTC))
    finally:
        await database.close()
    page = (await client.get("/failures", params={"store": store})).text
    assert "Quarantine (1)" in page
    assert 'data-record="1003"' in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    shown = (await client.get("/api/failures", params={"store": store})).json()
    assert [(q["stream"], q["record"]) for q in shown["quarantined"]] == [("b2b_company", "1003")]
    metrics = (await client.get("/metrics")).text
    assert f'b2bsync_quarantined_records{{store="{store}",stream="b2b_company"}} 1.0' in metrics


async def test_filters_read_as_labels_failures_default_to_the_store_and_the_icon_exists(
    served: tuple[httpx2.AsyncClient, Recorder], synced: SyncedLedger
) -> None:
    client, _ = served
    orders = (await client.get("/orders")).text
    assert '<option value="pending_classification" title="pending_classification"' in orders
    assert ">pending classification</option>" in orders
    assert ">invoice payment</option>" in orders
    shown = _visible_text((await client.get("/overview/live")).text)
    assert "pending classification" in shown
    assert "pending_classification" not in shown
    failures = (await client.get("/failures")).text
    assert f'<option value="{synced.store}" selected>' in failures
    everything = (await client.get("/failures", params={"store": ""})).text
    assert "selected>" not in everything.split("Dead letters")[0]
    icon = await client.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")


async def test_lists_name_companies_and_invoices_run_in_number_order(
    served: tuple[httpx2.AsyncClient, Recorder], synced: SyncedLedger, ledger_url: str
) -> None:
    client, _ = served
    database = Database(ledger_url)
    try:
        async with database.transaction(readonly=True) as tx:
            page = await tx.signals.list_invoices(synced.store, page_size=1000)
            names = await tx.signals.company_names(
                synced.store, {i.company_id for i in page.items if i.company_id}
            )
    finally:
        await database.close()
    numbers = [invoice.number for invoice in page.items]
    assert numbers == sorted(numbers, key=lambda n: (len(n), n), reverse=True)
    html = (await client.get("/invoices", params={"store": synced.store})).text
    assert any(name in html for name in names.values())
    orders = (await client.get("/api/orders", params={"page_size": "200"})).json()["items"]
    named = [o for o in orders if o["company_id"]]
    assert named
    assert all(o["company_name"] for o in named)


def _visible_text(html: str) -> str:
    """The page's text as a reader sees it: tags (and their attributes) dropped, spaces joined."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def _totals_since(url: str, since: date, currency: str) -> dict[str, Decimal]:
    """`total_inc_tax` summed per order type over the ledger's records created from `since` on."""
    db = Database(url)
    try:
        async with db.transaction(readonly=True) as tx:
            rows = (
                await tx.connection.execute(
                    select(orders.c.order_type, orders.c.record, orders.c.date_created)
                )
            ).all()
    finally:
        await db.close()
    totals = {"online_order": Decimal(0), "invoice_payment": Decimal(0)}
    for row in rows:
        counted = row.order_type in totals and row.record["currency"] == currency
        if counted and row.date_created.date() >= since:
            totals[row.order_type] += Decimal(row.record["total_inc_tax"])
    return totals
