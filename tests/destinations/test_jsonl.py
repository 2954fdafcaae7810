"""The jsonl destination: conformance, durability format and recovery from a torn line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from b2bsync.destinations import JsonlDestination
from b2bsync.domain.delivery import Delivery, Outcome
from tests.destinations.conformance import (
    MAX_BATCH,
    STORE,
    DestinationConformance,
    Harness,
    make_delivery,
)
from tests.destinations.killed_writer import deliver_until_killed


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_bytes().splitlines()]


class JsonlHarness(Harness):
    monotonic = True

    def __init__(self, destination: JsonlDestination) -> None:
        self.destination = destination
        self.path = destination.path

    async def stored(self) -> dict[str, dict[str, Any]]:
        return {line["idempotency_key"]: line["record"] for line in _lines(self.path)}

    async def effect(self) -> object:
        return self.path.read_bytes() if self.path.exists() else b""

    async def current_versions(self) -> dict[tuple[str, int], int]:
        # The last line of an order is what a reader of the file takes as its state.
        return {(line["store"], line["order_id"]): line["version"] for line in _lines(self.path)}


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[JsonlHarness]:
    destination = JsonlDestination(
        "archive", path=tmp_path / "out" / "orders.jsonl", max_batch=MAX_BATCH
    )
    try:
        yield JsonlHarness(destination)
    finally:
        await destination.aclose()


class TestJsonlConformance(DestinationConformance):
    pass


async def test_each_line_is_the_delivery(harness: JsonlHarness) -> None:
    batch = [make_delivery(1), make_delivery(2, 2)]
    await harness.destination.deliver(batch)
    raw = harness.path.read_bytes()
    assert raw.endswith(b"\n")
    assert raw.count(b"\n") == 2
    assert _lines(harness.path) == [json.loads(d.model_dump_json()) for d in batch]


async def test_a_new_process_remembers_what_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    first = JsonlDestination("archive", path=path)
    await first.deliver([make_delivery(1), make_delivery(2, 3)])
    await first.aclose()
    before = path.read_bytes()
    second = JsonlDestination("archive", path=path)
    try:
        again = await second.deliver([make_delivery(1), make_delivery(2, 2), make_delivery(3)])
    finally:
        await second.aclose()
    assert [r.outcome for r in again] == [Outcome.DELIVERED] * 3
    after = path.read_bytes()
    assert after.startswith(before)
    assert [line["idempotency_key"] for line in _lines(path)] == [
        f"{STORE}:1:1",
        f"{STORE}:2:3",
        f"{STORE}:3:1",
    ]


def _torn(delivery: Delivery) -> bytes:
    line = delivery.model_dump_json().encode()
    return line[: len(line) // 2]


async def test_a_torn_last_line_is_cut_and_its_delivery_written_again(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    kept = make_delivery(1)
    torn = make_delivery(2)
    # What a crash in the middle of an append leaves: whole lines, then part of one.
    path.write_bytes(kept.model_dump_json().encode() + b"\n" + _torn(torn))
    destination = JsonlDestination("archive", path=path)
    try:
        results = await destination.deliver([kept, torn])
    finally:
        await destination.aclose()
    assert [r.outcome for r in results] == [Outcome.DELIVERED] * 2
    assert _lines(path) == [json.loads(kept.model_dump_json()), json.loads(torn.model_dump_json())]


async def test_a_file_of_something_else_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text('{"hello": "world"}\n')
    destination = JsonlDestination("archive", path=path)
    try:
        [result] = await destination.deliver([make_delivery(1)])
    finally:
        await destination.aclose()
    assert result.outcome is Outcome.RETRY
    assert result.error is not None
    assert "notes.jsonl:1 is not a b2bsync delivery line" in result.error
    assert path.read_text() == '{"hello": "world"}\n'


async def test_an_unwritable_path_is_retry(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    destination = JsonlDestination("archive", path=blocker / "orders.jsonl")
    try:
        [result] = await destination.deliver([make_delivery(1)])
    finally:
        await destination.aclose()
    assert result.outcome is Outcome.RETRY
    assert result.error is not None
    assert result.error.startswith(("FileExistsError", "NotADirectoryError"))


_WRITER = """
import asyncio, sys
from pathlib import Path
from b2bsync.destinations import JsonlDestination
from b2bsync.observability import configure_logging
from tests.destinations.conformance import make_delivery

async def main() -> None:
    configure_logging()  # log lines to stderr; stdout carries the acknowledgements
    destination = JsonlDestination("archive", path=Path(sys.argv[1]), max_batch=7)
    for start in range(1, 100_000, 7):
        batch = [make_delivery(order_id) for order_id in range(start, start + 7)]
        await destination.deliver(batch)
        print(start + 6, flush=True)

asyncio.run(main())
"""


@pytest.mark.parametrize("kill_after", [3, 40, 150])
async def test_sigkill_mid_stream_then_restart_writes_each_key_once(
    tmp_path: Path, kill_after: int
) -> None:
    path = tmp_path / "orders.jsonl"
    acknowledged = deliver_until_killed(_WRITER, [str(path)], kill_after)
    # Everything acknowledged before the kill is on disk; then the outbox sends it all again.
    on_disk = {line["order_id"] for line in _lines_tolerant(path)}
    assert set(range(1, acknowledged + 1)) <= on_disk
    everything = [make_delivery(order_id) for order_id in range(1, acknowledged + 50)]
    destination = JsonlDestination("archive", path=path)
    try:
        results = await destination.deliver(everything)
    finally:
        await destination.aclose()
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    keys = [line["idempotency_key"] for line in _lines(path)]
    assert sorted(keys) == sorted(d.idempotency_key for d in everything)


def _lines_tolerant(path: Path) -> list[dict[str, Any]]:
    """Whole lines only: the writer may have died in the middle of one."""
    content = path.read_bytes()
    return [json.loads(line) for line in content[: content.rfind(b"\n") + 1].splitlines()]
