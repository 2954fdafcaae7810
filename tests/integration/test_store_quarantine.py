"""The quarantine repository on SQLite and PostgreSQL: set aside, refresh, release."""

from __future__ import annotations

from datetime import timedelta

from b2bsync.domain.rejects import (
    MAX_PAYLOAD_CHARS,
    Rejected,
    RejectedStream,
    capped_payload,
    record_key,
)
from b2bsync.store import Database
from tests.integration.store_support import STORE, T0, db

__all__ = ["db"]


def _rejected(order_id: int, reason: str, raw: object | None = None) -> Rejected:
    payload, size = capped_payload(raw if raw is not None else {"id": order_id})
    return Rejected(
        stream=RejectedStream.V2_ORDER,
        key=str(order_id),
        order_id=order_id,
        reason=reason,
        path="total_inc_tax",
        payload=payload,
        payload_chars=size,
    )


async def test_a_record_seen_bad_twice_is_one_row_counting_both_sightings(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.quarantine.put(STORE, [_rejected(7, "first")], T0)
    later = T0 + timedelta(minutes=5)
    async with db.transaction() as tx:
        await tx.quarantine.put(STORE, [_rejected(7, "second"), _rejected(8, "other")], later)
    async with db.transaction(readonly=True) as tx:
        records = await tx.quarantine.records(STORE, order_id=7)
        counts = await tx.quarantine.counts(STORE)
        assert await tx.quarantine.counts("another-store") == {}
    [record] = records
    assert (record.reason, record.times_seen) == ("second", 2)
    assert (record.first_seen_at, record.last_seen_at) == (T0, later)
    assert counts == {RejectedStream.V2_ORDER: 2}


async def test_release_drops_only_the_named_records_of_that_stream(db: Database) -> None:
    metafield = Rejected(RejectedStream.ORDER_METAFIELD, "7", 7, "bad value", "value", "{}", 2)
    async with db.transaction() as tx:
        await tx.quarantine.put(STORE, [_rejected(7, "bad"), _rejected(8, "bad"), metafield], T0)
    async with db.transaction() as tx:
        assert await tx.quarantine.release(STORE, RejectedStream.V2_ORDER, ["7", "9"]) == 1
    async with db.transaction(readonly=True) as tx:
        left = {(r.stream, r.key) for r in await tx.quarantine.records(STORE)}
    assert left == {(RejectedStream.V2_ORDER, "8"), (RejectedStream.ORDER_METAFIELD, "7")}


def test_payloads_are_capped_and_keep_their_full_length() -> None:
    raw = {"id": 1, "note": "é" * (MAX_PAYLOAD_CHARS * 2)}
    payload, size = capped_payload(raw)
    assert len(payload) == MAX_PAYLOAD_CHARS
    assert size > MAX_PAYLOAD_CHARS * 2
    assert payload.startswith('{"id": 1, "note": "éé')


def test_a_record_without_a_usable_id_is_keyed_by_a_stable_digest() -> None:
    assert record_key({"id": 42}, "id") == "42"
    assert record_key({"id": None, "bcOrderId": "17"}, "id", "bcOrderId") == "17"
    assert record_key({"id": True}, "id").startswith("sha256:")
    assert record_key(["not", "an", "object"], "id") == record_key(["not", "an", "object"], "id")
    assert record_key({"id": [1]}, "id") != record_key({"id": [2]}, "id")
