"""Plugin functions the python destination's tests name as `tests.destinations.plugin:...`.

They behave like a careful user's plugin: idempotent on the key, refusing what they can never
book with `PermanentError`. State is module-global because that is where a plugin keeps it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from b2bsync.destinations import PermanentError
from b2bsync.domain.delivery import Delivery, DeliveryResult, Outcome

REFUSED_ORDER = 904
"""An order the plugins refuse for good."""
FLAKY_ORDER = 907
"""An order whose booking fails while `FLAKY` is true (a temporary failure)."""

BOOKED: dict[str, dict[str, Any]] = {}
CALLS: list[list[str]] = []
FLAKY = [True]


def reset() -> None:
    """Forget everything booked and called."""
    BOOKED.clear()
    CALLS.clear()
    FLAKY[0] = True


def _book(batch: list[Delivery]) -> None:
    CALLS.append([delivery.idempotency_key for delivery in batch])
    for delivery in batch:
        if delivery.order_id == REFUSED_ORDER:
            raise PermanentError(f"order {delivery.order_id} has no ledger account")
        if delivery.order_id == FLAKY_ORDER and FLAKY[0]:
            raise ConnectionError("ERP is restarting")
    for delivery in batch:
        BOOKED.setdefault(delivery.idempotency_key, delivery.record.model_dump(mode="json"))


def book(batch: list[Delivery]) -> None:
    """A synchronous plugin."""
    _book(batch)


async def book_async(batch: list[Delivery]) -> None:
    """An asynchronous plugin."""
    await asyncio.sleep(0)
    _book(batch)


def book_with_results(batch: list[Delivery]) -> list[DeliveryResult]:
    """A plugin that answers per delivery instead of raising."""
    CALLS.append([delivery.idempotency_key for delivery in batch])
    results = []
    for delivery in batch:
        if delivery.order_id == REFUSED_ORDER:
            results.append(
                DeliveryResult(
                    idempotency_key=delivery.idempotency_key,
                    outcome=Outcome.DEAD,
                    error="no ledger account",
                )
            )
            continue
        BOOKED.setdefault(delivery.idempotency_key, delivery.record.model_dump(mode="json"))
        results.append(
            DeliveryResult(idempotency_key=delivery.idempotency_key, outcome=Outcome.DELIVERED)
        )
    return results


def answer_nonsense(batch: list[Delivery]) -> str:
    """A broken plugin: its answer is neither None nor results."""
    return "ok"


class Books:
    """Targets may name attributes of attributes (`module:Books.post`)."""

    @staticmethod
    def post(batch: list[Delivery]) -> None:
        _book(batch)


NOT_CALLABLE = 42
