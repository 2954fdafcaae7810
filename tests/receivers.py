"""A real HTTP receiver on loopback for the http destination's tests: it verifies b2bsync
signatures, deduplicates on `Idempotency-Key` like a well-behaved receiver, and answers with
scripted statuses or delays so retry behaviour can be observed over a real socket."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from b2bsync.destinations.errors import InvalidSignature
from b2bsync.destinations.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from tests.sandbox_server import free_port

RECEIVER_SECRET = "receiver-secret-0123456789"


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it arrived, and what the receiver answered."""

    headers: dict[str, str]
    body: bytes
    status: int
    signature_error: str | None


@dataclass
class Receiver:
    """State of a running receiver; tests script `statuses`/`delay_s`/`reject_order_ids` and read
    `requests` (everything that arrived) and `accepted` (first accepted delivery per key; a
    `{"deliveries": [...]}` batch is booked all or nothing)."""

    url: str
    secret: str
    requests: list[ReceivedRequest] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: deque[int] = field(default_factory=deque)
    """Answered (and consumed) one per request before the normal behaviour resumes."""
    delay_s: float = 0.0
    reject_order_ids: set[int] = field(default_factory=set)
    """Orders answered with 422, as a receiver refusing a payload it can never take."""

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        status, answer, signature_error = self._decide(headers, body)
        self.requests.append(ReceivedRequest(headers, body, status, signature_error))
        return JSONResponse(answer, status_code=status)

    def _decide(
        self, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any], str | None]:
        try:
            verify_signature(
                self.secret,
                headers.get(TIMESTAMP_HEADER.lower(), ""),
                body,
                headers.get(SIGNATURE_HEADER.lower(), ""),
            )
        except InvalidSignature as error:
            return 401, {"error": str(error)}, str(error)
        if self.statuses:
            status = self.statuses.popleft()
            return status, {"error": f"scripted {status}"}, None
        payload = json.loads(body)
        # A batch is booked all or nothing, each delivery under its own key.
        deliveries = payload.get("deliveries", [payload])
        if any(delivery["order_id"] in self.reject_order_ids for delivery in deliveries):
            return 422, {"error": "order refused by the receiver"}, None
        duplicates = 0
        for delivery in deliveries:
            duplicates += delivery["idempotency_key"] in self.accepted
            self.accepted.setdefault(delivery["idempotency_key"], delivery)
        return 200, {"duplicates": duplicates}, None


@contextmanager
def run_receiver(secret: str = RECEIVER_SECRET) -> Iterator[Receiver]:
    """Serve a `Receiver` at `POST /hook` on a free loopback port until the block ends."""
    port = free_port()
    receiver = Receiver(url=f"http://127.0.0.1:{port}/hook", secret=secret)
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the receiver did not start")
        time.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(timeout=10)
