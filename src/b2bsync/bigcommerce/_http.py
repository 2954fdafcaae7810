"""The one choke point every BigCommerce request goes through.

`ApiHttp` adds authentication (`X-Auth-Token`; B2B Edition also `X-Store-Hash`) and the JSON
headers, waits for the rate-limit governor, sends, turns the answer into JSON or into an error of
`errors.py`, retries what `retry.py` allows, counts and logs. Tokens never leave this module
except in the request headers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
import stamina
import structlog
from pydantic import SecretStr

from b2bsync.bigcommerce._errors import (
    BadPayload,
    RateLimited,
    TransportFailure,
    error_for_status,
)
from b2bsync.bigcommerce._governor import (
    Family,
    Governor,
    WindowReading,
    read_b2b_headers,
    read_store_headers,
)
from b2bsync.bigcommerce._metrics import REQUEST_SECONDS, REQUESTS, record_governor
from b2bsync.bigcommerce._retry import IDEMPOTENT_METHODS, RetryPolicy, retry_decider

__all__ = ["ApiHttp", "ApiResponse", "QueryParams", "encode_query", "server_message"]

log = structlog.get_logger("b2bsync.bigcommerce")

QueryParams = Mapping[str, Any] | Sequence[tuple[str, Any]]
"""Query parameters; a value that is a list is sent once per element."""

_SNIPPET = 200


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A successful answer: its status, headers and parsed JSON (None for an empty body)."""

    status: int
    headers: httpx2.Headers
    body: Any


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET else flat[:_SNIPPET] + "…"


def server_message(body: Any, text: str = "") -> str:
    """The human message in any of the three error shapes: V2 `[{status, message}]`, V3
    `{title, errors}`, B2B `{data:{errMsg}, meta:{message}}`; else a snippet of the text."""
    if isinstance(body, list):
        messages = [
            str(item["message"]) for item in body if isinstance(item, dict) and "message" in item
        ]
        if messages:
            return "; ".join(messages)
    if isinstance(body, dict):
        data = body.get("data")
        if isinstance(data, dict) and data.get("errMsg"):
            return str(data["errMsg"])
        if body.get("title"):
            errors = body.get("errors")
            detail = (
                "; ".join(f"{key}: {value}" for key, value in errors.items())
                if isinstance(errors, dict) and errors
                else ""
            )
            return f"{body['title']} ({detail})" if detail else str(body["title"])
        for key in ("message", "errMsg", "error"):
            if body.get(key):
                return str(body[key])
        meta = body.get("meta")
        if isinstance(meta, dict) and meta.get("message"):
            return str(meta["message"])
    return _snippet(text)


