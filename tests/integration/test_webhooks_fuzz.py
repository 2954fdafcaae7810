"""Fuzzing the intake over HTTP with hypothesis, driven by the app's own OpenAPI document: at
least 2,000 generated requests (forged, unsigned, malformed, odd scopes and ids, binary bodies),
no 5xx, and nothing recorded from an unauthenticated request."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from b2bsync.store import Database
from b2bsync.store.schema import change_feed, webhook_rejects
from b2bsync.sync.webhooks.intake import INTAKE_PATH, IntakeSettings, WebhookIntake
from b2bsync.web import create_app
from tests.integration.sync_support import migrated
from tests.integration.webhook_support import INTAKE_SECRET
from tests.sandbox_server import free_port

STORE = "fuzzstore"
REQUESTS = 2_000
UNAUTHENTICATED_MARK = "unauthenticated-"


@contextmanager
def serve_in_thread(url: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The app on its own loop in a thread (hypothesis tests are synchronous); yields the base
    URL and the OpenAPI document."""
    db = Database(url)
    app = create_app(intakes=[WebhookIntake(db, IntakeSettings(store=STORE, secret=INTAKE_SECRET))])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )

    async def run() -> None:
        try:
            await server.serve()
        finally:
            await db.close()

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the app stopped"
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", app.openapi()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _operation(openapi: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    operation = openapi["paths"][INTAKE_PATH]["post"]
    (header,) = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return header, schema


def _requests(schema: dict[str, Any]) -> st.SearchStrategy[tuple[str, bytes, str]]:
    """(authentication kind, body, content type): bodies shaped by the OpenAPI schema, mutated
    to every type, plus arbitrary JSON and bytes."""
    example_scope = schema["properties"]["scope"]["example"]
    scopes = st.sampled_from(
        [
            example_scope,
            "store/order/updated",
            "store/order/statusUpdated",
            "store/order/archived",
            "store/order/metafield/created",
            "store/order/transaction/created",
            "store/product/updated",
            "store/cart/created",
        ]
    ) | st.text(max_size=40)
    anything = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    ids = st.integers(min_value=-5, max_value=2**65) | anything
    data = st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["order", "transaction", "x"]) | anything,
            "id": ids,
            "order_id": ids.map(str) | ids,
            "resource_id": ids.map(str) | ids,
        },
    )
    fields = {
        "scope": scopes | anything,
        "store_id": st.text(max_size=10) | anything,
        "data": data | anything,
        "hash": st.text(min_size=1, max_size=140) | anything,
        "created_at": st.integers(min_value=0, max_value=2**40) | anything,
        "producer": st.sampled_from([f"stores/{STORE}", "stores/other"]) | anything,
    }
    required = set(schema["required"])
    callbacks = st.fixed_dictionaries(
        {name: strategy for name, strategy in fields.items() if name in {"scope", "hash"}},
        optional={name: s for name, s in fields.items() if name in required - {"scope", "hash"}},
    ).map(lambda body: json.dumps(body).encode())
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=8,
    ).map(lambda value: json.dumps(value).encode())
    order_scopes = [
        example_scope,
        "store/order/updated",
        "store/order/statusUpdated",
        "store/order/archived",
    ]
    well_formed = st.builds(
        lambda scope, order_id, digest, created_at: {
            "scope": scope,
            "store_id": "1000001",
            "data": {"type": "order", "id": order_id},
            "hash": digest,
            "created_at": created_at,
            "producer": f"stores/{STORE}",
        },
        st.sampled_from(order_scopes),
        st.integers(min_value=1, max_value=10**9),
        st.text("0123456789abcdef", min_size=8, max_size=40),
        st.integers(min_value=0, max_value=2**31),
    ).map(lambda body: json.dumps(body).encode())
    bodies = well_formed | callbacks | json_values | st.binary(max_size=200)
    auth = st.sampled_from(["valid", "valid", "missing", "wrong", "truncated", "padded"])
    content_types = st.sampled_from(["application/json", "text/plain", ""])
    return st.tuples(auth, bodies, content_types)


def _headers(header: str, auth: str, content_type: str) -> dict[str, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    secret = {
        "valid": INTAKE_SECRET,
        "wrong": "w" * len(INTAKE_SECRET),
        "truncated": INTAKE_SECRET[:-1],
        "padded": INTAKE_SECRET + "0",
    }.get(auth)
    if secret is not None:
        headers[header] = secret
    return headers


def _mark(body: bytes, number: int) -> bytes:
    """Tag an unauthenticated callback's hash so a leak would be visible in the feed."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if isinstance(payload, dict):
        payload["hash"] = f"{UNAUTHENTICATED_MARK}{number}"
        return json.dumps(payload).encode()
    return body


async def _recorded(url: str) -> tuple[list[str | None], list[str | None]]:
    db = Database(url)
    try:
        async with db.transaction(readonly=True) as tx:
            hashes = list(
                await tx.connection.scalars(
                    select(change_feed.c.webhook_hash).where(change_feed.c.store == STORE)
                )
            )
            bodies = list(await tx.connection.scalars(select(webhook_rejects.c.body)))
            assert await tx.connection.scalar(select(func.count()).select_from(change_feed)) == len(
                hashes
            )
        return hashes, bodies
    finally:
        await db.close()


def test_two_thousand_generated_requests_cause_no_5xx_and_no_unauthenticated_record(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/fuzz.db"
    asyncio.run(asyncio.wait_for(_close_after_migration(url), 30))
    verdicts: Counter[tuple[str, int, str]] = Counter()
    with serve_in_thread(url) as (base, openapi), httpx2.Client(base_url=base) as http:
        header, schema = _operation(openapi)

        @settings(
            max_examples=REQUESTS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(_requests(schema))
        def send(request: tuple[str, bytes, str]) -> None:
            auth, body, content_type = request
            sent = sum(verdicts.values())
            if auth != "valid":
                body = _mark(body, sent)
            response = http.post(
                INTAKE_PATH, content=body, headers=_headers(header, auth, content_type)
            )
            assert response.status_code < 500, (request, response.text)
            if auth != "valid":
                assert response.status_code == 401, request
            else:
                assert response.status_code in (200, 400, 413), request
            verdict = response.json().get("status") or response.json().get("error")
            verdicts[((auth == "valid" and "auth") or "anon", response.status_code, verdict)] += 1

        send()
    hashes, bodies = asyncio.run(_recorded(url))

    assert sum(verdicts.values()) >= REQUESTS
    accepted = verdicts[("auth", 200, "accepted")]
    malformed = verdicts[("auth", 400, "malformed")]
    unauthenticated = sum(n for (who, _, _), n in verdicts.items() if who == "anon")
    assert accepted > 50, verdicts
    assert malformed > 50, verdicts
    assert unauthenticated > 500, verdicts
    assert len(hashes) == accepted
    assert len(bodies) == malformed
    assert not any(h is not None and h.startswith(UNAUTHENTICATED_MARK) for h in hashes)
    assert not any(body is not None and UNAUTHENTICATED_MARK in body for body in bodies)


async def _close_after_migration(url: str) -> None:
    await (await migrated(url)).close()
