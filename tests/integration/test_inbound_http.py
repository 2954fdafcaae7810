"""The authenticated push endpoint (`web/inbound.py`) against the sandbox on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from fastapi import FastAPI
from pydantic import SecretStr

from b2bsync.store import Database
from b2bsync.sync.context import SyncContext
from b2bsync.web.inbound import inbound_router
from tests.conftest import quiet_config
from tests.integration.sync_support import sqlite_db, sync_context
from tests.sandbox_server import run_sandbox

__all__ = ["sqlite_db"]

TOKEN = "push-token-0123456789"
ADDRESS = {
    "first_name": "Jo",
    "street_1": "1 Road",
    "city": "Austin",
    "zip": "78751",
    "country": "United States",
    "country_iso2": "US",
    "email": "jo@example.com",
}


def _order(external_id: str) -> str:
    return json.dumps(
        {
            "external_order_id": external_id,
            "billing_address": ADDRESS,
            "lines": [{"name": "Widget", "quantity": 1, "price_ex_tax": 5, "price_inc_tax": 5}],
        }
    )


async def test_the_endpoint_pushes_orders_once_and_needs_the_token(sqlite_db: Database) -> None:
    with run_sandbox(quiet_config(orders=5, seed=51)) as sandbox:

        @asynccontextmanager
        async def contexts() -> AsyncIterator[SyncContext]:
            async with sync_context(sandbox, sqlite_db) as ctx:
                yield ctx

        app = FastAPI()
        app.include_router(inbound_router(contexts, SecretStr(TOKEN)))
        auth = {"Authorization": f"Bearer {TOKEN}"}
        body = _order("HTTP-1") + "\n" + _order("HTTP-2") + "\n{broken\n"
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://b2bsync") as client:
            denied = await client.post("/push/orders", content=body)
            assert denied.status_code == 401
            wrong = await client.post(
                "/push/orders", content=body, headers={"Authorization": "Bearer nope"}
            )
            assert wrong.status_code == 401
            assert (
                await client.post("/push/parcels", content=body, headers=auth)
            ).status_code == 404

            first = await client.post("/push/orders", content=body, headers=auth)
            assert first.status_code == 422
            report = first.json()
            assert report["counts"]["created"] == 2
            assert [r["line"] for r in report["rows"] if r["outcome"] == "failed"] == [3]

            fixed = _order("HTTP-1") + "\n" + _order("HTTP-2") + "\n"
            second = await client.post("/push/orders", content=fixed, headers=auth)
            assert second.status_code == 200
            assert second.json()["counts"]["unchanged"] == 2

        state = sandbox.world.stores[sandbox.config.store_hash]
        pushed = [o for o in state.orders.values() if o.external_order_id.startswith("HTTP-")]
        assert sorted(o.external_order_id for o in pushed) == ["HTTP-1", "HTTP-2"]
