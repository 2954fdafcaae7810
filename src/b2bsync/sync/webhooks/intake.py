"""The webhook intake: authenticate a BigCommerce callback, write it to the change feed, answer.

Order of checks, cheapest first, so an attacker costs us as little as possible:

1. the secret custom header set at installation (constant-time compare); missing or wrong is
   401 before a single byte of the body is read;
2. the declared and the actual body size (413 past the limit, reading stops there);
3. when a signing secret is configured, the Standard Webhooks signature over
   `webhook-id.webhook-timestamp.body` with a timestamp tolerance (401 otherwise: a replay of
   an old callback fails here);
4. the payload: a JSON object with `scope`, `hash`, `producer` of this store and the order id
   in `data`; anything else is 400 and recorded in `webhook_rejects`.

A usable `store/order/*` callback is written to the change feed, deduplicated by its `hash`,
in a committed transaction **before** the 200; no BigCommerce call happens in the request path.
Other scopes are acknowledged (200) and dropped, so BigCommerce never retries them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog

from b2bsync.store.change_feed import ChangeSource
from b2bsync.store.database import Database
from b2bsync.sync.context import utc_now

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "INTAKE_PATH",
    "SECRET_HEADER",
    "Callback",
    "IntakeResult",
    "IntakeSettings",
    "MalformedCallback",
    "Verdict",
    "WebhookIntake",
    "parse_callback",
    "signature_problem",
    "store_intake_path",
]

log = structlog.get_logger("b2bsync.intake")

INTAKE_PATH = "/webhooks/bigcommerce"
SECRET_HEADER = "X-B2BSync-Webhook-Secret"  # noqa: S105 (a header name, not a secret)
"""The custom header b2bsync asks BigCommerce to send with every callback."""
DEFAULT_MAX_BODY_BYTES = 64 * 1024
"""Order callbacks are a few hundred bytes; anything near this is not one."""
DEFAULT_TOLERANCE_S = 300.0
ORDER_SCOPES = "store/order/"
METAFIELD_SCOPES = "store/order/metafield/"
MAX_HASH_CHARS = 128


class Verdict(StrEnum):
    """What the intake did with a request."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNAUTHORIZED = "unauthorized"
    TOO_LARGE = "too_large"
    MALFORMED = "malformed"


_STATUS = {
    Verdict.ACCEPTED: 200,
    Verdict.DUPLICATE: 200,
    Verdict.IGNORED: 200,
    Verdict.UNAUTHORIZED: 401,
    Verdict.TOO_LARGE: 413,
    Verdict.MALFORMED: 400,
}


@dataclass(frozen=True, slots=True)
class IntakeSettings:
    """How one store's callbacks are authenticated and bounded."""

    store: str
    secret: str
    """The value of `header` set on the hooks at installation."""
    header: str = SECRET_HEADER
    signing_secret: str | None = None
    """The app's client secret: when set, a valid Standard Webhooks signature is required too."""
    tolerance_s: float = DEFAULT_TOLERANCE_S
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("the webhook secret must be at least 16 characters")
        if self.max_body_bytes < 1024:
            raise ValueError("max_body_bytes below 1 KiB would refuse real callbacks")

    def __repr__(self) -> str:
        return f"IntakeSettings(store={self.store!r}, header={self.header!r}, secret=**********)"


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """The verdict on one request, and the order it announced when accepted."""

    verdict: Verdict
    order_id: int | None = None
    reason: str = ""

    @property
    def status(self) -> int:
        """The HTTP status to answer."""
        return _STATUS[self.verdict]


@dataclass(frozen=True, slots=True)
class Callback:
    """A usable order callback."""

    scope: str
    order_id: int
    hash: str
    created_at: int

    @property
    def source(self) -> ChangeSource:
        """Metafield callbacks bring a classification signal; the rest an order change."""
        if self.scope.startswith(METAFIELD_SCOPES):
            return ChangeSource.METAFIELD
        return ChangeSource.WEBHOOK


class MalformedCallback(ValueError):
    """An authenticated body that is not a usable callback; the message says why."""

    def __init__(self, reason: str, scope: str | None = None) -> None:
        super().__init__(reason)
        self.scope = scope


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        number = int(value)
        return number if number > 0 else None
    return None


def _order_reference(scope: str, data: Mapping[str, Any]) -> Any:
    """Where each order scope names its order: `id` (type "order"), `resource_id` (metafields,
    a string) or `order_id` (transactions, a string)."""
    if scope.startswith(METAFIELD_SCOPES):
        return data.get("resource_id")
    if data.get("type") == "order":
        return data.get("id")
    return data.get("order_id")


