"""The `Destination` protocol the delivery loop talks to, and the base class destinations share.

A destination supplies two hooks: `prepare` turns one `Delivery` into its own payload (pure,
raising for input it can never accept) and `send` hands a chunk of prepared items over. The base
owns the rest: chunking to `max_batch`, checking that each delivery is self-consistent, keeping
one bad item from failing its neighbours, metrics and log lines.
"""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, runtime_checkable

import structlog

from b2bsync.destinations.errors import PermanentError
from b2bsync.destinations.metrics import DELIVERIES
from b2bsync.domain.delivery import (
    Delivery,
    DeliveryResult,
    Outcome,
    delivery_kind,
    idempotency_key,
)

__all__ = ["BaseDestination", "Destination", "Prepared", "error_text"]

log = structlog.get_logger("b2bsync.destinations")

P = TypeVar("P")

MAX_ERROR_CHARS = 500
"""Error texts are stored with the outbox row and shown on the dashboard; keep them short."""


@runtime_checkable
class Destination(Protocol):
    """Where ledger versions go. Implementations must be idempotent on `idempotency_key`."""

    @property
    def name(self) -> str:
        """The configured name (unique among destinations, used as the outbox's key)."""
        ...

    async def deliver(self, batch: Sequence[Delivery]) -> list[DeliveryResult]:
        """Exactly one result per delivery, in the order given. Never raises for one item."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...


@dataclass(frozen=True, slots=True)
class Prepared(Generic[P]):
    """A delivery together with the payload its destination made of it."""

    delivery: Delivery
    payload: P


def error_text(error: BaseException) -> str:
    """`Type: message`, bounded, on one line."""
    text = f"{type(error).__name__}: {error}".replace("\n", " ").strip()
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _inconsistency(delivery: Delivery) -> str | None:
    expected_key = idempotency_key(delivery.store, delivery.order_id, delivery.version)
    if delivery.idempotency_key != expected_key:
        return f"idempotency key {delivery.idempotency_key!r} is not {expected_key!r}"
    record = delivery.record
    if (record.store, record.order_id) != (delivery.store, delivery.order_id):
        return f"record is order {record.store}:{record.order_id}, not {expected_key}"
    if delivery.kind is not delivery_kind(record.order_type):
        return f"kind {delivery.kind.value!r} does not fit order type {record.order_type.value!r}"
    if delivery.version < 1:
        return f"version must be at least 1, got {delivery.version}"
    return None


class BaseDestination(abc.ABC, Generic[P]):
    """Common machinery; subclasses implement `prepare` and `send` (and may refine
    `classify_error` and `aclose`)."""

    def __init__(self, name: str, *, max_batch: int = 100) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._name = name
        self.max_batch = max_batch

    @property
    def name(self) -> str:
        """The configured name."""
        return self._name

    @abc.abstractmethod
    def prepare(self, delivery: Delivery) -> P:
        """This destination's payload for one delivery; raise for input it can never accept."""

    @abc.abstractmethod
    async def send(self, items: Sequence[Prepared[P]]) -> list[DeliveryResult]:
        """Hand over up to `max_batch` items; one result per item in order. Raising means the
        whole chunk failed; the base then retries its items one by one."""

    def classify_error(self, error: Exception) -> Outcome:
        """The outcome of an exception `send` raised for a single item."""
        return Outcome.DEAD if isinstance(error, PermanentError) else Outcome.RETRY

    def fails_whole_batch(self, error: Exception) -> bool:
        """Whether `error` concerns the destination rather than one item (a lost connection, a
        full disk): then every item of the chunk gets its outcome at once, instead of one more
        attempt per item against a destination that is down."""
        return False

    def describe_error(self, error: Exception) -> str:
        """The error text stored with a failed delivery: short, one line, no secrets."""
        return error_text(error)

    async def aclose(self) -> None:
        """Release resources; the default holds none."""

    async def deliver(self, batch: Sequence[Delivery]) -> list[DeliveryResult]:
        """Prepare, chunk and send `batch`; exactly one result per delivery, in order."""
        results: list[DeliveryResult | None] = [None] * len(batch)
        ready: list[tuple[int, Prepared[P]]] = []
        for index, delivery in enumerate(batch):
            problem = _inconsistency(delivery)
            if problem is not None:
                results[index] = self._result(delivery, Outcome.DEAD, problem)
                continue
            try:
                payload = self.prepare(delivery)
            except Exception as error:  # any refusal of one item is its DEAD
                results[index] = self._result(delivery, Outcome.DEAD, error_text(error))
                continue
            ready.append((index, Prepared(delivery, payload)))
        for start in range(0, len(ready), self.max_batch):
            chunk = ready[start : start + self.max_batch]
            for (index, _), result in zip(chunk, await self._send_isolated(chunk), strict=True):
                results[index] = result
        final = [result for result in results if result is not None]
        assert len(final) == len(batch)
        self._record(batch, final)
        return final

    async def _send_isolated(
        self, chunk: Sequence[tuple[int, Prepared[P]]]
    ) -> list[DeliveryResult]:
        items = [item for _, item in chunk]
        try:
            return self._checked(items, await self.send(items))
        except Exception as error:  # isolated below, item by item
            if len(items) == 1 or self.fails_whole_batch(error):
                outcome = self.classify_error(error)
                description = self.describe_error(error)
                return [self._result(item.delivery, outcome, description) for item in items]
        # One item spoilt the chunk (or the chunk as a whole failed): each item on its own.
        isolated: list[DeliveryResult] = []
        for index_item in chunk:
            isolated.extend(await self._send_isolated([index_item]))
        return isolated

    def _checked(
        self, items: Sequence[Prepared[P]], results: Sequence[DeliveryResult]
    ) -> list[DeliveryResult]:
        keys = [item.delivery.idempotency_key for item in items]
        if [result.idempotency_key for result in results] != keys:
            raise RuntimeError(
                f"destination {self.name!r} answered {len(results)} results "
                f"that do not match the {len(keys)} deliveries sent, in order"
            )
        return list(results)

    @staticmethod
    def _result(delivery: Delivery, outcome: Outcome, error: str | None = None) -> DeliveryResult:
        return DeliveryResult(
            idempotency_key=delivery.idempotency_key, outcome=outcome, error=error
        )

    def _record(self, batch: Sequence[Delivery], results: Sequence[DeliveryResult]) -> None:
        """Count outcomes once per batch; one line per failure, per delivery only at debug."""
        counts = Counter(
            (delivery.store, result.outcome.value)
            for delivery, result in zip(batch, results, strict=True)
        )
        for (store, outcome), count in counts.items():
            DELIVERIES.labels(store=store, destination=self.name, outcome=outcome).inc(count)
        for delivery, result in zip(batch, results, strict=True):
            fields = {
                "destination": self.name,
                "store": delivery.store,
                "order_id": delivery.order_id,
                "version": delivery.version,
                "idempotency_key": delivery.idempotency_key,
            }
            if result.outcome is Outcome.DELIVERED:
                log.debug("destination.delivered", **fields)
            else:
                log.warning(
                    "destination.failed",
                    outcome=result.outcome.value,
                    error=result.error,
                    **fields,
                )
