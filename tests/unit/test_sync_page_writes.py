"""`page_writes`: the ledger rows a page's decisions become, without a database."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from b2bsync.domain.sync_state import SyncState
from b2bsync.store.events import OrderEvent
from b2bsync.store.signals import SignalBundle
from b2bsync.sync.decide import DecisionPolicy, NewVersion, decide, decide_one
from b2bsync.sync.engine import page_writes
from tests.unit.test_sync_decide import (
    NO_SIGNAL,
    NOW,
    ONLINE,
    PAYMENT,
    POLICY,
    STORE,
    T0,
    draft,
    pending_row,
    row_of,
)


def events_of(rows: list[dict[str, object]], order_id: int) -> list[object]:
    return [row["event"] for row in rows if row["order_id"] == order_id]


def test_a_new_order_is_inserted_seen_classified_and_versioned_in_that_order() -> None:
    writes = page_writes(STORE, decide([draft()], {}, {101: ONLINE}, NOW, POLICY), NOW)
    assert [row["order_id"] for row in writes.inserts] == [101]
    assert writes.inserts[0]["sync_state"] == SyncState.READY.value
    assert writes.updates == []
    assert [(v["order_id"], v["version"]) for v in writes.versions] == [(101, 1)]
    assert events_of(writes.events, 101) == ["seen", "classified", "versioned"]


def test_a_held_order_keeps_no_check_and_says_why() -> None:
    late = T0 + timedelta(hours=1)
    found = decide_one(draft(), pending_row(), NO_SIGNAL, late, POLICY)
    writes = page_writes(STORE, [found], late)
    (update,) = writes.updates
    assert (update["sync_state"], update["next_check_at"]) == (SyncState.HELD.value, None)
    assert update["check_attempts"] == 3
    assert writes.events[-1]["event"] == OrderEvent.HELD.value


def test_an_order_of_another_channel_ends_skipped() -> None:
    policy = DecisionPolicy(
        **{
            **{name: getattr(POLICY, name) for name in POLICY.__slots__},
            "channels": frozenset({1}),
        }
    )
    found = decide_one(draft(channel_id=2), None, ONLINE, NOW, policy)
    writes = page_writes(STORE, [found], NOW)
    assert writes.inserts[0]["sync_state"] == SyncState.SKIPPED.value
    assert events_of(writes.events, 101)[-1] == OrderEvent.SKIPPED.value


def test_an_unchanged_order_refreshes_only_its_observed_columns() -> None:
    first = decide_one(draft(), None, ONLINE, NOW, POLICY)
    assert isinstance(first, NewVersion)
    touched = draft(date_modified=T0 + timedelta(minutes=1))
    writes = page_writes(STORE, [decide_one(touched, row_of(first), ONLINE, NOW, POLICY)], NOW)
    (update,) = writes.updates
    assert set(update) == {
        "store",
        "order_id",
        "status_id",
        "status",
        "date_modified",
        "is_archived",
        "signals",
        "signals_seen_at",
        "updated_at",
    }
    assert (writes.inserts, writes.versions, writes.events) == ([], [], [])


kinds = st.sampled_from([ONLINE, PAYMENT, NO_SIGNAL])


@given(st.lists(st.tuples(kinds, st.sampled_from([0, 11])), min_size=1, max_size=12))
def test_new_rows_share_one_shape_so_a_page_is_one_insert(
    items: list[tuple[SignalBundle, int]],
) -> None:
    page = [draft(100 + n, status_id=status) for n, (_, status) in enumerate(items)]
    bundles = {100 + n: bundle for n, (bundle, _) in enumerate(items)}
    writes = page_writes(STORE, decide(page, {}, bundles, NOW, POLICY), NOW)
    assert len({frozenset(row) for row in writes.inserts}) == 1
    assert len({frozenset(row) for row in writes.events}) == 1
    assert sorted(row["order_id"] for row in writes.inserts) == [d.order_id for d in page]
    for d in page:
        assert events_of(writes.events, d.order_id)[0] == OrderEvent.SEEN.value
