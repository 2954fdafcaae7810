"""The change feed on SQLite and PostgreSQL: webhook dedupe by hash, leases, acks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from b2bsync.store import ChangeSource, Database
from tests.integration.store_support import STORE, T0, db, later

__all__ = ["db"]

LEASE = timedelta(seconds=60)


async def test_a_webhook_hash_is_accepted_once_per_store(db: Database) -> None:
    async with db.transaction() as tx:
        assert await tx.feed.add(
            STORE, [101], ChangeSource.WEBHOOK, T0, webhook_hash="h1", scope="store/order/updated"
        )
        assert not await tx.feed.add(
            STORE, [101], ChangeSource.WEBHOOK, later(1), webhook_hash="h1"
        )
        assert await tx.feed.add("other", [101], ChangeSource.WEBHOOK, T0, webhook_hash="h1")
        # Without a hash nothing is deduplicated: polls announce the same order many times.
        assert await tx.feed.add(STORE, [101, 102], ChangeSource.POLL, later(2))
        assert await tx.feed.add(STORE, [101], ChangeSource.POLL, later(3))
        assert not await tx.feed.add(STORE, [], ChangeSource.POLL, later(3))
        with pytest.raises(ValueError, match="exactly one order"):
            await tx.feed.add(STORE, [1, 2], ChangeSource.WEBHOOK, T0, webhook_hash="h2")
        assert await tx.feed.pending_count(STORE) == 4
        assert await tx.feed.pending_count() == 5


async def test_a_duplicate_webhook_in_a_concurrent_transaction_is_dropped(db: Database) -> None:
    async def receive() -> bool:
        async with db.transaction() as tx:
            return await tx.feed.add(STORE, [7], ChangeSource.WEBHOOK, T0, webhook_hash="same")

    results = await asyncio.wait_for(asyncio.gather(*(receive() for _ in range(5))), 30)
    assert sorted(results) == [False, False, False, False, True]


async def test_claim_leases_oldest_first_and_ack_finishes(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.feed.add(STORE, [1, 2, 3], ChangeSource.POLL, T0)
        await tx.feed.add(STORE, [4], ChangeSource.METAFIELD, later(1), scope="orderType")
        await tx.feed.add("other", [9], ChangeSource.B2B, T0)
    async with db.transaction() as tx:
        first = await tx.feed.claim(STORE, 2, later(2), LEASE)
        second = await tx.feed.claim(STORE, 10, later(2), LEASE)
        assert await tx.feed.claim(STORE, 10, later(2), LEASE) == []
    assert [item.order_id for item in first] == [1, 2]
    assert [(item.order_id, item.source, item.scope) for item in second] == [
        (3, ChangeSource.POLL, None),
        (4, ChangeSource.METAFIELD, "orderType"),
    ]
    assert second[1].received_at == later(1)
    async with db.transaction() as tx:
        assert await tx.feed.ack([item.id for item in first], later(3)) == 2
        assert await tx.feed.ack([first[0].id], later(3)) == 0
        assert await tx.feed.ack([], later(3)) == 0
        assert await tx.feed.pending_count(STORE) == 2
    # The worker that leased `second` died: after the lease those rows come back, acked ones not.
    expired = later(2) + LEASE
    async with db.transaction() as tx:
        assert await tx.feed.claim(STORE, 10, expired - timedelta(seconds=1), LEASE) == []
        again = await tx.feed.claim(STORE, 10, expired, LEASE)
    assert [item.id for item in again] == [item.id for item in second]


async def test_concurrent_claimers_never_share_a_row(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.feed.add(STORE, range(1, 31), ChangeSource.POLL, T0)

    async def worker() -> list[int]:
        got: list[int] = []
        while True:
            async with db.transaction() as tx:
                items = await tx.feed.claim(STORE, 4, later(1), LEASE)
            if not items:
                return got
            got.extend(item.order_id for item in items)
            await asyncio.sleep(0)

    results = await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(3))), 30)
    claimed = sorted(order_id for result in results for order_id in result)
    assert claimed == list(range(1, 31))
