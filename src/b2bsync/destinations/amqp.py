"""The `amqp` destination: each delivery published to a RabbitMQ topic exchange, persistent and
confirmed by the broker. AMQP has no way to publish a message only once, so a re-delivery is
published again under the same `message_id`; consumers deduplicate on it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import NamedTuple

import aio_pika
import aio_pika.abc
import aiormq.exceptions
from pydantic import SecretStr

from b2bsync.destinations.base import BaseDestination, Prepared
from b2bsync.destinations.brokers import describe_without_password, summary_fields
from b2bsync.domain.delivery import Delivery, DeliveryResult, Outcome

__all__ = ["DEFAULT_BINDING_KEY", "AmqpDestination", "Publication", "routing_key"]

DEFAULT_BINDING_KEY = "b2bsync.#"
"""What a declared queue is bound with: every routing key this destination publishes."""


def routing_key(delivery: Delivery) -> str:
    """`b2bsync.<kind>.<order_type>`, e.g. `b2bsync.payment.invoice_payment`."""
    return f"b2bsync.{delivery.kind.value}.{delivery.record.order_type.value}"


class Publication(NamedTuple):
    """One message and the routing key it is published with."""

    routing_key: str
    message: aio_pika.Message


class AmqpDestination(BaseDestination[Publication]):
    """Publishes each delivery to the topic exchange `exchange` with routing key
    `b2bsync.<kind>.<order_type>`: a persistent `application/json` message whose body is the
    `Delivery`, `message_id` its idempotency key and headers `store`, `order_id`, `version` and
    `order_type`. A delivery is `delivered` once the broker confirmed it; a message no queue is
    bound for comes back (`mandatory`) and is `dead`; a nack, a closed channel, a lost connection
    or no confirm within `timeout_s` is `retry`.

    With `declare`, the exchange (durable) is declared on connecting and, when `queue` is given,
    that durable queue too, bound with `binding_key`. The connection is opened on first use and
    re-established by aio-pika when it drops."""

    def __init__(
        self,
        name: str,
        *,
        url: SecretStr,
        exchange: str = "b2bsync",
        declare: bool = True,
        queue: str | None = None,
        binding_key: str = DEFAULT_BINDING_KEY,
        timeout_s: float = 10.0,
        max_batch: int = 100,
    ) -> None:
        super().__init__(name, max_batch=max_batch)
        if queue is not None and not declare:
            raise ValueError("queue needs declare=True")
        self._url = url
        self._exchange_name = exchange
        self._declare = declare
        self._queue = queue
        self._binding_key = binding_key
        self._timeout_s = timeout_s
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        # Concurrent first batches must share one connection rather than each open their own.
        self._opening = asyncio.Lock()

    def prepare(self, delivery: Delivery) -> Publication:
        """The routing key and the message."""
        headers: aio_pika.abc.HeadersType = {**summary_fields(delivery)}
        message = aio_pika.Message(
            delivery.model_dump_json().encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=delivery.idempotency_key,
            headers=headers,
        )
        return Publication(routing_key(delivery), message)

    async def send(self, items: Sequence[Prepared[Publication]]) -> list[DeliveryResult]:
        """Publish every item at once and wait for all the broker's confirms. A key that occurs
        twice in `items` is published once: aiormq matches a returned message to its publication
        by `message_id`, so two in flight under one id could not be told apart."""
        exchange = await self._open()
        unique = {item.delivery.idempotency_key: item for item in items}
        answers = await asyncio.gather(*(self._publish(exchange, item) for item in unique.values()))
        by_key = dict(zip(unique, answers, strict=True))
        return [by_key[item.delivery.idempotency_key] for item in items]

    async def _publish(
        self, exchange: aio_pika.abc.AbstractExchange, item: Prepared[Publication]
    ) -> DeliveryResult:
        key = item.delivery.idempotency_key
        try:
            # The timeout also bounds the wait for a connection aio-pika is re-establishing.
            async with asyncio.timeout(self._timeout_s):
                await exchange.publish(
                    item.payload.message, item.payload.routing_key, mandatory=True
                )
        except TimeoutError:
            return DeliveryResult(
                idempotency_key=key,
                outcome=Outcome.RETRY,
                error=f"TimeoutError: no confirm from the broker within {self._timeout_s:g} s",
            )
        except Exception as error:  # each item's own outcome; the others are unaffected
            return DeliveryResult(
                idempotency_key=key,
                outcome=self.classify_error(error),
                error=self.describe_error(error),
            )
        return DeliveryResult(idempotency_key=key, outcome=Outcome.DELIVERED)

    async def _open(self) -> aio_pika.abc.AbstractExchange:
        """The exchange to publish to, connecting (and declaring) on first use."""
        async with self._opening:
            if self._exchange is not None:
                return self._exchange
            # Bounded by its own timeout: cancelling it would leave its reconnect task running.
            connection = await aio_pika.connect_robust(
                self._url.get_secret_value(), timeout=self._timeout_s
            )
            try:
                async with asyncio.timeout(self._timeout_s):
                    self._exchange = await self._setup(connection)
            except BaseException:
                await connection.close()
                raise
            self._connection = connection
            return self._exchange

    async def _setup(
        self, connection: aio_pika.abc.AbstractRobustConnection
    ) -> aio_pika.abc.AbstractExchange:
        # on_return_raises: a returned (unroutable) message fails its publish with PublishError
        # instead of completing it with the returned message.
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        if not self._declare:
            return await channel.get_exchange(self._exchange_name, ensure=False)
        exchange = await channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        if self._queue is not None:
            queue = await channel.declare_queue(self._queue, durable=True)
            await queue.bind(exchange, routing_key=self._binding_key)
        return exchange

    def classify_error(self, error: Exception) -> Outcome:
        """A message no queue is bound for is `dead`; every other failure is `retry`."""
        if isinstance(error, aiormq.exceptions.PublishError):
            return Outcome.DEAD
        return super().classify_error(error)

    def fails_whole_batch(self, error: Exception) -> bool:
        """`send` settles each item itself; what it raises comes from connecting or declaring,
        which concerns every item of the chunk."""
        return isinstance(error, ConnectionError | TimeoutError | aiormq.exceptions.AMQPError)

    def describe_error(self, error: Exception) -> str:
        """The error text without the URL's password."""
        return describe_without_password(error, self._url)

    async def aclose(self) -> None:
        """Close the connection (and with it the channel)."""
        async with self._opening:
            connection, self._connection, self._exchange = self._connection, None, None
            if connection is not None:
                await connection.close()
