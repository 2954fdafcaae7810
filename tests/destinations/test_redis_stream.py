"""The redis destination against the real Redis: conformance, the entries it writes, and no
duplicate after a SIGKILL in the middle of a burst."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from b2bsync.destinations import RedisStreamDestination
from b2bsync.domain.delivery import Outcome
from b2bsync.domain.order_type import OrderType
from tests.brokers import REDIS_URL
from tests.destinations.conformance import (
    MAX_BATCH,
    STORE,
    DestinationConformance,
    Harness,
    make_delivery,
)
from tests.destinations.killed_writer import deliver_until_killed

Entry = tuple[str, dict[str, str]]


async def _entries(client: aioredis.Redis, stream: str) -> list[Entry]:
    raw = await client.xrange(stream)
    return [
        (entry_id.decode(), {k.decode(): v.decode() for k, v in fields.items()})
        for entry_id, fields in raw
    ]


class RedisHarness(Harness):
    def __init__(self, destination: RedisStreamDestination, prefix: str) -> None:
        self.destination = destination
        self.prefix = prefix
        self.client = aioredis.Redis.from_url(REDIS_URL)

    async def entries(self) -> list[Entry]:
        return [
            *await _entries(self.client, f"{self.prefix}:order"),
            *await _entries(self.client, f"{self.prefix}:payment"),
        ]

    async def stored(self) -> dict[str, dict[str, Any]]:
        return {
            fields["idempotency_key"]: json.loads(fields["delivery"])["record"]
            for _, fields in await self.entries()
        }

    async def effect(self) -> object:
        members = await self.client.smembers(f"{self.prefix}:delivered")
        return await self.entries(), sorted(members)

    async def aclose(self) -> None:
        keys = [key async for key in self.client.scan_iter(match=f"{self.prefix}:*")]
        if keys:
            await self.client.delete(*keys)
        await self.client.aclose()


def _prefix() -> str:
    return f"b2bsync-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def harness() -> AsyncIterator[RedisHarness]:
    prefix = _prefix()
    destination = RedisStreamDestination(
        "streams", url=SecretStr(REDIS_URL), stream_prefix=prefix, max_batch=MAX_BATCH
    )
    running = RedisHarness(destination, prefix)
    try:
        yield running
    finally:
        await destination.aclose()
        await running.aclose()


class TestRedisConformance(DestinationConformance):
    pass


async def test_each_kind_has_its_stream_and_each_entry_names_its_key(
    harness: RedisHarness,
) -> None:
    order = make_delivery(1, 2)
    payment = make_delivery(2, order_type=OrderType.INVOICE_PAYMENT)
    await harness.destination.deliver([order, payment])
    [(_, order_fields)] = await _entries(harness.client, f"{harness.prefix}:order")
    [(_, payment_fields)] = await _entries(harness.client, f"{harness.prefix}:payment")
    assert order_fields == {
        "idempotency_key": f"{STORE}:1:2",
        "store": STORE,
        "order_id": "1",
        "version": "2",
        "order_type": "online_order",
        "delivery": order.model_dump_json(),
    }
    assert payment_fields["order_type"] == "invoice_payment"
    assert json.loads(payment_fields["delivery"]) == json.loads(payment.model_dump_json())


async def test_a_new_process_adds_nothing_for_keys_already_in_the_stream() -> None:
    prefix = _prefix()
    first = RedisStreamDestination("streams", url=SecretStr(REDIS_URL), stream_prefix=prefix)
    second = RedisStreamDestination("streams", url=SecretStr(REDIS_URL), stream_prefix=prefix)
    harness = RedisHarness(first, prefix)
    try:
        await first.deliver([make_delivery(1), make_delivery(2)])
        await first.aclose()
        results = await second.deliver([make_delivery(1), make_delivery(2), make_delivery(3)])
        assert [r.outcome for r in results] == [Outcome.DELIVERED] * 3
        keys = [fields["idempotency_key"] for _, fields in await harness.entries()]
        assert keys == [f"{STORE}:1:1", f"{STORE}:2:1", f"{STORE}:3:1"]
    finally:
        await second.aclose()
        await harness.aclose()


async def test_maxlen_trims_the_stream_but_keeps_refusing_old_keys() -> None:
    prefix = _prefix()
    destination = RedisStreamDestination(
        "streams", url=SecretStr(REDIS_URL), stream_prefix=prefix, maxlen=1
    )
    harness = RedisHarness(destination, prefix)
    try:
        # MAXLEN ~ trims whole radix-tree nodes (100 entries by default): write well past one.
        batch = [make_delivery(order_id) for order_id in range(1, 302)]
        await destination.deliver(batch)
        length = await harness.client.xlen(f"{prefix}:order")
        assert length < 301
        await destination.deliver(batch[:5])
        assert await harness.client.xlen(f"{prefix}:order") == length
    finally:
        await destination.aclose()
        await harness.aclose()


async def test_an_unreachable_redis_is_retry_without_the_password() -> None:
    destination = RedisStreamDestination(
        "streams",
        url=SecretStr("redis://:hunter2-secret@127.0.0.1:1/0"),
        stream_prefix=_prefix(),
        timeout_s=2,
    )
    try:
        results = await destination.deliver([make_delivery(1), make_delivery(2)])
    finally:
        await destination.aclose()
    assert [r.outcome for r in results] == [Outcome.RETRY] * 2
    assert all(r.error and "hunter2" not in r.error for r in results)


_WRITER = """
import asyncio, sys
from pydantic import SecretStr
from b2bsync.destinations import RedisStreamDestination
from b2bsync.observability import configure_logging
from tests.destinations.conformance import make_delivery

async def main() -> None:
    configure_logging()  # log lines to stderr; stdout carries the acknowledgements
    destination = RedisStreamDestination(
        "streams", url=SecretStr(sys.argv[1]), stream_prefix=sys.argv[2], max_batch=7
    )
    for start in range(1, 100_000, 7):
        batch = [make_delivery(order_id) for order_id in range(start, start + 7)]
        await destination.deliver(batch)
        print(start + 6, flush=True)

asyncio.run(main())
"""


@pytest.mark.parametrize("kill_after", [3, 60])
async def test_sigkill_mid_burst_then_restart_duplicates_no_key(kill_after: int) -> None:
    prefix = _prefix()
    acknowledged = deliver_until_killed(_WRITER, [REDIS_URL, prefix], kill_after)
    destination = RedisStreamDestination("streams", url=SecretStr(REDIS_URL), stream_prefix=prefix)
    harness = RedisHarness(destination, prefix)
    try:
        before = [fields["order_id"] for _, fields in await harness.entries()]
        assert {str(order_id) for order_id in range(1, acknowledged + 1)} <= set(before)
        # The outbox sends everything not marked delivered again, acknowledged or not.
        everything = [make_delivery(order_id) for order_id in range(1, acknowledged + 50)]
        results = await destination.deliver(everything)
        assert {r.outcome for r in results} == {Outcome.DELIVERED}
        keys = [fields["idempotency_key"] for _, fields in await harness.entries()]
        assert sorted(keys) == sorted(d.idempotency_key for d in everything)
    finally:
        await destination.aclose()
        await harness.aclose()
