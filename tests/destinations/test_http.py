"""The http destination against a real receiver on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from b2bsync import __version__
from b2bsync.destinations import HttpDestination
from b2bsync.destinations.http import BODY_EXCERPT_CHARS, _excerpt, outcome_for_status
from b2bsync.domain.delivery import Delivery, Outcome
from tests.destinations.conformance import (
    MAX_BATCH,
    DestinationConformance,
    Harness,
    make_delivery,
)
from tests.receivers import RECEIVER_SECRET, Receiver, run_receiver


class HttpHarness(Harness):
    def __init__(self, destination: HttpDestination, receiver: Receiver) -> None:
        self.destination = destination
        self.receiver = receiver

    async def stored(self) -> dict[str, dict[str, Any]]:
        return {key: body["record"] for key, body in self.receiver.accepted.items()}

    async def effect(self) -> object:
        # A re-sent request reaches the receiver again; what must not change is what it booked.
        return json.dumps(self.receiver.accepted, sort_keys=True)

    def poison(self) -> list[Delivery]:
        self.receiver.reject_order_ids.add(903)
        return [make_delivery(903)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as running:
        yield running


def _destination(receiver: Receiver, **options: Any) -> HttpDestination:
    settings: dict[str, Any] = {
        "url": receiver.url,
        "secret": SecretStr(RECEIVER_SECRET),
        "max_batch": MAX_BATCH,
        "timeout_s": 2.0,
    }
    settings.update(options)
    return HttpDestination("erp-hook", **settings)


@pytest.fixture(params=[False, True], ids=["per-delivery", "batch"])
async def harness(request: pytest.FixtureRequest, receiver: Receiver) -> AsyncIterator[HttpHarness]:
    destination = _destination(receiver, batch=request.param)
    try:
        yield HttpHarness(destination, receiver)
    finally:
        await destination.aclose()


@pytest.fixture
async def per_delivery(receiver: Receiver) -> AsyncIterator[HttpHarness]:
    destination = _destination(receiver)
    try:
        yield HttpHarness(destination, receiver)
    finally:
        await destination.aclose()


class TestHttpConformance(DestinationConformance):
    pass


async def test_request_carries_the_delivery_signed(per_delivery: HttpHarness) -> None:
    delivery = make_delivery(1, 3)
    await per_delivery.destination.deliver([delivery])
    [request] = per_delivery.receiver.requests
    assert request.signature_error is None
    assert request.status == 200
    assert json.loads(request.body) == json.loads(delivery.model_dump_json())
    assert set(json.loads(request.body)) == {
        "idempotency_key",
        "store",
        "order_id",
        "version",
        "kind",
        "record",
    }
    assert request.headers["idempotency-key"] == delivery.idempotency_key
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"b2bsync/{__version__}"
    assert request.headers["x-b2bsync-signature"].startswith("v1=")
    assert request.headers["x-b2bsync-timestamp"].isdigit()
    assert RECEIVER_SECRET not in json.dumps(request.headers)


async def test_extra_headers_are_sent(receiver: Receiver) -> None:
    destination = _destination(
        receiver, headers={"Authorization": SecretStr("Bearer erp-token-123")}
    )
    try:
        await destination.deliver([make_delivery(1)])
    finally:
        await destination.aclose()
    assert receiver.requests[0].headers["authorization"] == "Bearer erp-token-123"


async def test_a_wrong_secret_is_refused_by_the_receiver_and_dead(receiver: Receiver) -> None:
    destination = _destination(receiver, secret=SecretStr("not-the-receivers-secret"))
    try:
        [result] = await destination.deliver([make_delivery(1)])
    finally:
        await destination.aclose()
    assert result.outcome is Outcome.DEAD
    assert result.error is not None
    assert result.error.startswith("HTTP 401: ")
    assert "signature does not match" in result.error
    assert "not-the-receivers-secret" not in result.error
    assert receiver.accepted == {}


async def test_500_for_a_while_then_everything_arrives(per_delivery: HttpHarness) -> None:
    batch = [make_delivery(order_id) for order_id in (1, 2, 3)]
    per_delivery.receiver.statuses.extend([500, 503, 500, 502, 500, 500])
    first = await per_delivery.destination.deliver(batch)
    assert [r.outcome for r in first] == [Outcome.RETRY] * 3
    assert all(r.error and r.error.startswith("HTTP 5") for r in first)
    second = await per_delivery.destination.deliver(batch)
    assert [r.outcome for r in second] == [Outcome.RETRY] * 3
    assert per_delivery.receiver.accepted == {}
    third = await per_delivery.destination.deliver(batch)
    assert [r.outcome for r in third] == [Outcome.DELIVERED] * 3
    assert set(per_delivery.receiver.accepted) == {d.idempotency_key for d in batch}
    # Every attempt of one delivery carried the same key, so the receiver can deduplicate.
    keys = [r.headers["idempotency-key"] for r in per_delivery.receiver.requests]
    assert sorted(keys) == sorted([d.idempotency_key for d in batch] * 3)


async def test_400_is_dead_with_the_status_and_a_bounded_body(per_delivery: HttpHarness) -> None:
    per_delivery.receiver.statuses.append(400)
    per_delivery.receiver.statuses.append(429)
    [dead, retry] = await per_delivery.destination.deliver([make_delivery(1), make_delivery(2)])
    outcomes = sorted([dead.outcome, retry.outcome])
    # The two requests race; which one met which status does not matter.
    assert outcomes == sorted([Outcome.DEAD, Outcome.RETRY])
    refused = dead if dead.outcome is Outcome.DEAD else retry
    assert refused.error == 'HTTP 400: {"error":"scripted 400"}'


async def test_a_timeout_is_retry(per_delivery: HttpHarness, receiver: Receiver) -> None:
    receiver.delay_s = 1.0
    destination = _destination(receiver, timeout_s=0.2)
    try:
        [result] = await destination.deliver([make_delivery(1)])
    finally:
        await destination.aclose()
    assert result.outcome is Outcome.RETRY
    assert result.error is not None
    assert "no answer within 0.2 s" in result.error


async def test_a_receiver_that_is_not_listening_is_retry() -> None:
    with run_receiver() as gone:
        url = gone.url
    destination = HttpDestination("gone", url=url, secret=SecretStr(RECEIVER_SECRET))
    try:
        [result] = await destination.deliver([make_delivery(1)])
    finally:
        await destination.aclose()
    assert result.outcome is Outcome.RETRY
    assert result.error is not None
    assert result.error.startswith("transport error: ConnectError")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (301, Outcome.DEAD),
        (400, Outcome.DEAD),
        (401, Outcome.DEAD),
        (404, Outcome.DEAD),
        (409, Outcome.DEAD),
        (422, Outcome.DEAD),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
    ],
)
def test_status_outcomes(status: int, outcome: Outcome) -> None:
    assert outcome_for_status(status) is outcome


def test_the_body_excerpt_is_bounded() -> None:
    excerpt = _excerpt("x" * 5000 + "\n\n  y")
    assert len(excerpt) == BODY_EXCERPT_CHARS
    assert excerpt.endswith("…")
    assert _excerpt("a\n  b") == "a b"


async def test_a_shared_client_is_used_and_left_open(receiver: Receiver) -> None:
    async with httpx2.AsyncClient(headers={"X-Shared-Pool": "yes"}) as client:
        destination = _destination(receiver, client=client)
        [result] = await destination.deliver([make_delivery(1)])
        await destination.aclose()
        assert not client.is_closed
    assert result.outcome is Outcome.DELIVERED
    assert receiver.requests[0].headers["x-shared-pool"] == "yes"


async def test_a_batch_is_one_signed_request_per_chunk(receiver: Receiver) -> None:
    destination = _destination(receiver, batch=True, max_batch=4)
    batch = [make_delivery(order_id) for order_id in range(1, 7)]
    try:
        results = await destination.deliver(batch)
    finally:
        await destination.aclose()
    assert [r.outcome for r in results] == [Outcome.DELIVERED] * 6
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.signature_error is None
    assert [d["idempotency_key"] for d in json.loads(first.body)["deliveries"]] == [
        d.idempotency_key for d in batch[:4]
    ]
    assert len(json.loads(second.body)["deliveries"]) == 2
    assert first.headers["idempotency-key"].startswith("batch:")
    assert first.headers["idempotency-key"] != second.headers["idempotency-key"]


async def test_a_refused_batch_is_resent_one_by_one(receiver: Receiver) -> None:
    receiver.reject_order_ids.add(2)
    destination = _destination(receiver, batch=True)
    batch = [make_delivery(order_id) for order_id in (1, 2, 3)]
    try:
        results = await destination.deliver(batch)
    finally:
        await destination.aclose()
    assert [r.outcome for r in results] == [Outcome.DELIVERED, Outcome.DEAD, Outcome.DELIVERED]
    assert results[1].error == 'HTTP 422: {"error":"order refused by the receiver"}'
    assert [len(json.loads(r.body)["deliveries"]) for r in receiver.requests] == [3, 1, 1, 1]
    assert set(receiver.accepted) == {batch[0].idempotency_key, batch[2].idempotency_key}


async def test_a_batch_answered_503_is_retried_whole(receiver: Receiver) -> None:
    receiver.statuses.append(503)
    destination = _destination(receiver, batch=True)
    batch = [make_delivery(order_id) for order_id in (1, 2, 3)]
    try:
        first = await destination.deliver(batch)
        second = await destination.deliver(batch)
    finally:
        await destination.aclose()
    assert [r.outcome for r in first] == [Outcome.RETRY] * 3
    assert all(r.error == 'HTTP 503: {"error":"scripted 503"}' for r in first)
    assert [r.outcome for r in second] == [Outcome.DELIVERED] * 3
    assert len(receiver.requests) == 2
