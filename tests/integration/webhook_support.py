"""Helpers of the `test_webhooks_*` tests: b2bsync's web app served on loopback inside the test's
event loop (so it shares the loop with the database and the sync context), signed and unsigned
callbacks as BigCommerce sends them, and reads of the webhook tables."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select

from b2bsync.domain.delivery import Delivery
from b2bsync.sandbox.webhooks import sign
from b2bsync.store import Database
from b2bsync.store.schema import change_feed, webhook_rejects
from b2bsync.sync.webhooks.intake import SECRET_HEADER
from tests.integration.sync_support import Recorder, expected_type
from tests.sandbox_server import RunningSandbox, free_port

INTAKE_SECRET = "intake-secret-0123456789abcdef"
CLIENT_SECRET = "client-secret-for-standard-webhooks"


@asynccontextmanager
async def serve(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` on loopback in the running loop; yields its base URL."""
    chosen = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=chosen, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 15
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{chosen}"
    finally:
        server.should_exit = True
        await task


def callback(
    store: str, order_id: int, scope: str = "store/order/created", **extra: Any
) -> dict[str, Any]:
    """A callback body like BigCommerce's, with a hash unique to this call."""
    payload: dict[str, Any] = {
        "scope": scope,
        "store_id": "1000001",
        "data": {"type": "order", "id": order_id},
        "created_at": int(time.time()),
        "producer": f"stores/{store}",
    }
    if scope.startswith("store/order/metafield/"):
        payload["data"] = {"metafield_id": 1, "resource_id": str(order_id), "namespace": "x"}
    payload.update(extra)
    payload.setdefault("hash", hashlib.sha1(uuid.uuid4().bytes, usedforsecurity=False).hexdigest())
    return payload


def encode(payload: dict[str, Any]) -> bytes:
    """The compact JSON BigCommerce sends."""
    return json.dumps(payload, separators=(",", ":")).encode()


def auth_headers(secret: str = INTAKE_SECRET) -> dict[str, str]:
    """The custom header set at installation."""
    return {SECRET_HEADER: secret, "Content-Type": "application/json"}


def signed_headers(
    body: bytes, *, timestamp: int | None = None, client_secret: str = CLIENT_SECRET
) -> dict[str, str]:
    """Standard Webhooks headers for `body` (signed now unless `timestamp` is given)."""
    message_id = f"msg_{uuid.uuid4().hex}"
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(client_secret, message_id, stamp, body),
    }


async def feed_rows(db: Database, store: str) -> list[dict[str, Any]]:
    """Every change-feed row of `store`, oldest first."""
    async with db.transaction(readonly=True) as tx:
        result = await tx.connection.execute(
            select(change_feed).where(change_feed.c.store == store).order_by(change_feed.c.id)
        )
        return [dict(row._mapping) for row in result]


async def reject_rows(db: Database) -> list[dict[str, Any]]:
    """Every recorded refused callback."""
    async with db.transaction(readonly=True) as tx:
        result = await tx.connection.execute(select(webhook_rejects).order_by(webhook_rejects.c.id))
        return [dict(row._mapping) for row in result]


async def open_rows(db: Database, store: str) -> int:
    """Change-feed rows of `store` not processed yet."""
    async with db.transaction(readonly=True) as tx:
        return int(
            await tx.connection.scalar(
                select(func.count())
                .select_from(change_feed)
                .where(change_feed.c.store == store, change_feed.c.processed_at.is_(None))
            )
            or 0
        )


async def healthy(base: str) -> bool:
    """Whether the b2bsync web app at `base` answers `/healthz`."""
    try:
        async with httpx2.AsyncClient() as http:
            return (await http.get(f"{base}/healthz")).status_code == 200
    except httpx2.TransportError:
        return False


async def wait_for(predicate: Any, limit_s: float = 20.0, interval: float = 0.05) -> None:
    """Await `predicate()` (sync or async) until it is true, or fail after `limit_s` seconds."""
    deadline = time.monotonic() + limit_s
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {limit_s} s")
        await asyncio.sleep(interval)


async def simulate(sandbox: RunningSandbox, spec: dict[str, Any], limit_s: float = 20) -> None:
    """Run a sandbox simulation (`POST /__sandbox/simulate`) to its end without blocking the
    loop (the intake served in it must keep answering the sandbox's callbacks)."""
    async with httpx2.AsyncClient(
        base_url=f"{sandbox.base_url}/__sandbox", headers=sandbox.headers()
    ) as admin:
        (await admin.post("/simulate", json=spec)).raise_for_status()
        deadline = time.monotonic() + limit_s
        while (await admin.get("/simulate")).json()["state"] == "running":
            assert time.monotonic() < deadline, "the simulation did not finish"
            await asyncio.sleep(0.05)


async def sandbox_truth(sandbox: RunningSandbox) -> dict[int, dict[str, Any]]:
    """The sandbox's ground truth of every order, by id (async, see `simulate`)."""
    async with httpx2.AsyncClient(headers=sandbox.headers()) as http:
        response = await http.get(f"{sandbox.base_url}/__sandbox/orders")
    response.raise_for_status()
    return {row["id"]: row for row in response.json()}


async def hooks_admin(sandbox: RunningSandbox) -> dict[str, Any]:
    """`GET /v3/hooks/admin` of the sandbox store."""
    async with httpx2.AsyncClient(headers=sandbox.headers()) as http:
        response = await http.get(f"{sandbox.store_url}/v3/hooks/admin")
    response.raise_for_status()
    data: dict[str, Any] = response.json()["data"]
    return data


def delivered_current(recorder: Recorder, truth: dict[int, dict[str, Any]]) -> bool:
    """Every order of `truth` except Incomplete ones reached `recorder` with its current status
    and its true type."""
    latest: dict[int, Delivery] = {}
    for delivery in recorder.received:
        latest[delivery.order_id] = delivery
    for order_id, row in truth.items():
        if row["status_id"] == 0:
            continue
        got = latest.get(order_id)
        if got is None or got.record.status_id != row["status_id"]:
            return False
        if got.record.order_type is not expected_type(row["kind"]):
            return False
    return True