def parse_callback(body: bytes, store: str) -> Callback | None:
    """The order callback in `body`, None for a well-formed callback of another scope.

    Raises `MalformedCallback` for anything that is not a BigCommerce callback of `store`.
    """
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedCallback("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedCallback("the body is not a JSON object")
    scope = payload.get("scope")
    if not isinstance(scope, str) or not scope.startswith("store/"):
        raise MalformedCallback("scope is missing or not a store scope")
    digest = payload.get("hash")
    if not isinstance(digest, str) or not 0 < len(digest) <= MAX_HASH_CHARS:
        raise MalformedCallback("hash is missing or not a short string", scope)
    producer = payload.get("producer")
    if producer != f"stores/{store}":
        raise MalformedCallback(f"producer is not stores/{store}", scope)
    created_at = payload.get("created_at")
    if not isinstance(created_at, int) or isinstance(created_at, bool):
        raise MalformedCallback("created_at is not a unix timestamp", scope)
    if not scope.startswith(ORDER_SCOPES):
        return None
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedCallback("data is not an object", scope)
    order_id = _positive_int(_order_reference(scope, data))
    if order_id is None:
        raise MalformedCallback("data does not name an order id", scope)
    return Callback(scope=scope, order_id=order_id, hash=digest, created_at=created_at)


def signature_problem(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> str | None:
    """Why the Standard Webhooks signature of a callback is not acceptable, or None.

    The HMAC-SHA256 key is the client secret's own bytes: BigCommerce has verifiers
    base64-encode the client secret for libraries that decode it again.
    """
    message_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not message_id or not stamp or not signatures:
        return "Standard Webhooks headers are missing"
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return "webhook-timestamp is not a unix timestamp"
    if abs(now.timestamp() - int(stamp)) > tolerance_s:
        return "webhook-timestamp is outside the tolerance"
    signed = f"{message_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest())
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return None
    return "webhook-signature does not match"


class BodyTooLarge(Exception):
    """The body passed the size limit; reading stopped there."""


async def _read_capped(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        parts.append(chunk)
    return b"".join(parts)


class WebhookIntake:
    """Receives one store's callbacks into the change feed; `counters` counts every verdict.

    `on_accepted` is called after each commit that added a row, to wake the micro-batcher.
    """

    def __init__(
        self,
        db: Database,
        settings: IntakeSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        on_accepted: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self._clock = clock
        self._on_accepted = on_accepted
        self._secret = settings.secret.encode()
        self.counters: Counter[Verdict] = Counter()

    def authenticated(self, headers: Mapping[str, str]) -> bool:
        """The secret header is present and right (compared in constant time)."""
        given = headers.get(self.settings.header.lower(), "")
        return hmac.compare_digest(given.encode("utf-8", errors="replace"), self._secret)

    async def receive(
        self, headers: Mapping[str, str], chunks: AsyncIterator[bytes]
    ) -> IntakeResult:
        """Judge one request (`headers` with lower-case names) and, when usable, make it durable."""
        result = await self._judge(headers, chunks)
        self.counters[result.verdict] += 1
        if result.verdict is Verdict.UNAUTHORIZED:
            # Anyone can send these; one log line each would let them flood the logs.
            log.debug(
                "intake.refused",
                store=self.settings.store,
                verdict=result.verdict.value,
                reason=result.reason,
            )
        elif result.verdict in (Verdict.TOO_LARGE, Verdict.MALFORMED):
            log.info(
                "intake.refused",
                store=self.settings.store,
                verdict=result.verdict.value,
                reason=result.reason,
            )
        return result

    async def _judge(
        self, headers: Mapping[str, str], chunks: AsyncIterator[bytes]
    ) -> IntakeResult:
        if not self.authenticated(headers):
            return IntakeResult(Verdict.UNAUTHORIZED, reason="secret header missing or wrong")
        limit = self.settings.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            return IntakeResult(Verdict.TOO_LARGE, reason="declared body too large")
        try:
            body = await _read_capped(chunks, limit)
        except BodyTooLarge:
            return IntakeResult(Verdict.TOO_LARGE, reason="body too large")
        now = self._clock()
        if self.settings.signing_secret is not None:
            problem = signature_problem(
                self.settings.signing_secret, headers, body, now, self.settings.tolerance_s
            )
            if problem is not None:
                return IntakeResult(Verdict.UNAUTHORIZED, reason=problem)
        try:
            callback = parse_callback(body, self.settings.store)
        except MalformedCallback as error:
            async with self.db.transaction() as tx:
                await tx.webhooks.record_reject(
                    self.settings.store, str(error), now, scope=error.scope, body=body
                )
            return IntakeResult(Verdict.MALFORMED, reason=str(error))
        if callback is None:
            return IntakeResult(Verdict.IGNORED, reason="not an order scope")
        async with self.db.transaction() as tx:
            added = await tx.feed.add(
                self.settings.store,
                [callback.order_id],
                callback.source,
                now,
                webhook_hash=callback.hash,
                scope=callback.scope,
            )
        if not added:
            return IntakeResult(Verdict.DUPLICATE, callback.order_id)
        if self._on_accepted is not None:
            self._on_accepted()
        return IntakeResult(Verdict.ACCEPTED, callback.order_id)


def store_intake_path(store: str) -> str:
    """The intake path of one store's callbacks, `/webhooks/bigcommerce/{store_hash}`."""
    return f"{INTAKE_PATH}/{store}"
