"""The amqp destination against the real RabbitMQ: conformance (as seen by a consumer that
deduplicates on `message_id`), the messages it publishes, unroutable messages, a connection that
breaks, and nothing lost after a SIGKILL in the middle of a burst."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import aio_pika.abc
import pytest
from pydantic import SecretStr

from b2bsync.config import load_destination_settings
from b2bsync.destinations import AmqpDestination, build_destinations
from b2bsync.domain.delivery import Outcome
from b2bsync.domain.order_type import OrderType
from tests.brokers import AMQP_URL
from tests.destinations.conformance import (
    MAX_BATCH,
    STORE,
    DestinationConformance,
    Harness,
    make_delivery,
)
from tests.destinations.killed_writer import deliver_until_killed


@dataclass(frozen=True)
class Names:
    """An exchange and a queue of this test's own."""

    exchange: str = field(default_factory=lambda: f"b2bsync-test-{uuid.uuid4().hex[:12]}")

    @property
    def queue(self) -> str:
        return f"{self.exchange}.all"


class Broker:
    """A plain aio-pika client reading what reached a queue; deletes the test's names after."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.received: list[aio_pika.abc.AbstractIncomingMessage] = []
        """Every message taken off the queue so far, duplicates included, in queue order."""

    async def __aenter__(self) -> Broker:
        self.connection = await aio_pika.connect(AMQP_URL)
        self.channel = await self.connection.channel()
        # Declared here too (the destination declares the same), so that reading before the
        # first delivery finds the queue.
        self.queue = await self.channel.declare_queue(self.names.queue, durable=True)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.channel.queue_delete(self.names.queue)
        await self.channel.exchange_delete(self.names.exchange)
        await self.connection.close()

    async def drain(self) -> list[aio_pika.abc.AbstractIncomingMessage]:
        """Take every message now in the queue (a confirmed message is already in it)."""
        while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
            self.received.append(message)
        return self.received

    async def booked(self) -> dict[str, bytes]:
        """What a consumer deduplicating on `message_id` keeps: the first body of each id."""
        first: dict[str, bytes] = {}
        for message in await self.drain():
            assert message.message_id is not None
            first.setdefault(message.message_id, message.body)
        return first


def destination_for(names: Names, **options: Any) -> AmqpDestination:
    settings: dict[str, Any] = {
        "url": SecretStr(AMQP_URL),
        "exchange": names.exchange,
        "queue": names.queue,
        "timeout_s": 5.0,
    }
    settings.update(options)
    return AmqpDestination("bus", **settings)


class AmqpHarness(Harness):
    def __init__(self, destination: AmqpDestination, broker: Broker) -> None:
        self.destination = destination
        self.broker = broker

    async def stored(self) -> dict[str, dict[str, Any]]:
        return {
            key: json.loads(body)["record"] for key, body in (await self.broker.booked()).items()
        }

    async def effect(self) -> object:
        # AMQP cannot refuse a message it has already routed: a re-delivery is published again
        # under the same message_id, and the consumer drops it. What must not change is what a
        # consumer deduplicating on message_id has booked (test_a_redelivery_is_published_again
        # shows the duplicates themselves).
        return sorted((await self.broker.booked()).items())


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    async with Broker(Names()) as running:
        yield running


@pytest.fixture
async def harness(broker: Broker) -> AsyncIterator[AmqpHarness]:
    destination = destination_for(broker.names, max_batch=MAX_BATCH)
    try:
        yield AmqpHarness(destination, broker)
    finally:
        await destination.aclose()


class TestAmqpConformance(DestinationConformance):
    pass


async def test_messages_are_persistent_json_keyed_and_routed_by_kind_and_type(
    harness: AmqpHarness,
) -> None:
    order = make_delivery(1, 2)
    payment = make_delivery(2, order_type=OrderType.INVOICE_PAYMENT)
    unclassified = make_delivery(3, order_type=OrderType.UNCLASSIFIED)
    results = await harness.destination.deliver([order, payment, unclassified])
    assert [r.outcome for r in results] == [Outcome.DELIVERED] * 3
    received = {m.message_id: m for m in await harness.broker.drain()}
    assert set(received) == {f"{STORE}:1:2", f"{STORE}:2:1", f"{STORE}:3:1"}
    assert received[f"{STORE}:1:2"].routing_key == "b2bsync.order.online_order"
    assert received[f"{STORE}:2:1"].routing_key == "b2bsync.payment.invoice_payment"
    assert received[f"{STORE}:3:1"].routing_key == "b2bsync.order.unclassified"
    message = received[f"{STORE}:1:2"]
    assert message.exchange == harness.broker.names.exchange
    assert message.delivery_mode is aio_pika.DeliveryMode.PERSISTENT
    assert message.content_type == "application/json"
    assert message.body == order.model_dump_json().encode()
    assert message.headers == {
        "store": STORE,
        "order_id": "1",
        "version": "2",
        "order_type": "online_order",
    }


async def test_a_redelivery_is_published_again_under_the_same_message_id(
    harness: AmqpHarness,
) -> None:
    batch = [make_delivery(1), make_delivery(2)]
    await harness.destination.deliver(batch)
    await harness.destination.deliver(batch)
    received = await harness.broker.drain()
    assert [m.message_id for m in received] == [f"{STORE}:1:1", f"{STORE}:2:1"] * 2
    assert received[0].body == received[2].body


async def test_an_unroutable_message_is_dead_and_the_rest_delivered(broker: Broker) -> None:
    # The queue takes payments only: an order has nowhere to go and comes back (mandatory).
    destination = destination_for(broker.names, binding_key="b2bsync.payment.#")
    try:
        results = await destination.deliver(
            [make_delivery(1), make_delivery(2, order_type=OrderType.INVOICE_PAYMENT)]
        )
    finally:
        await destination.aclose()
    assert [r.outcome for r in results] == [Outcome.DEAD, Outcome.DELIVERED]
    assert results[0].error is not None
    assert "NO_ROUTE" in results[0].error
    assert [m.message_id for m in await broker.drain()] == [f"{STORE}:2:1"]


async def test_a_missing_exchange_without_declare_is_retry_until_it_exists(broker: Broker) -> None:
    destination = destination_for(broker.names, declare=False, queue=None, timeout_s=2.0)
    try:
        results = await destination.deliver([make_delivery(1), make_delivery(2)])
        assert [r.outcome for r in results] == [Outcome.RETRY] * 2
        assert all(r.error and broker.names.exchange in r.error for r in results)
        exchange = await broker.channel.declare_exchange(
            broker.names.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        await broker.queue.bind(exchange, routing_key="b2bsync.#")
        # The broker closed the channel; aio-pika reopens it in the background.
        for _ in range(50):
            [result] = await destination.deliver([make_delivery(1)])
            if result.outcome is Outcome.DELIVERED:
                break
            await asyncio.sleep(0.2)
        assert result.outcome is Outcome.DELIVERED, result
    finally:
        await destination.aclose()
    assert [m.message_id for m in await broker.drain()] == [f"{STORE}:1:1"]


def _with_credentials(user: str, password: str) -> str:
    parts = urlsplit(AMQP_URL)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


@pytest.mark.parametrize(
    "url",
    [
        "amqp://b2bsync:hunter2-secret@127.0.0.1:1/",
        _with_credentials("b2bsync-nobody", "hunter2-secret"),
    ],
    ids=["unreachable", "login-refused"],
)
async def test_a_broker_that_will_not_have_us_is_retry_without_the_password(url: str) -> None:
    destination = AmqpDestination("bus", url=SecretStr(url), timeout_s=2)
    try:
        results = await destination.deliver([make_delivery(1), make_delivery(2)])
    finally:
        await destination.aclose()
    assert [r.outcome for r in results] == [Outcome.RETRY] * 2
    assert all(r.error and "hunter2" not in r.error for r in results)


def test_error_texts_mask_the_password_as_written_and_percent_decoded() -> None:
    destination = AmqpDestination("bus", url=SecretStr("amqp://u:pa%40ss-word@127.0.0.1/"))
    text = destination.describe_error(ConnectionError("pa%40ss-word, or pa@ss-word"))
    assert text == "ConnectionError: ***, or ***"


class Proxy:
    """A TCP relay to the broker on loopback that the test can cut and restore, as a network
    failure would."""

    def __init__(self) -> None:
        target = urlsplit(AMQP_URL)
        self.target = (target.hostname or "127.0.0.1", target.port or 5672)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    def url(self) -> str:
        parts = urlsplit(AMQP_URL)
        credentials = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{self.port}"))

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.transport.abort()
        await self.server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except ConnectionError:
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def test_a_broken_connection_is_retry_then_reconnects(broker: Broker) -> None:
    proxy = Proxy()
    await proxy.start()
    destination = destination_for(broker.names, url=SecretStr(proxy.url()), timeout_s=1.0)
    try:
        [first] = await destination.deliver([make_delivery(1)])
        assert first.outcome is Outcome.DELIVERED
        await proxy.cut()
        cut_off = await destination.deliver([make_delivery(2), make_delivery(3)])
        assert [r.outcome for r in cut_off] == [Outcome.RETRY] * 2
        await proxy.start()
        # aio-pika reconnects on its own (every 5 s by default).
        for _ in range(60):
            again = await destination.deliver([make_delivery(2), make_delivery(3)])
            if {r.outcome for r in again} == {Outcome.DELIVERED}:
                break
            await asyncio.sleep(0.25)
        assert [r.outcome for r in again] == [Outcome.DELIVERED] * 2
    finally:
        await destination.aclose()
        await proxy.cut()
    assert {f"{STORE}:{order_id}:1" for order_id in (1, 2, 3)} == set(await broker.booked())


async def test_the_registry_builds_it_from_configuration(broker: Broker) -> None:
    settings = load_destination_settings(
        [
            {
                "name": "bus",
                "type": "amqp",
                "url": "${BUS_URL}",
                "exchange": broker.names.exchange,
                "queue": broker.names.queue,
            }
        ],
        environ={"BUS_URL": AMQP_URL},
    )
    [configured] = build_destinations(settings)
    try:
        assert isinstance(configured.destination, AmqpDestination)
        [result] = await configured.destination.deliver([make_delivery(1)])
    finally:
        await configured.destination.aclose()
    assert result.outcome is Outcome.DELIVERED
    assert list(await broker.booked()) == [f"{STORE}:1:1"]


_WRITER = """
import asyncio, sys
from pydantic import SecretStr
from b2bsync.destinations import AmqpDestination
from b2bsync.observability import configure_logging
from tests.destinations.conformance import make_delivery

