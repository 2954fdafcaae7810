"""The webhook dispatcher: turns store events into callbacks the way BigCommerce sends them.

A background task of the app drains every store's `events`, fans each out to the active hooks
whose scope matches, and POSTs the documented payload. A callback that is not answered 2xx
within `webhook_timeout_s` is retried on the documented schedule (scaled by `time_scale`);
after the last retry fails the hook is deactivated. Deliveries run concurrently (bounded), so
per-destination order is not guaranteed, as on the real platform. A share of successful
deliveries is sent twice (`webhook_duplicate_rate`), and a domain whose success ratio drops
below 90 % over 100+ requests in a 2-minute window is blocklisted for 3 minutes.

`hash` is the SHA-1 of the JSON-encoded payload without `hash` (scope, store_id, data,
created_at, producer): a duplicate delivery carries the same hash, two different events differ.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import heapq
import hmac
import itertools
import json
import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2

from b2bsync.sandbox.hooks import deactivate_hook, scope_matches
from b2bsync.sandbox.models import Hook
from b2bsync.sandbox.world import StoreState, WebhookEvent, World

RETRY_SCHEDULE_S = (60, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 50400, 86400)
"""Seconds before each retry ([WHdoc]); the hook is deactivated after the last one fails."""

BLOCKLIST_WINDOW_S = 120.0
BLOCKLIST_MIN_REQUESTS = 100
BLOCKLIST_MIN_SUCCESS = 0.9
BLOCKLIST_DURATION_S = 180.0
MAX_IN_FLIGHT = 32
TICK_S = 0.02


def store_id_for(store_hash: str) -> str:
    """A stable numeric store id (callbacks carry `store_id` as a string of digits)."""
    digest = hashlib.sha1(store_hash.encode(), usedforsecurity=False).digest()
    return str(1_000_000 + int.from_bytes(digest[:3], "big"))


def build_payload(store_hash: str, event: WebhookEvent) -> dict[str, Any]:
    """The callback body of one event, with its `hash`."""
    payload: dict[str, Any] = {
        "scope": event.scope,
        "store_id": store_id_for(store_hash),
        "data": event.data,
        "created_at": int(event.created_at.timestamp()),
        "producer": f"stores/{store_hash}",
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    payload["hash"] = hashlib.sha1(encoded, usedforsecurity=False).hexdigest()
    return payload


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks `webhook-signature` value: `v1,` + base64 HMAC-SHA256 of
    `id.timestamp.body`. BigCommerce's verifier base64-encodes the client secret and the
    Standard Webhooks library decodes it again, so the HMAC key is the secret's own bytes."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass
class HookCounters:
    """Delivery statistics of one hook, shown by `GET /__sandbox/stats`."""

    attempts: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    retries_scheduled: int = 0
    duplicates: int = 0
    dropped: int = 0
    last_status: int | None = None
    last_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "attempts": self.attempts,
            "delivered": self.delivered,
            "failed_attempts": self.failed_attempts,
            "retries_scheduled": self.retries_scheduled,
            "duplicates": self.duplicates,
            "dropped": self.dropped,
            "last_status": self.last_status,
            "last_error": self.last_error,
        }


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    store_hash: str = field(compare=False)
    hook_id: int = field(compare=False)
    message_id: str = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(compare=False, default=0)


@dataclass
class _DomainHealth:
    """Sliding-window success ratio of one client's callbacks to one domain."""

    results: deque[tuple[float, bool]] = field(default_factory=deque)
    blocked_until: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    last_failure: dict[str, int] = field(default_factory=dict)


