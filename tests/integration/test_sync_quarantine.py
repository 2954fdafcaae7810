"""One malformed record per stream, on the wire (a company, invoice, payment, B2B order,
`orderType` metafield, V2 order, or a line item inside one): it is quarantined and named, every
other order lands once with its right type, and a later clean read releases it."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from b2bsync.domain.rejects import RejectedStream
from b2bsync.store import Database
from b2bsync.sync import retry_quarantined, run_once
from tests.corrupting_proxy import CORRUPTIONS, run_corrupting_proxy
from tests.integration.sync_support import (
    Recorder,
    any_db,
    expected_type,
    ledger,
    sync_context,
    truth,
)
from tests.sandbox_server import RunningSandbox

__all__ = ["any_db"]


@pytest.mark.parametrize("stream", sorted(CORRUPTIONS))
async def test_a_malformed_record_is_set_aside_alone_and_released_by_a_clean_read(
    sandbox: RunningSandbox, any_db: Database, stream: str
) -> None:
    corruption = CORRUPTIONS[stream]
    erp = Recorder()
    expected = {order_id: expected_type(row["kind"]) for order_id, row in truth(sandbox).items()}
    with run_corrupting_proxy(sandbox.base_url, corruption) as proxy:
        through_proxy = dataclasses.replace(sandbox, base_url=proxy.base_url)
        async with sync_context(through_proxy, any_db, destinations=(erp.configured(),)) as ctx:
            first = await run_once(ctx)
            assert proxy.spoilt, f"the sandbox served no {stream} record to spoil"
            spoilt_key = str(proxy.spoilt[0][corruption.id_field])
            async with any_db.transaction(readonly=True) as tx:
                quarantined = await tx.quarantine.records(ctx.store)
            assert {(r.stream, r.key) for r in quarantined} == {
                (RejectedStream(corruption.stream), spoilt_key)
            }
            [record] = quarantined
            assert record.path
            assert record.reason.startswith(record.path)
            assert corruption.id_field in record.payload
            counted = first.poll.processed.quarantined + sum(r.rejected for r in first.poll.streams)
            assert counted >= 1

            entries = await ledger(any_db, ctx.store)
            # Only an order never parsed (a malformed V2 order) is missing from the ledger.
            assert set(entries) <= set(expected)
            assert set(expected) - set(entries) <= {record.order_id}
            wrong = {
                order_id
                for order_id, entry in entries.items()
                if entry.order_type is not None and entry.order_type is not expected[order_id]
            }
            assert wrong == set()
            unclassified = {i for i, entry in entries.items() if entry.order_type is None}
            assert unclassified <= {record.order_id}

            # A scan reads the record again only once it changes upstream; replay reads it now.
            still = await retry_quarantined(ctx, ctx.clock())
            assert (still.released, still.still_bad) == (0, 1)
            proxy.corrupting = False
            fixed = await retry_quarantined(ctx, ctx.clock())
            assert (fixed.released, fixed.still_bad) == (1, 0)
            await run_once(ctx)
            async with any_db.transaction(readonly=True) as tx:
                assert await tx.quarantine.records(ctx.store) == []
    entries = await ledger(any_db, ctx.store)
    assert {i: entry.order_type for i, entry in entries.items()} == expected
    keys = Counter(delivery.idempotency_key for delivery in erp.received)
    assert max(keys.values()) == 1
    assert {delivery.order_id for delivery in erp.received} >= {
        order_id for order_id, entry in entries.items() if entry.status_id != 0
    }
