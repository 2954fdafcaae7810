"""What every destination gets from the base class: metrics, logs, checks, chunking."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from b2bsync.destinations import BaseDestination, Destination, JsonlDestination, Prepared
from b2bsync.domain.delivery import Delivery, DeliveryKind, DeliveryResult, Outcome
from tests.destinations.conformance import STORE, inconsistent_delivery, make_delivery


def _count(destination: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "b2bsync_destination_deliveries_total",
        {"store": STORE, "destination": destination, "outcome": outcome},
    )
    return value or 0.0


async def test_outcomes_are_counted_per_batch_and_failures_logged_without_payloads(
    tmp_path: Path,
) -> None:
    destination = JsonlDestination("metrics-jsonl", path=tmp_path / "m.jsonl")
    before = (_count("metrics-jsonl", "delivered"), _count("metrics-jsonl", "dead"))
    with capture_logs() as logs:
        await destination.deliver([make_delivery(1), inconsistent_delivery(901), make_delivery(2)])
    await destination.aclose()
    assert _count("metrics-jsonl", "delivered") == before[0] + 2
    assert _count("metrics-jsonl", "dead") == before[1] + 1
    # A failure is one warning line; a success is a debug line at most (none on the hot path
    # when logging is at info, the default).
    [failed] = [log for log in logs if log["event"] == "destination.failed"]
    assert (failed["order_id"], failed["log_level"], failed["outcome"]) == (901, "warning", "dead")
    delivered = [log for log in logs if log["event"] == "destination.delivered"]
    assert {log["order_id"] for log in delivered} <= {1, 2}
    assert all(log["log_level"] == "debug" for log in delivered)
    assert "idempotency key" in failed["error"]
    assert all("record" not in log for log in logs)


class _Miscounting(BaseDestination[int]):
    """A destination whose `send` breaks the contract by dropping the last result."""

    def prepare(self, delivery: Delivery) -> int:
        return delivery.order_id

    async def send(self, items: Sequence[Prepared[int]]) -> list[DeliveryResult]:
        return [
            DeliveryResult(idempotency_key=item.delivery.idempotency_key, outcome=Outcome.DELIVERED)
            for item in items[:-1]
        ]


async def test_a_send_that_breaks_the_contract_is_retry_not_a_crash() -> None:
    destination = _Miscounting("broken")
    assert isinstance(destination, Destination)
    results = await destination.deliver([make_delivery(1), make_delivery(2)])
    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]
    assert all(r.error and "do not match" in r.error for r in results)


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        _Miscounting("broken", max_batch=0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"store": "other"}, "record is order"),
        ({"order_id": 2}, "idempotency key"),
        ({"kind": DeliveryKind.PAYMENT}, "does not fit order type"),
    ],
)
async def test_inconsistent_deliveries_are_dead(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    good = make_delivery(1)
    update = dict(change)
    if "store" in update:
        update["idempotency_key"] = f"other:{good.order_id}:{good.version}"
    bad = good.model_copy(update=update)
    destination = JsonlDestination("checks", path=tmp_path / "c.jsonl")
    [result] = await destination.deliver([bad])
    await destination.aclose()
    assert result.outcome is Outcome.DEAD
    assert result.error is not None
    assert message in result.error
    assert not (tmp_path / "c.jsonl").exists() or (tmp_path / "c.jsonl").read_text() == ""


class _Outage(BaseDestination[int]):
    """A destination that is down; `whole` says whether it knows the error is global."""

    def __init__(self, *, whole: bool) -> None:
        super().__init__("outage", max_batch=10)
        self.whole = whole
        self.sends: list[int] = []

    def prepare(self, delivery: Delivery) -> int:
        return delivery.order_id

    async def send(self, items: Sequence[Prepared[int]]) -> list[DeliveryResult]:
        self.sends.append(len(items))
        raise ConnectionError("connection refused")

    def fails_whole_batch(self, error: Exception) -> bool:
        return self.whole


@pytest.mark.parametrize(("whole", "sends"), [(True, [4]), (False, [4, 1, 1, 1, 1])])
async def test_an_outage_fails_the_chunk_at_once_when_known_to_be_global(
    whole: bool, sends: list[int]
) -> None:
    destination = _Outage(whole=whole)
    results = await destination.deliver([make_delivery(order_id) for order_id in range(1, 5)])
    assert [r.outcome for r in results] == [Outcome.RETRY] * 4
    assert all(r.error == "ConnectionError: connection refused" for r in results)
    assert destination.sends == sends


def test_the_public_surface() -> None:
    import b2bsync.destinations as destinations

    assert sorted(destinations.__all__) == [
        "AmqpDestination",
        "BaseDestination",
        "ConfiguredDestination",
        "Destination",
        "DestinationConfigError",
        "DestinationError",
        "DestinationSettings",
        "HttpDestination",
        "InvalidSignature",
        "JsonlDestination",
        "PermanentError",
        "Prepared",
        "PythonDestination",
        "RedisStreamDestination",
        "Route",
        "SqlDestination",
        "build_destinations",
        "destinations_for",
        "sign",
        "verify_signature",
    ]
    assert all(hasattr(destinations, name) for name in destinations.__all__)
