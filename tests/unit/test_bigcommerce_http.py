"""The request choke point over `httpx2.MockTransport`: what the sandbox cannot produce
(bare 429s, malformed JSON, HTML 200s, bodies cut short), retries, error decoding, redaction."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest
import structlog
from prometheus_client import REGISTRY

from b2bsync.bigcommerce import (
    BadPayload,
    BigCommerceClient,
    Conflict,
    GovernorRegistry,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportFailure,
    Unauthorized,
    ValidationFailed,
)
from b2bsync.bigcommerce._errors import BigCommerceError, FatalError, RetriableError
from b2bsync.bigcommerce._retry import retry_decider

TOKEN = "tok-SECRET-0123456789"
FAST = RetryPolicy(
    attempts=4, timeout_s=10.0, wait_initial_s=0.001, wait_max_s=0.01, wait_jitter_s=0.0
)
Handler = Callable[[httpx2.Request], httpx2.Response]

STORE_LIMIT_HEADERS = {
    "X-Rate-Limit-Requests-Quota": "150",
    "X-Rate-Limit-Requests-Left": "149",
    "X-Rate-Limit-Time-Reset-Ms": "29000",
    "X-Rate-Limit-Time-Window-Ms": "30000",
}


def client_for(handler: Handler, *, retry: RetryPolicy = FAST) -> BigCommerceClient:
    return BigCommerceClient(
        store_hash="abc123",
        access_token=TOKEN,
        transport=httpx2.MockTransport(handler),
        retry=retry,
        governors=GovernorRegistry(),
    )


def order_json(order_id: int) -> dict[str, Any]:
    return {
        "id": order_id,
        "date_created": "Tue, 20 Nov 2012 00:00:00 +0000",
        "date_modified": "Tue, 20 Nov 2012 00:00:00 +0000",
        "status_id": 11,
    }


class Recorder:
    """A handler answering from a list of responses in turn, remembering the requests."""

    def __init__(self, *responses: httpx2.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.responses[min(len(self.requests), len(self.responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_store_and_b2b_requests_carry_their_auth_headers() -> None:
    recorder = Recorder(httpx2.Response(200, json={"code": 200, "data": {"companyId": 1}}))
    async with client_for(recorder) as client:
        await client.b2b.company(1)
        recorder.responses = [httpx2.Response(200, json=order_json(5))]
        await client.orders.update(5, {"status_id": 2})
    b2b, store = recorder.requests
    assert str(b2b.url) == "https://api-b2b.bigcommerce.com/api/v3/io/companies/1"
    assert b2b.headers["X-Auth-Token"] == TOKEN
    assert b2b.headers["X-Store-Hash"] == "abc123"
    assert str(store.url) == "https://api.bigcommerce.com/stores/abc123/v2/orders/5"
    assert "X-Store-Hash" not in store.headers
    assert store.headers["Accept"] == "application/json"
    assert store.headers["Content-Type"] == "application/json"
    assert json.loads(store.content) == {"status_id": 2}


@pytest.mark.parametrize("empty", [httpx2.Response(204), httpx2.Response(200, json=[])])
async def test_v2_empty_collection_is_204_or_empty_array(empty: httpx2.Response) -> None:
    recorder = Recorder(empty)
    async with client_for(recorder) as client:
        assert [order async for order in client.orders.iterate()] == []
        assert await client.orders.shipments(1) == []
        assert await client.orders.page() == []


async def test_v2_paging_stops_on_a_short_page_and_at_max_id() -> None:
    pages: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params["page"])
        limit = int(request.url.params["limit"])
        pages.append(page)
        first, last = (page - 1) * limit + 1, min(page * limit, 25)
        return httpx2.Response(200, json=[order_json(i) for i in range(first, last + 1)])

    async with client_for(handler) as client:
        ids = [order.id async for order in client.orders.iterate(page_size=10)]
        assert ids == list(range(1, 26))
        assert pages == [1, 2, 3]
        pages.clear()
        bounded = [o.id async for o in client.orders.iterate({"max_id": 20}, page_size=10)]
    # Two full pages reach max_id=20: no third request for an empty page.
    assert bounded == list(range(1, 21))
    assert pages == [1, 2]


async def test_get_is_retried_after_5xx() -> None:
    recorder = Recorder(
        httpx2.Response(502, text="<html>Bad gateway</html>"),
        httpx2.Response(503, json=[{"status": 503, "message": "busy"}]),
        httpx2.Response(200, json=order_json(9)),
    )
    async with client_for(recorder) as client:
        order = await client.orders.get(9)
    assert order.id == 9
    assert len(recorder.requests) == 3


async def test_post_is_not_retried_after_5xx() -> None:
    recorder = Recorder(httpx2.Response(500, json=[{"status": 500, "message": "oops"}]))
    async with client_for(recorder) as client:
        with pytest.raises(ServerError) as caught:
            await client.orders.create({"products": []})
    assert len(recorder.requests) == 1
    assert caught.value.status == 500
    assert caught.value.server_message == "oops"
    assert caught.value.method == "POST"
    assert caught.value.path == "/v2/orders"


async def test_post_is_retried_when_it_never_reached_the_server() -> None:
    recorder = Recorder(httpx2.ConnectError("refused"), httpx2.Response(200, json=order_json(3)))
    async with client_for(recorder) as client:
        order = await client.orders.create({"products": []})
    assert order.id == 3
    assert len(recorder.requests) == 2


async def test_post_is_not_retried_when_the_answer_was_lost() -> None:
    recorder = Recorder(httpx2.ReadError("reset"), httpx2.Response(200, json=order_json(3)))
    async with client_for(recorder) as client:
        with pytest.raises(TransportFailure) as caught:
            await client.orders.create({"products": []})
    assert len(recorder.requests) == 1
    assert caught.value.reached_server


async def test_post_is_retried_after_429() -> None:
    recorder = Recorder(
        httpx2.Response(429, headers={**STORE_LIMIT_HEADERS, "X-Rate-Limit-Time-Reset-Ms": "10"}),
        httpx2.Response(200, json={"data": {"id": 1, "scope": "s", "destination": "d"}}),
    )
    async with client_for(recorder) as client:
        hook = await client.hooks.create(scope="s", destination="d")
    assert hook.id == 1
    assert len(recorder.requests) == 2


async def test_429_waits_the_longer_of_reset_and_retry_after() -> None:
    throttled = httpx2.Response(
        429,
        headers={**STORE_LIMIT_HEADERS, "X-Rate-Limit-Time-Reset-Ms": "50", "X-Retry-After": "1"},
        json=[{"status": 429, "message": "Too many requests"}],
    )
    recorder = Recorder(throttled, httpx2.Response(200, json=order_json(1)))
    async with client_for(recorder) as client:
        started = time.monotonic()
        await client.orders.get(1)
        elapsed = time.monotonic() - started
        snapshot = client.store_http.governor.snapshot()
    assert elapsed >= 0.95
    assert snapshot.throttled == 1


async def test_429_without_headers_backs_off_alone() -> None:
    recorder = Recorder(
        httpx2.Response(429, text="slow down"),
        httpx2.Response(429),
        httpx2.Response(200, json=order_json(1)),
    )
    async with client_for(recorder) as client:
        await client.orders.get(1)
        snapshot = client.store_http.governor.snapshot()
    assert len(recorder.requests) == 3
    assert snapshot.throttled == 0
    assert snapshot.blocked_for_s == 0


async def test_persistent_429_gives_up_with_rate_limited() -> None:
    recorder = Recorder(httpx2.Response(429, text="load shedding"))
    async with client_for(recorder) as client:
        with pytest.raises(RateLimited) as caught:
            await client.orders.get(1)
    assert len(recorder.requests) == FAST.attempts
    assert caught.value.wait_s is None
    assert isinstance(caught.value, RetriableError)


async def test_malformed_json_is_a_bad_payload_not_retried() -> None:
    recorder = Recorder(
        httpx2.Response(200, text='[{"id": 1,', headers={"Content-Type": "application/json"})
    )
    async with client_for(recorder) as client:
        with pytest.raises(BadPayload) as caught:
            await client.orders.get(1)
    assert len(recorder.requests) == 1
    assert '[{"id": 1,' in str(caught.value)


async def test_html_200_is_a_bad_payload() -> None:
    page = "<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>"
    recorder = Recorder(httpx2.Response(200, text=page, headers={"Content-Type": "text/html"}))
    async with client_for(recorder) as client:
        with pytest.raises(BadPayload, match="Maintenance") as caught:
            await client.b2b.invoice(4)
    assert isinstance(caught.value, FatalError)
    assert caught.value.status == 200


class BodyStream(httpx2.AsyncByteStream):
    """A body read from the wire only when the client reads it."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body


