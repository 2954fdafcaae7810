"""A real HTTP receiver on loopback for the http destination's tests: it verifies b2bsync
signatures, deduplicates on `Idempotency-Key` like a well-behaved receiver, and answers with
scripted statuses or delays so retry behaviour can be observed over a real socket; and the
receivers of alert notifications: an HTTP one for Apprise's JSON and Slack-style channels, an
SMTP server (aiosmtpd) for e-mail."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
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
    with _serving(app, port):
        yield receiver


@dataclass
class NotificationReceiver:
    """Alert notifications as they arrived over HTTP (Apprise's `json://`, Mattermost's
    Slack-style `mmost://`): the path and the JSON body of each, answered with `statuses`
    (consumed one per request) and 200 after them."""

    url: str
    port: int
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        status = self.statuses.popleft() if self.statuses else 200
        if status == 200:
            self.received.append((request.url.path, json.loads(body)))
        return JSONResponse({"status": status}, status_code=status)


@contextmanager
def run_notification_receiver(port: int | None = None) -> Iterator[NotificationReceiver]:
    """Serve a `NotificationReceiver` on `port` (a free one when None) of loopback, for any
    POST path, until the block ends."""
    port = port or free_port()
    receiver = NotificationReceiver(url=f"127.0.0.1:{port}", port=port)
    app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])
    with _serving(app, port):
        yield receiver


@contextmanager
def _serving(app: Starlette, port: int) -> Iterator[None]:
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
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class MailReceiver:
    """E-mails an SMTP server on loopback took: (envelope sender, recipients, message)."""

    port: int
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message, answer 250."""
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@contextmanager
def run_smtp_server() -> Iterator[MailReceiver]:
    """An aiosmtpd SMTP server on a free loopback port until the block ends."""
    port = free_port()
    receiver = MailReceiver(port=port)
    controller = Controller(receiver, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()
