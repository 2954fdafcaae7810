"""The `amqp` destination: persistent messages on a RabbitMQ topic exchange, with publisher
confirms, for ERPs whose middleware listens on a broker."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import urlsplit

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from aio_pika.exceptions import PublishError
from pydantic import SecretStr

from b2bsync.destinations.base import BaseDestination, Prepared, error_text
from b2bsync.domain.delivery import Delivery, DeliveryResult, Outcome

__all__ = ["REMEMBERED_KEYS", "AmqpDestination", "routing_key"]

REMEMBERED_KEYS = 100_000
"""Confirmed keys kept in memory, so that a re-delivery within one process publishes nothing."""


def routing_key(prefix: str, delivery: Delivery) -> str:
    """`<prefix>.<kind>.<order type>`, e.g. `b2bsync.payment.invoice_payment`."""
    return f"{prefix}.{delivery.kind.value}.{delivery.record.order_type.value}"


class AmqpDestination(BaseDestination[aio_pika.Message]):
    """Publishes each delivery (the `Delivery` as JSON) as a persistent message with
    `message_id` = the idempotency key, `mandatory` set, and waits for the broker's confirm
    before it says DELIVERED.

    An unroutable message (no queue bound for its routing key) comes back to us and is DEAD:
    sending it again cannot route it. A negative confirm, a closed channel or a lost connection
    is RETRY; the connection is opened again on the next attempt. Keys already confirmed in this
    process are not published again; across restarts a consumer deduplicates on `message_id`
    (the outbox may re-send a delivery whose confirm arrived just before a crash).
    """

    def __init__(
        self,
        name: str,
        *,
        url: SecretStr,
        exchange: str,
        routing_prefix: str = "b2bsync",
        declare: bool = True,
        queue: str | None = None,
        timeout_s: float = 10.0,
        max_batch: int = 100,
    ) -> None:
        super().__init__(name, max_batch=max_batch)
        self._url = url
        self._exchange_name = exchange
        self._prefix = routing_prefix
        self._declare = declare
        self._queue = queue
        self._timeout_s = timeout_s
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._confirmed: OrderedDict[str, None] = OrderedDict()
        self._lock = asyncio.Lock()

    def prepare(self, delivery: Delivery) -> aio_pika.Message:
        """A persistent JSON message whose `message_id` is the idempotency key."""
        return aio_pika.Message(
            delivery.model_dump_json().encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=delivery.idempotency_key,
            type=delivery.kind.value,
            headers={
                "store": delivery.store,
                "order_id": delivery.order_id,
                "version": delivery.version,
                "order_type": delivery.record.order_type.value,
            },
        )

    async def send(self, items: Sequence[Prepared[aio_pika.Message]]) -> list[DeliveryResult]:
        """Publish the items not yet confirmed, all at once, and wait for every confirm."""
        exchange = await self._open()
        fresh: dict[str, Prepared[aio_pika.Message]] = {}
        for item in items:
            key = item.delivery.idempotency_key
            if key not in self._confirmed:
                fresh.setdefault(key, item)
        answers = await asyncio.gather(
            *(
                exchange.publish(
                    item.payload,
                    routing_key(self._prefix, item.delivery),
                    mandatory=True,
                    timeout=self._timeout_s,
                )
                for item in fresh.values()
            ),
            return_exceptions=True,
        )
        failures: dict[str, DeliveryResult] = {}
        for key, answer in zip(fresh, answers, strict=True):
            if isinstance(answer, BaseException):
                if not isinstance(answer, Exception):
                    raise answer
                if self.fails_whole_batch(answer):
                    raise answer
                failures[key] = DeliveryResult(
                    idempotency_key=key,
                    outcome=self.classify_error(answer),
                    error=self.describe_error(answer),
                )
            else:
                self._remember(key)
        return [
            failures.get(item.delivery.idempotency_key)
            or DeliveryResult(
                idempotency_key=item.delivery.idempotency_key, outcome=Outcome.DELIVERED
            )
            for item in items
        ]

    def classify_error(self, error: Exception) -> Outcome:
        """Returned as unroutable: DEAD; anything else (a nack, a timeout, a closed channel):
        RETRY."""
        return Outcome.DEAD if isinstance(error, PublishError) else Outcome.RETRY

    def fails_whole_batch(self, error: Exception) -> bool:
        """A lost connection or channel fails every message of the chunk; the connection is
        dropped so the next attempt opens a new one."""
        if isinstance(error, PublishError):
            return False
        if isinstance(
            error,
            aio_pika.exceptions.AMQPConnectionError
            | aio_pika.exceptions.ChannelClosed
            | aio_pika.exceptions.ChannelInvalidStateError
            | OSError,
        ):
            self._forget_connection()
            return True
        return False

    def describe_error(self, error: Exception) -> str:
        """The error text without the URL's password."""
        text = error_text(error)
        password = self._password()
        return text.replace(password, "***") if password else text

    async def aclose(self) -> None:
        """Close the connection."""
        async with self._lock:
            connection = self._connection
            self._forget_connection()
            if connection is not None and not connection.is_closed:
                await connection.close()

    def _password(self) -> str:
        return urlsplit(self._url.get_secret_value()).password or ""

    def _forget_connection(self) -> None:
        self._connection = None
        self._channel = None
        self._exchange = None

    def _remember(self, key: str) -> None:
        self._confirmed[key] = None
        if len(self._confirmed) > REMEMBERED_KEYS:
            self._confirmed.popitem(last=False)

    async def _open(self) -> AbstractExchange:
        async with self._lock:
            if (
                self._exchange is not None
                and self._channel is not None
                and not self._channel.is_closed
            ):
                return self._exchange
            old = self._connection
            self._forget_connection()
            if old is not None and not old.is_closed:
                await old.close()
            connection = await aio_pika.connect(
                self._url.get_secret_value(), timeout=self._timeout_s
            )
            try:
                channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                if self._declare:
                    exchange = await channel.declare_exchange(
                        self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
                    )
                else:
                    exchange = await channel.get_exchange(self._exchange_name, ensure=True)
                if self._queue is not None:
                    queue = await channel.declare_queue(self._queue, durable=True)
                    await queue.bind(exchange, routing_key=f"{self._prefix}.#")
            except BaseException:
                await connection.close()
                raise
            self._connection, self._channel, self._exchange = connection, channel, exchange
            return exchange
