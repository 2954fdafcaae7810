"""The `redis` destination: one Redis Stream per delivery kind, deduplicated on the idempotency
key inside Redis itself."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import redis.asyncio as aioredis
import redis.exceptions
from pydantic import SecretStr

from b2bsync.destinations.base import BaseDestination, Prepared
from b2bsync.destinations.brokers import describe_without_password, summary_fields
from b2bsync.domain.delivery import Delivery, DeliveryResult, Outcome

__all__ = ["ADD_ONCE", "RedisStreamDestination", "delivered_set", "stream_name"]

ADD_ONCE = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
if tonumber(ARGV[2]) > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
else
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
"""
"""KEYS: the delivered set, the stream; ARGV: the key, MAXLEN (0: none), the entry's fields.
A script runs atomically in Redis, so an entry and its key in the set are written together or
not at all, whatever happens to the process that sent it."""


def stream_name(prefix: str, delivery: Delivery) -> str:
    """`<prefix>:<kind>`, e.g. `b2bsync:payment`."""
    return f"{prefix}:{delivery.kind.value}"


def delivered_set(prefix: str) -> str:
    """The set of idempotency keys already added to a stream."""
    return f"{prefix}:delivered"


class RedisStreamDestination(BaseDestination[list[str]]):
    """`XADD`s each delivery to the stream of its kind with fields `idempotency_key`, `store`,
    `order_id`, `version`, `order_type` and `delivery` (the `Delivery` as JSON). A key already in
    the delivered set adds nothing, so a re-delivery, in this process or after a restart, is a
    no-op. `maxlen` trims each stream approximately (`MAXLEN ~`); the delivered set is never
    trimmed, so a trimmed entry is not added again."""

    def __init__(
        self,
        name: str,
        *,
        url: SecretStr,
        stream_prefix: str = "b2bsync",
        maxlen: int | None = None,
        timeout_s: float = 10.0,
        max_batch: int = 100,
    ) -> None:
        super().__init__(name, max_batch=max_batch)
        self._url = url
        self._prefix = stream_prefix
        self._maxlen = maxlen or 0
        self._client = aioredis.Redis.from_url(
            url.get_secret_value(), socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._add_once = self._client.register_script(ADD_ONCE)

    def prepare(self, delivery: Delivery) -> list[str]:
        """The script's arguments: key, MAXLEN, then the entry's field/value pairs."""
        return [
            delivery.idempotency_key,
            str(self._maxlen),
            "idempotency_key",
            delivery.idempotency_key,
            *chain.from_iterable(summary_fields(delivery).items()),
            "delivery",
            delivery.model_dump_json(),
        ]

    async def send(self, items: Sequence[Prepared[list[str]]]) -> list[DeliveryResult]:
        """Run the add-once script for every item in one pipelined round trip."""
        async with self._client.pipeline(transaction=False) as pipe:
            for item in items:
                await self._add_once(
                    keys=[delivered_set(self._prefix), stream_name(self._prefix, item.delivery)],
                    args=item.payload,
                    client=pipe,
                )
            answers = await pipe.execute(raise_on_error=False)
        results: list[DeliveryResult] = []
        for item, answer in zip(items, answers, strict=True):
            key = item.delivery.idempotency_key
            if isinstance(answer, Exception):
                results.append(
                    DeliveryResult(
                        idempotency_key=key,
                        outcome=self.classify_error(answer),
                        error=self.describe_error(answer),
                    )
                )
            else:
                results.append(DeliveryResult(idempotency_key=key, outcome=Outcome.DELIVERED))
        return results

    def fails_whole_batch(self, error: Exception) -> bool:
        """A lost connection or a timeout concerns every item of the chunk."""
        return isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)

    def describe_error(self, error: Exception) -> str:
        """The error text without the URL's password."""
        return describe_without_password(error, self._url)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