class ApiHttp:
    """Requests to one API family of one store (store API: V2 + V3; or B2B Edition)."""

    def __init__(
        self,
        client: httpx2.AsyncClient,
        *,
        family: Family,
        base_url: str,
        store_hash: str,
        token: SecretStr,
        governor: Governor,
        retry: RetryPolicy,
    ) -> None:
        self.family = family
        self.base_url = base_url.rstrip("/")
        self.store_hash = store_hash
        self.governor = governor
        self.retry = retry
        self._client = client
        self._token = token

    def __repr__(self) -> str:
        return f"ApiHttp(family={self.family.value!r}, base_url={self.base_url!r})"

    async def get(
        self, path: str, *, operation: str, params: QueryParams | None = None
    ) -> ApiResponse:
        """GET `path` (relative to the family's base URL)."""
        return await self.request("GET", path, operation=operation, params=params)

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: QueryParams | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
    ) -> ApiResponse:
        """Send with retries; return the parsed answer or raise a `BigCommerceError`.

        `idempotent` overrides the method's default (GET/PUT/DELETE yes, POST no).
        """
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        policy = self.retry
        result: ApiResponse | None = None
        async for attempt in stamina.retry_context(
            on=retry_decider(idempotent=safe),
            attempts=policy.attempts,
            timeout=policy.timeout_s,
            wait_initial=policy.wait_initial_s,
            wait_max=policy.wait_max_s,
            wait_jitter=policy.wait_jitter_s,
        ):
            with attempt:
                result = await self._send_once(
                    method, path, operation, params, json_body, attempt.num
                )
        assert result is not None  # stamina either ran the block successfully or raised
        return result

    def _reading(self, headers: httpx2.Headers) -> WindowReading | None:
        if self.family is Family.B2B:
            return read_b2b_headers(headers)
        return read_store_headers(headers)

    def _shown(self, path: str) -> str:
        """The request's full URL for an error message (never its query or credentials), so a
        wrong API URL shows at once."""
        base = urlsplit(self.base_url)
        host = base.hostname or ""
        netloc = f"{host}:{base.port}" if base.port else host
        return f"{base.scheme}://{netloc}{base.path}{path}"

    async def _send_once(
        self,
        method: str,
        path: str,
        operation: str,
        params: QueryParams | None,
        json_body: Any,
        attempt: int,
    ) -> ApiResponse:
        headers = {"X-Auth-Token": self._token.get_secret_value(), "Accept": "application/json"}
        if self.family is Family.B2B:
            headers["X-Store-Hash"] = self.store_hash
        content: bytes | None = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(json_body, separators=(",", ":"), default=str).encode()
        await self.governor.acquire()
        started = time.perf_counter()
        try:
            response = await self._client.request(
                method,
                self.base_url + path,
                params=tuple(encode_query(params)),
                content=content,
                headers=headers,
            )
        except httpx2.TransportError as error:
            self.governor.release_failed()
            self._count(operation, "transport", started)
            never_sent = isinstance(
                error, httpx2.ConnectError | httpx2.ConnectTimeout | httpx2.PoolTimeout
            )
            log.debug(
                "api.request",
                store=self.store_hash,
                family=self.family.value,
                operation=operation,
                method=method,
                path=path,
                attempt=attempt,
                error=type(error).__name__,
            )
            raise TransportFailure(
                method=method,
                path=path,
                url=self._shown(path),
                server_message=type(error).__name__,
                reached_server=not never_sent,
            ) from error
        except httpx2.DecodingError as error:
            self.governor.release_failed()
            self._count(operation, "undecodable", started)
            raise BadPayload(
                "BigCommerce answered with a body that cannot be decoded",
                method=method,
                path=path,
                url=self._shown(path),
                server_message=type(error).__name__,
            ) from error
        except BaseException:
            # Cancelled or failed in an unexpected way: the governor must not wait for it.
            self.governor.release_failed()
            raise
        status = response.status_code
        self._count(operation, str(status), started)
        log.debug(
            "api.request",
            store=self.store_hash,
            family=self.family.value,
            operation=operation,
            method=method,
            path=path,
            attempt=attempt,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        reading = self._reading(response.headers)
        if status == 429:
            wait_s = self._throttle_wait(response.headers, reading)
            self.governor.release_throttled(wait_s)
            record_governor(self.governor)
            body, text = _decode(response)
            raise RateLimited(
                method=method,
                path=path,
                url=self._shown(path),
                server_message=self._redact(server_message(body, text)),
                wait_s=wait_s,
            )
        self.governor.release(reading)
        record_governor(self.governor)
        body, text = _decode(response)
        if status >= 400:
            raise error_for_status(status)(
                method=method,
                path=path,
                url=self._shown(path),
                status=status,
                server_message=self._redact(server_message(body, text)),
            )
        if body is _NOT_JSON:
            raise BadPayload(
                "BigCommerce answered with a body that is not JSON",
                method=method,
                path=path,
                url=self._shown(path),
                status=status,
                server_message=self._redact(_snippet(text)),
            )
        return ApiResponse(status, response.headers, body)

    def _throttle_wait(
        self, headers: httpx2.Headers, reading: WindowReading | None
    ) -> float | None:
        """The longer of the window reset and `X-Retry-After`; None for a bare 429."""
        waits = [reading.reset_s] if reading is not None else []
        reset_ms = _seconds(headers.get("x-rate-limit-time-reset-ms"))
        if reset_ms is not None:
            waits.append(reset_ms / 1000)
        for name in ("x-retry-after", "retry-after"):
            retry_after = _seconds(headers.get(name))
            if retry_after is not None:
                waits.append(retry_after)
        return max(waits) if waits else None

    def _redact(self, message: str) -> str:
        # A server (or a proxy) echoing the request headers must not put the token in our errors.
        return message.replace(self._token.get_secret_value(), "[redacted]")

    def _count(self, operation: str, status: str, started: float) -> None:
        REQUESTS.labels(self.store_hash, self.family.value, operation, status).inc()
        REQUEST_SECONDS.labels(self.store_hash, self.family.value, operation).observe(
            time.perf_counter() - started
        )


_NOT_JSON = object()


def _decode(response: httpx2.Response) -> tuple[Any, str]:
    """(parsed JSON or None when empty or `_NOT_JSON`, the text)."""
    try:
        text = response.text
    except httpx2.DecodingError:
        return _NOT_JSON, "(a body that cannot be decoded)"
    if response.status_code == 204 or not text.strip():
        return None, text
    try:
        return json.loads(text), text
    except ValueError:
        return _NOT_JSON, text


def encode_query(params: QueryParams | None) -> list[tuple[str, str]]:
    """Query pairs as strings: None dropped, booleans `true`/`false`, lists repeated."""
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            if one is None:
                continue
            pairs.append((key, ("true" if one else "false") if isinstance(one, bool) else str(one)))
    return pairs


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None