async def main() -> None:
    configure_logging()  # log lines to stderr; stdout carries the acknowledgements
    destination = AmqpDestination(
        "bus", url=SecretStr(sys.argv[1]), exchange=sys.argv[2], queue=sys.argv[3], max_batch=7
    )
    for start in range(1, 100_000, 7):
        batch = [make_delivery(order_id) for order_id in range(start, start + 7)]
        await destination.deliver(batch)
        print(start + 6, flush=True)

asyncio.run(main())
"""


@pytest.mark.parametrize("kill_after", [3, 60])
async def test_sigkill_mid_burst_then_restart_loses_no_key(broker: Broker, kill_after: int) -> None:
    names = broker.names
    acknowledged = deliver_until_killed(
        _WRITER, [AMQP_URL, names.exchange, names.queue], kill_after
    )
    before = {m.message_id for m in await broker.drain()}
    assert {f"{STORE}:{order_id}:1" for order_id in range(1, acknowledged + 1)} <= before
    # The outbox sends everything not marked delivered again, acknowledged or not.
    everything = [make_delivery(order_id) for order_id in range(1, acknowledged + 50)]
    destination = destination_for(names)
    try:
        results = await destination.deliver(everything)
    finally:
        await destination.aclose()
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    booked = await broker.booked()
    assert set(booked) == {d.idempotency_key for d in everything}
    # Duplicates are whole: every copy of a message_id has the same body, so dropping all but
    # the first loses nothing.
    for message in broker.received:
        assert message.message_id is not None
        assert message.body == booked[message.message_id]
