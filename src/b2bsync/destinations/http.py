"""The `http` destination: POST each delivery as signed JSON to a receiver's URL."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping, Sequence

import httpx2
from pydantic import SecretStr

from b2bsync import __version__
from b2bsync.destinations.base import BaseDestination, Prepared
from b2bsync.destinations.errors import PermanentError
from b2bsync.destinations.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from b2bsync.domain.delivery import Delivery, DeliveryResult, Outcome

__all__ = ["BODY_EXCERPT_CHARS", "HttpDestination", "outcome_for_status"]

BODY_EXCERPT_CHARS = 200
"""How much of a refusing receiver's body goes into the error text."""

USER_AGENT = f"b2bsync/{__version__}"

_RETRIABLE_4XX = frozenset({408, 425, 429})


def outcome_for_status(status: int) -> Outcome:
    """2xx accepted; 408/425/429 and 5xx temporary; anything else (other 4xx, stray 1xx/3xx
    such as a redirect to a login page) a refusal retrying cannot fix."""
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status in _RETRIABLE_4XX or status >= 500:
        return Outcome.RETRY
    return Outcome.DEAD


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= BODY_EXCERPT_CHARS else flat[: BODY_EXCERPT_CHARS - 1] + "…"


class HttpDestination(BaseDestination[bytes]):
    """Signed `POST`s of deliveries as JSON: one request per delivery (up to `concurrency` at a
    time), or with `batch=True` one request per chunk of up to `max_batch`.

    A single delivery's body is the `Delivery` as JSON; a batch body is
    `{"deliveries": [Delivery, ...]}`. Headers: `Idempotency-Key` (the delivery's key; for a
    batch, `batch:` and a hash of its keys), `X-B2BSync-Timestamp`, `X-B2BSync-Signature` (see
    `signing`), `User-Agent`, and any configured extra `headers` (e.g. `Authorization`). A batch
    is accepted or refused as a whole; when a receiver refuses one for good, its deliveries are
    sent again one per request so only the bad one ends up dead. `client` is the seam for tests
    and for sharing a connection pool; without it the destination owns one.
    """

    def __init__(
        self,
        name: str,
        *,
        url: str,
        secret: SecretStr,
        headers: Mapping[str, SecretStr] | None = None,
        timeout_s: float = 10.0,
        concurrency: int = 4,
        batch: bool = False,
        max_batch: int = 100,
        client: httpx2.AsyncClient | None = None,
    ) -> None:
        super().__init__(name, max_batch=max_batch)
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._url = url
        self._secret = secret
        self._extra_headers = dict(headers or {})
        self._timeout_s = timeout_s
        self._batch = batch
        self._semaphore = asyncio.Semaphore(concurrency)
        self._owns_client = client is None
        self._client = client or httpx2.AsyncClient(timeout=httpx2.Timeout(timeout_s))

    def prepare(self, delivery: Delivery) -> bytes:
        """The delivery as compact JSON."""
        return delivery.model_dump_json().encode()

    async def send(self, items: Sequence[Prepared[bytes]]) -> list[DeliveryResult]:
        """POST every item, or the chunk as one batch; the answers are the outcomes."""
        if not self._batch:
            return list(await asyncio.gather(*(self._post_one(item) for item in items)))
        keys = [item.delivery.idempotency_key for item in items]
        body = b'{"deliveries":[' + b",".join(item.payload for item in items) + b"]}"
        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]
        outcome, error = await self._exchange(body, f"batch:{digest}")
        if outcome is Outcome.DEAD and len(items) > 1:
            raise PermanentError(error)  # the base resends each delivery on its own
        return [self._result(item.delivery, outcome, error) for item in items]

    async def aclose(self) -> None:
        """Close the connection pool if this destination opened it."""
        if self._owns_client:
            await self._client.aclose()

    async def _post_one(self, item: Prepared[bytes]) -> DeliveryResult:
        outcome, error = await self._exchange(item.payload, item.delivery.idempotency_key)
        return self._result(item.delivery, outcome, error)

    def _headers(self, key: str, body: bytes) -> dict[str, str]:
        timestamp = int(time.time())
        headers = {name: value.get_secret_value() for name, value in self._extra_headers.items()}
        headers.update(
            {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Idempotency-Key": key,
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(self._secret.get_secret_value(), timestamp, body),
            }
        )
        return headers

    async def _exchange(self, body: bytes, key: str) -> tuple[Outcome, str | None]:
        async with self._semaphore:
            try:
                response = await self._client.post(
                    self._url,
                    content=body,
                    headers=self._headers(key, body),
                    timeout=self._timeout_s,
                )
            except httpx2.TimeoutException as error:
                return (
                    Outcome.RETRY,
                    f"no answer within {self._timeout_s:g} s ({type(error).__name__})",
                )
            except httpx2.TransportError as error:
                return Outcome.RETRY, f"transport error: {type(error).__name__}: {error}"
        outcome = outcome_for_status(response.status_code)
        if outcome is Outcome.DELIVERED:
            return outcome, None
        return outcome, f"HTTP {response.status_code}: {_excerpt(response.text)}"
