"""Helpers of the `test_sync_*` tests: a sync context pointed at a loopback sandbox, a recording
destination (a test double of an ERP), the sandbox's ground truth and the ledger's view."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import text

from b2bsync.bigcommerce import BigCommerceClient, GovernorRegistry, RetryPolicy
from b2bsync.destinations import ConfiguredDestination, Route
from b2bsync.domain.delivery import Delivery, DeliveryResult, Outcome
from b2bsync.domain.order_type import MetafieldOrderType, OrderType
from b2bsync.store import Database, LedgerEntry, LedgerQuery
from b2bsync.store.schema import metadata
from b2bsync.sync import CallCounter, SyncContext, SyncSettings
from tests.sandbox_server import RunningSandbox

FAST_RETRY = RetryPolicy(attempts=10, wait_initial_s=0.01, wait_max_s=0.1, wait_jitter_s=0.01)
"""The client's retries of injected faults, quick enough for tests."""

DEFAULT_SETTINGS = SyncSettings()


class Recorder:
    """A destination that keeps what it accepts; while `failing` it answers RETRY (like an ERP
    answering 503), and it refuses for good the order ids in `refuse`."""

    def __init__(self, name: str = "erp") -> None:
        self._name = name
        self.received: list[Delivery] = []
        self.failing = False
        self.refuse: set[int] = set()
        self.calls = 0

    @property
    def name(self) -> str:
        return self._name

    async def aclose(self) -> None:
        return None

    def configured(self, route: Route | None = None) -> ConfiguredDestination:
        """This destination as the sync engine takes it, with a routing rule (by default the
        usual one: online orders and invoice payments, never status 0)."""
        return ConfiguredDestination(self._name, route or Route(), self)

    async def deliver(self, batch: Sequence[Delivery]) -> list[DeliveryResult]:
        self.calls += 1
        results = []
        for delivery in batch:
            if self.failing:
                outcome, error = Outcome.RETRY, "503 Service Unavailable"
            elif delivery.order_id in self.refuse:
                outcome, error = Outcome.DEAD, "422 unknown customer"
            else:
                self.received.append(delivery)
                outcome, error = Outcome.DELIVERED, None
            results.append(
                DeliveryResult(
                    idempotency_key=delivery.idempotency_key, outcome=outcome, error=error
                )
            )
        return results


async def migrated(url: str) -> Database:
    """A migrated database with every b2bsync table empty."""
    database = Database(url)
    await database.upgrade()
    names = ", ".join(table.name for table in metadata.sorted_tables)
    if database.dialect == "postgresql":
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty migrated database on SQLite, and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/sync.db"
    else:
        url = request.getfixturevalue("postgres_url")
    database = await migrated(url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """An empty migrated SQLite database."""
    database = await migrated(f"sqlite:///{tmp_path}/sync.db")
    try:
        yield database
    finally:
        await database.close()


@asynccontextmanager
async def sync_context(
    sandbox: RunningSandbox,
    db: Database,
    *,
    destinations: tuple[ConfiguredDestination, ...] = (),
    settings: SyncSettings = DEFAULT_SETTINGS,
    on_response: Callable[[httpx2.Response], Awaitable[None]] | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> AsyncIterator[SyncContext]:
    """A `SyncContext` for the sandbox's store, counting every API call (through `transport`
    when given, e.g. one that alters the sandbox's answers)."""
    counter = CallCounter()
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [counter.on_request]}
    if on_response is not None:
        hooks["response"] = [on_response]
    async with httpx2.AsyncClient(event_hooks=hooks, timeout=15, transport=transport) as http:
        client = BigCommerceClient(
            store_hash=sandbox.config.store_hash,
            access_token=sandbox.config.token,
            api_url=sandbox.base_url,
            b2b_api_url=f"{sandbox.base_url}/b2b",
            http_client=http,
            retry=FAST_RETRY,
            governors=GovernorRegistry(),
        )
        yield SyncContext(
            store=sandbox.config.store_hash,
            client=client,
            db=db,
            destinations=destinations,
            settings=settings,
            calls=counter,
        )


def expected_type(kind: str) -> OrderType:
    """The order type b2bsync must conclude for a ground-truth `kind` of `/__sandbox/orders`."""
    return (
        OrderType.INVOICE_PAYMENT
        if kind == MetafieldOrderType.INVOICE_PAYMENT
        else OrderType.ONLINE_ORDER
    )


def truth(sandbox: RunningSandbox) -> dict[int, dict[str, Any]]:
    """The sandbox's ground truth of every order, by id."""
    response = httpx2.get(f"{sandbox.base_url}/__sandbox/orders", headers=sandbox.headers())
    response.raise_for_status()
    return {row["id"]: row for row in response.json()}


async def ledger(db: Database, store: str) -> dict[int, LedgerEntry]:
    """Every order the ledger has for `store`, by id."""
    async with db.transaction(readonly=True) as tx:
        page = await tx.ledger.list_orders(LedgerQuery(store=store), page_size=100_000)
        return await tx.ledger.current(store, [item.order_id for item in page.items])


async def put_order(sandbox: RunningSandbox, order_id: int, changes: dict[str, Any]) -> None:
    """Change an order through V2 `PUT`, retrying the sandbox's injected faults."""
    async with httpx2.AsyncClient(timeout=10) as http:
        for _ in range(20):
            try:
                response = await http.put(
                    f"{sandbox.store_url}/v2/orders/{order_id}",
                    json=changes,
                    headers={**sandbox.headers(), "Content-Type": "application/json"},
                )
            except httpx2.TransportError:
                continue
            if response.status_code == 200:
                return
            await asyncio.sleep(0.01)
    raise AssertionError(f"could not change order {order_id}")
