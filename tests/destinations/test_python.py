"""The python destination: plugins named `module:function` or by entry point."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from b2bsync.destinations import DestinationConfigError, PythonDestination
from b2bsync.destinations.python import ENTRY_POINT_GROUP, resolve_target
from b2bsync.domain.delivery import Delivery, Outcome
from tests.destinations import plugin
from tests.destinations.conformance import (
    MAX_BATCH,
    DestinationConformance,
    Harness,
    make_delivery,
)


class PythonHarness(Harness):
    def __init__(self, destination: PythonDestination) -> None:
        self.destination = destination

    async def stored(self) -> dict[str, dict[str, Any]]:
        return dict(plugin.BOOKED)

    async def effect(self) -> object:
        return dict(plugin.BOOKED)

    def poison(self) -> list[Delivery]:
        return [make_delivery(plugin.REFUSED_ORDER)]


@pytest.fixture(autouse=True)
def _fresh_plugin() -> Iterator[None]:
    plugin.reset()
    yield
    plugin.reset()


@pytest.fixture(
    params=["book", "book_async", "book_with_results", "Books.post"],
)
def harness(request: pytest.FixtureRequest) -> PythonHarness:
    target = f"tests.destinations.plugin:{request.param}"
    return PythonHarness(PythonDestination.from_target("books", target, max_batch=MAX_BATCH))


class TestPythonConformance(DestinationConformance):
    pass


async def test_the_plugin_receives_the_batch_in_chunks() -> None:
    destination = PythonDestination.from_target(
        "books", "tests.destinations.plugin:book", max_batch=2
    )
    batch = [make_delivery(order_id) for order_id in (1, 2, 3)]
    await destination.deliver(batch)
    assert [[d.idempotency_key for d in batch[:2]], [batch[2].idempotency_key]] == plugin.CALLS


async def test_a_temporary_failure_is_retry_then_delivered() -> None:
    destination = PythonDestination.from_target("books", "tests.destinations.plugin:book_async")
    batch = [make_delivery(1), make_delivery(plugin.FLAKY_ORDER), make_delivery(2)]
    first = await destination.deliver(batch)
    assert [r.outcome for r in first] == [Outcome.DELIVERED, Outcome.RETRY, Outcome.DELIVERED]
    assert first[1].error == "ConnectionError: ERP is restarting"
    plugin.FLAKY[0] = False
    second = await destination.deliver(batch)
    assert [r.outcome for r in second] == [Outcome.DELIVERED] * 3
    assert set(plugin.BOOKED) == {d.idempotency_key for d in batch}


async def test_a_plugin_answering_nonsense_is_retry_naming_it() -> None:
    destination = PythonDestination.from_target(
        "books", "tests.destinations.plugin:answer_nonsense"
    )
    [result] = await destination.deliver([make_delivery(1)])
    assert result.outcome is Outcome.RETRY
    assert result.error is not None
    assert "tests.destinations.plugin:answer_nonsense returned str" in result.error


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tests.destinations.no_such_module:book", "cannot import module"),
        ("tests.destinations.plugin:no_such_function", "has no 'no_such_function'"),
        ("tests.destinations.plugin:NOT_CALLABLE", "is not callable"),
        ("no-such-entry-point", "no entry point of that name"),
    ],
)
def test_bad_targets_fail_at_configuration_naming_the_target(target: str, message: str) -> None:
    with pytest.raises(DestinationConfigError, match=message) as caught:
        PythonDestination.from_target("books", target)
    assert repr(target) in str(caught.value)


async def test_an_entry_point_names_the_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An installed distribution is a *.dist-info directory on sys.path with entry_points.txt.
    dist_info = tmp_path / "erp_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: erp-plugin\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nerp-books = tests.destinations.plugin:book\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert resolve_target("erp-books") is plugin.book
    destination = PythonDestination.from_target("books", "erp-books")
    [result] = await destination.deliver([make_delivery(1)])
    assert result.outcome is Outcome.DELIVERED
    assert list(plugin.BOOKED) == [make_delivery(1).idempotency_key]
