"""A loopback HTTP proxy in front of the sandbox that corrupts one record of one listing on the
wire, to test that a malformed record is set aside alone (quarantine) and nothing else stops.

Each `Corruption` names the listing by the end of its path, the record's id field and how to
spoil it; while `proxy.corrupting` is set, one record (the first served, then the same one
wherever it appears again) is spoilt, and kept as it was in `proxy.spoilt`.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.sandbox_server import free_port

_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "content-encoding"}


@dataclass(frozen=True)
class Corruption:
    """Spoil the first record of answers whose path matches `path` at its end (a listing, or
    one record read by id); b2bsync must quarantine it as `stream`."""

    name: str
    stream: str
    path: str
    id_field: str
    spoil: Callable[[dict[str, Any]], None]


def _set(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def spoil(record: dict[str, Any]) -> None:
        record[name] = value

    return spoil


def _spoil_first_line(record: dict[str, Any]) -> None:
    """A V2 order that parses, with a malformed line item nested in its consignments."""
    for consignment in record["consignments"]["shipping"] + record["consignments"]["downloads"]:
        for line in consignment.get("line_items") or []:
            if isinstance(line, dict) and "order_id" in line:
                line["quantity"] = "a dozen"
                return
    raise AssertionError("the order has no line item to spoil")


CORRUPTIONS = {
    corruption.name: corruption
    for corruption in (
        Corruption(
            "b2b_company",
            "b2b_company",
            r"/io/companies(/\d+)?",
            "companyId",
            _set("companyName", ["x", 1]),
        ),
        Corruption(
            "b2b_invoice",
            "b2b_invoice",
            r"/io/ip/invoices(/\d+)?",
            "id",
            _set("originalBalance", {"code": "USD", "value": "a lot"}),
        ),
        Corruption(
            "b2b_payment",
            "b2b_payment",
            r"/io/ip/payments(/\d+)?",
            "id",
            _set("total", {"code": "USD", "value": "?"}),
        ),
        Corruption(
            "b2b_order", "b2b_order", r"/io/orders(/\d+)?", "bcOrderId", _set("companyId", "acme")
        ),
        Corruption(
            "order_metafield",
            "order_metafield",
            r"/v3/orders/(\d+/)?metafields",
            "id",
            _set("value", {"not": "text"}),
        ),
        Corruption(
            "v2_order", "v2_order", r"/v2/orders", "id", _set("total_inc_tax", "twelve dollars")
        ),
        Corruption("v2_order_line", "v2_order", r"/v2/orders", "id", _spoil_first_line),
    )
}


@dataclass
class CorruptingProxy:
    """The running proxy: point the client at `base_url` instead of the sandbox's."""

    base_url: str
    corruption: Corruption
    corrupting: bool = True
    target: Any = None
    """The id of the one record spoilt: the first one served, then that one whenever served."""
    spoilt: list[dict[str, Any]] = field(default_factory=list)
    """The records as they were before being spoilt (the first of each corrupted answer)."""
    refuse_from: int | None = None
    """From this many matching requests on, answer 400 instead (a listing failing mid-way)."""
    matched: int = 0


def _records(body: Any) -> list[Any]:
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return list(body["data"])
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        return [body["data"]]
    return body if isinstance(body, list) else []


@contextmanager
def run_corrupting_proxy(upstream: str, corruption: Corruption) -> Iterator[CorruptingProxy]:
    """Serve a proxy to `upstream` on a free loopback port until the block ends."""
    port = free_port()
    proxy = CorruptingProxy(f"http://127.0.0.1:{port}", corruption)
    clients: list[httpx2.AsyncClient] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with httpx2.AsyncClient(base_url=upstream, timeout=30) as client:
            clients.append(client)
            yield

    async def forward(request: Request) -> Response:
        client = clients[0]
        matches = re.search(corruption.path + "$", request.url.path) is not None
        if matches:
            proxy.matched += 1
            if proxy.refuse_from is not None and proxy.matched > proxy.refuse_from:
                return Response(
                    orjson.dumps({"status": 400, "title": "refused by the test proxy"}),
                    status_code=400,
                    media_type="application/json",
                )
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        answer = await client.request(
            request.method,
            request.url.path,
            params=list(request.query_params.multi_items()),
            headers=headers,
            content=await request.body(),
        )
        content = answer.content
        if proxy.corrupting and matches:
            body = orjson.loads(content) if content else None
            records = [record for record in _records(body) if isinstance(record, dict)]
            chosen = [r for r in records if proxy.target in (None, r.get(corruption.id_field))]
            if chosen:
                proxy.target = chosen[0].get(corruption.id_field)
                proxy.spoilt.append(dict(chosen[0]))
                corruption.spoil(chosen[0])
                content = orjson.dumps(body)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS}
        return Response(content, status_code=answer.status_code, headers=kept)

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route(
                "/{path:path}",
                forward,
                methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
            )
        ],
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the corrupting proxy did not start")
        time.sleep(0.01)
    try:
        yield proxy
    finally:
        server.should_exit = True
        thread.join(timeout=10)