class CutShortStream(httpx2.AsyncByteStream):
    """Promises a body and loses the connection half-way."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'[{"id": 1, "date_created": "Tue, 20 Nov'
        raise self.error


@pytest.mark.parametrize(
    "error", [httpx2.RemoteProtocolError("peer closed"), httpx2.ReadError("reset by peer")]
)
async def test_connection_reset_mid_body(error: Exception) -> None:
    calls = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx2.Response(200, stream=CutShortStream(error))
        return httpx2.Response(200, json=order_json(1))

    async with client_for(handler) as client:
        assert (await client.orders.get(1)).id == 1
    assert calls == 2

    def always_broken(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, stream=CutShortStream(error))

    async with client_for(always_broken) as client:
        with pytest.raises(TransportFailure) as caught:
            await client.orders.get(1)
    assert caught.value.server_message == type(error).__name__


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (
            404,
            [{"status": 404, "message": "The requested resource was not found."}],
            NotFound,
            "The requested resource was not found.",
        ),
        (
            401,
            {"status": 401, "title": "Unauthorized", "type": "x", "errors": {}},
            Unauthorized,
            "Unauthorized",
        ),
        (
            409,
            {"status": 409, "title": "Conflict", "errors": {"key": "taken"}},
            Conflict,
            "Conflict (key: taken)",
        ),
        (
            422,
            {"code": 422, "data": {"errMsg": "poNumber too long"}, "meta": {"message": "Invalid"}},
            ValidationFailed,
            "poNumber too long",
        ),
    ],
)
async def test_error_statuses_map_to_the_tree(
    status: int, body: Any, kind: type[BigCommerceError], message: str
) -> None:
    recorder = Recorder(httpx2.Response(status, json=body))
    async with client_for(recorder) as client:
        with pytest.raises(kind) as caught:
            await client.orders.get(77)
    assert caught.value.server_message == message
    assert caught.value.status == status
    assert str(caught.value).startswith((kind.__doc__ or "").strip())
    assert "GET https://api.bigcommerce.com/stores/abc123/v2/orders/77" in str(caught.value)
    assert len(recorder.requests) == 1


async def test_errors_never_contain_the_token() -> None:
    echo = [{"status": 401, "message": f"token {TOKEN} is not valid for this store"}]
    recorder = Recorder(httpx2.Response(401, json=echo))
    async with client_for(recorder) as client:
        with pytest.raises(Unauthorized) as caught:
            await client.orders.get(1)
        assert TOKEN not in repr(client) + repr(client.store_http)
    error = caught.value
    for text in (str(error), repr(error), error.server_message, *map(str, error.args)):
        assert TOKEN not in text
    assert "[redacted]" in error.server_message


async def test_b2b_order_data_may_be_an_object_or_a_one_element_array() -> None:
    record = {"id": 3, "bcOrderId": 101, "isInvoiceOrder": "1", "invoiceId": "55"}
    for data in (record, [record]):
        recorder = Recorder(httpx2.Response(200, json={"code": 200, "data": data}))
        async with client_for(recorder) as client:
            order = await client.b2b.order(101)
        assert (order.bc_order_id, order.is_invoice_order, order.invoice_id) == (101, 1, 55)


@pytest.mark.parametrize("nested", [True, False])
async def test_b2b_pagination_meta_nested_or_flat(nested: bool) -> None:
    companies = [{"companyId": i, "companyName": f"C{i}"} for i in range(1, 6)]
    offsets: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        offsets.append(offset)
        counts = {"totalCount": "5", "offset": offset, "limit": limit}
        meta = {"message": "SUCCESS", **({"pagination": counts} if nested else counts)}
        return httpx2.Response(
            200, json={"code": 200, "meta": meta, "data": companies[offset : offset + limit]}
        )

    async with client_for(handler) as client:
        ids = [company.company_id async for company in client.b2b.companies(page_size=2)]
    assert ids == [1, 2, 3, 4, 5]
    assert offsets == [0, 2, 4]


async def test_v3_batch_metafields_follow_the_cursor() -> None:
    def metafield(i: int) -> dict[str, Any]:
        return {
            "id": i,
            "key": "orderType",
            "value": "online order",
            "namespace": "b2b_edition",
            "resource_id": str(100 + i),
            "date_created": "2024-01-01T00:00:00+00:00",
        }

    pages = {None: ([1, 2], "c2"), "c2": ([3, 4], "c4"), "c4": ([5], "c5")}
    seen: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        after = request.url.params.get("after")
        seen.append(after)
        ids, end = pages[after]
        return httpx2.Response(
            200,
            json={
                "data": [metafield(i) for i in ids],
                "meta": {
                    "cursor_pagination": {
                        "count": len(ids),
                        "per_page": 2,
                        "start_cursor": "x",
                        "end_cursor": end,
                        "links": {"next": f"?after={end}"},
                    }
                },
            },
        )

    async with client_for(handler) as client:
        found = [m async for m in client.metafields.iterate_all({"key": "orderType"}, page_size=2)]
    assert [m.resource_id for m in found] == [101, 102, 103, 104, 105]
    assert seen == [None, "c2", "c4"]


async def test_requests_are_counted_per_operation_and_status() -> None:
    def value() -> float:
        sample = REGISTRY.get_sample_value(
            "b2bsync_api_requests_total",
            {
                "store": "abc123",
                "family": "store",
                "operation": "v2.order_statuses.get",
                "status": "200",
            },
        )
        return sample or 0.0

    before = value()
    recorder = Recorder(httpx2.Response(200, json={"id": 11, "name": "Awaiting Fulfillment"}))
    async with client_for(recorder) as client:
        status = await client.orders.status(11)
    assert status.name == "Awaiting Fulfillment"
    assert value() == before + 1


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (RateLimited(wait_s=3.5), False, 3.5),
        (RateLimited(), False, True),
        (TransportFailure(reached_server=False), False, True),
        (TransportFailure(reached_server=True), False, False),
        (TransportFailure(reached_server=True), True, True),
        (ServerError(), False, False),
        (ServerError(), True, True),
        (NotFound(), True, False),
        (BadPayload(), True, False),
    ],
)
def test_retry_decisions(error: Exception, idempotent: bool, expected: bool | float) -> None:
    assert retry_decider(idempotent=idempotent)(error) == expected


async def test_governor_state_reaches_the_gauges_and_logs_hold_no_token() -> None:
    recorder = Recorder(httpx2.Response(200, json=order_json(1), headers=STORE_LIMIT_HEADERS))
    structlog.reset_defaults()
    with structlog.testing.capture_logs() as logs:
        async with client_for(recorder) as client:
            await client.orders.get(1)
    labels = {"store": "abc123", "family": "store"}
    assert REGISTRY.get_sample_value("b2bsync_api_rate_limit_quota", labels) == 150
    assert REGISTRY.get_sample_value("b2bsync_api_rate_limit_left", labels) == 149
    [event] = [log for log in logs if log["event"] == "api.request"]
    assert event["operation"] == "v2.orders.get"
    assert event["status"] == 200
    assert event["log_level"] == "debug"
    assert TOKEN not in repr(logs)


def test_importing_the_client_pulls_no_web_or_database_framework() -> None:
    code = (
        "import sys, b2bsync.bigcommerce; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'sqlalchemy', 'starlette') or m.startswith('b2bsync.sandbox')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


async def test_a_cancelled_request_does_not_hold_up_the_governor() -> None:
    hang = asyncio.Event()

    async def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/1"):
            await hang.wait()
        return httpx2.Response(200, json=order_json(2))

    async with client_for(handler) as client:
        stuck = asyncio.create_task(client.orders.get(1))
        await asyncio.sleep(0.05)
        stuck.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stuck
        assert client.store_http.governor.snapshot().in_flight == 0
        order = await asyncio.wait_for(client.orders.get(2), timeout=2)
    assert order.id == 2


async def test_an_undecodable_body_is_a_bad_payload() -> None:
    recorder = Recorder(
        httpx2.Response(
            200, stream=BodyStream(b"not gzip at all"), headers={"Content-Encoding": "gzip"}
        )
    )
    async with client_for(recorder) as client:
        with pytest.raises(BadPayload, match="cannot be decoded"):
            await client.orders.get(1)
    assert len(recorder.requests) == 1