class WebhookDispatcher:
    """Delivers every store's webhook events; `run()` is the app's background task."""

    def __init__(
        self,
        world: World,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.world = world
        self._monotonic = monotonic
        self._max_in_flight = max_in_flight
        self._rng = random.Random(world.config.seed ^ 0x3EB)
        self._pending: list[_Delivery] = []
        self._seq = itertools.count()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._domains: dict[tuple[str, str], _DomainHealth] = {}
        self.counters: dict[tuple[str, int], HookCounters] = {}
        self.events_seen: Counter[str] = Counter()
        self.deactivated: Counter[str] = Counter()

    @property
    def _scale(self) -> float:
        return self.world.config.time_scale

    async def run(self) -> None:
        """Drain events and deliver due callbacks until cancelled."""
        timeout = httpx2.Timeout(self.world.config.webhook_timeout_s)
        limits = httpx2.Limits(max_connections=self._max_in_flight)
        async with httpx2.AsyncClient(timeout=timeout, limits=limits) as client:
            try:
                while True:
                    self.pump()
                    self._start_due(client)
                    await asyncio.sleep(TICK_S)
            finally:
                for task in list(self._in_flight):
                    task.cancel()
                for task in list(self._in_flight):
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    def pump(self) -> int:
        """Turn queued events into deliveries for the matching active hooks; returns events."""
        drained = 0
        now = self._monotonic()
        for store in list(self.world.stores.values()):
            while store.events:
                event = store.events.popleft()
                drained += 1
                self.events_seen[store.store_hash] += 1
                self._fan_out(store, event, now)
        return drained

    def _fan_out(self, store: StoreState, event: WebhookEvent, now: float) -> None:
        hooks = [
            hook
            for hook in store.hooks.values()
            if hook.is_active and scope_matches(hook.scope, event.scope)
        ]
        if not hooks:
            return
        body = json.dumps(build_payload(store.store_hash, event), separators=(",", ":")).encode()
        for hook in hooks:
            heapq.heappush(
                self._pending,
                _Delivery(now, next(self._seq), store.store_hash, hook.id, _message_id(), body),
            )

    def _start_due(self, client: httpx2.AsyncClient) -> None:
        now = self._monotonic()
        while (
            self._pending
            and self._pending[0].due <= now
            and len(self._in_flight) < self._max_in_flight
        ):
            delivery = heapq.heappop(self._pending)
            task = asyncio.create_task(self._attempt(client, delivery))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    def _counters(self, store_hash: str, hook_id: int) -> HookCounters:
        return self.counters.setdefault((store_hash, hook_id), HookCounters())

    def _live_hook(self, delivery: _Delivery) -> Hook | None:
        store = self.world.store(delivery.store_hash)
        hook = store.hooks.get(delivery.hook_id) if store else None
        return hook if hook is not None and hook.is_active else None

    async def _attempt(self, client: httpx2.AsyncClient, delivery: _Delivery) -> None:
        hook = self._live_hook(delivery)
        counters = self._counters(delivery.store_hash, delivery.hook_id)
        if hook is None:
            counters.dropped += 1
            return
        domain = self._domain(hook)
        if domain.blocked_until > self._monotonic():
            counters.last_error = "domain blocklisted"
            self._retry_or_deactivate(hook, delivery, counters)
            return
        counters.attempts += 1
        failure = await self._post(client, hook, delivery, counters)
        self._record(domain, failure)
        if failure is not None:
            counters.failed_attempts += 1
            counters.last_error = failure
            self._retry_or_deactivate(hook, delivery, counters)
            return
        counters.delivered += 1
        counters.last_error = ""
        if self._rng.random() < self.world.config.webhook_duplicate_rate:
            counters.duplicates += 1
            await self._post(client, hook, delivery, counters)

    async def _post(
        self,
        client: httpx2.AsyncClient,
        hook: Hook,
        delivery: _Delivery,
        counters: HookCounters,
    ) -> str | None:
        """One POST; returns why it failed, or None on a 2xx."""
        headers = {"Content-Type": "application/json", **(hook.headers or {})}
        secret = self.world.config.webhook_client_secret
        if secret:
            timestamp = int(time.time())
            headers["webhook-id"] = delivery.message_id
            headers["webhook-timestamp"] = str(timestamp)
            headers["webhook-signature"] = sign(
                secret, delivery.message_id, timestamp, delivery.body
            )
        try:
            response = await client.post(hook.destination, content=delivery.body, headers=headers)
        except httpx2.TimeoutException:
            counters.last_status = None
            return "timeout"
        except httpx2.HTTPError as exc:
            counters.last_status = None
            return f"connection error: {type(exc).__name__}"
        counters.last_status = response.status_code
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def _retry_or_deactivate(self, hook: Hook, delivery: _Delivery, counters: HookCounters) -> None:
        if delivery.attempt >= len(RETRY_SCHEDULE_S):
            deactivate_hook(hook, self.world.clock())
            self.deactivated[delivery.store_hash] += 1
            return
        counters.retries_scheduled += 1
        delay = RETRY_SCHEDULE_S[delivery.attempt] * self._scale
        delivery.attempt += 1
        delivery.due = self._monotonic() + delay
        delivery.seq = next(self._seq)
        heapq.heappush(self._pending, delivery)

    def _domain(self, hook: Hook) -> _DomainHealth:
        return self._domains.setdefault(
            (hook.client_id, _domain_of(hook.destination)), _DomainHealth()
        )

    def _record(self, domain: _DomainHealth, failure: str | None) -> None:
        now = self._monotonic()
        window = BLOCKLIST_WINDOW_S * self._scale
        domain.results.append((now, failure is None))
        while domain.results and domain.results[0][0] < now - window:
            domain.results.popleft()
        if failure is not None:
            domain.reasons[failure] += 1
            domain.last_failure[failure] = int(time.time())
        total = len(domain.results)
        if total < BLOCKLIST_MIN_REQUESTS:
            return
        successes = sum(1 for _, ok in domain.results if ok)
        if successes / total < BLOCKLIST_MIN_SUCCESS:
            domain.blocked_until = now + BLOCKLIST_DURATION_S * self._scale
            domain.results.clear()

    def blocked_domains(self, client_id: str) -> list[dict[str, Any]]:
        """`/hooks/admin` `blocked_domains` of one client."""
        now = self._monotonic()
        blocked = []
        for (owner, destination), health in self._domains.items():
            if owner != client_id or health.blocked_until <= now:
                continue
            blocked.append(
                {
                    "destination": destination,
                    "time_left": max(1, round(health.blocked_until - now)),
                    "reasons": [
                        {
                            "failure_description": reason,
                            "count": count,
                            "timestamp": health.last_failure.get(reason, 0),
                        }
                        for reason, count in health.reasons.most_common()
                    ],
                }
            )
        return blocked

    def forget_counters(self, store_hash: str) -> None:
        """Start a store's delivery counters from zero."""
        for key in [key for key in self.counters if key[0] == store_hash]:
            del self.counters[key]
        self.events_seen.pop(store_hash, None)
        self.deactivated.pop(store_hash, None)

    def forget_store(self, store_hash: str) -> None:
        """Drop pending callbacks and counters of a store that is being reset."""
        self._pending = [d for d in self._pending if d.store_hash != store_hash]
        heapq.heapify(self._pending)
        self.forget_counters(store_hash)

    def snapshot(self, store_hash: str) -> dict[str, Any]:
        """One store's delivery counters for `GET /__sandbox/stats`."""
        selected = {key: c for key, c in self.counters.items() if key[0] == store_hash}
        totals = {
            name: sum(getattr(c, name) for c in selected.values())
            for name in (
                "attempts",
                "delivered",
                "failed_attempts",
                "retries_scheduled",
                "duplicates",
                "dropped",
            )
        }
        return {
            "events": self.events_seen[store_hash],
            **totals,
            "deactivated_hooks": self.deactivated[store_hash],
            "pending": sum(1 for d in self._pending if d.store_hash == store_hash),
            "in_flight": len(self._in_flight),
            "by_hook": {str(hook_id): c.as_dict() for (_, hook_id), c in selected.items()},
        }


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _domain_of(destination: str) -> str:
    """The blocklisting unit: scheme, host and port (on loopback every receiver shares a host,
    so the sandbox keeps receivers on different ports apart)."""
    parts = urlsplit(destination)
    return f"{parts.scheme}://{parts.netloc}"
