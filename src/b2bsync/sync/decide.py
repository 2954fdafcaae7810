"""The pure decision core: what a page of order drafts does to the ledger.

`decide` looks at each draft with its ledger row, its cached signals, the time and the
settings, and says what happens to the order: nothing (`Unchanged`, `Held`), a wait for a
classification (`Pending`), or a new version with the deliveries to queue (`NewVersion`). No
I/O and no awaits: the engine reads a page's rows in one go, decides, and writes the decisions
as one set (`sync.engine`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from b2bsync.destinations.routing import Route
from b2bsync.domain.classification import (
    Classification,
    Signals,
    SignalSource,
    UnclassifiedPolicy,
    classify,
    classify_after_deadline,
)
from b2bsync.domain.delivery import Delivery, delivery_kind, idempotency_key
from b2bsync.domain.fingerprint import content_hash
from b2bsync.domain.records import OrderRecord
from b2bsync.domain.sync_state import SyncState
from b2bsync.store.errors import LedgerError
from b2bsync.store.ledger import CurrentRow, ObservedOrder, changed_fields, merge_signals
from b2bsync.store.signals import SignalBundle
from b2bsync.sync.mapping import compose, lines_are_payment_product, observed, signals_for

__all__ = [
    "INCOMPLETE_STATUS",
    "Decision",
    "DecisionPolicy",
    "Held",
    "NewVersion",
    "Pending",
    "PendingEnd",
    "Unchanged",
    "VersionEnd",
    "decide",
    "decide_one",
    "recheck_delay",
]

INCOMPLETE_STATUS = 0
"""Status 0 (Incomplete): an abandoned checkout; tracked, never delivered."""

HELD_REASON = "no signal before the deadline"
INCOMPLETE_REASON = "status 0 (Incomplete) is never delivered"


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    """The settings and store configuration a decision depends on."""

    store: str
    classification_deadline: timedelta
    policy: UnclassifiedPolicy
    recheck_base: timedelta
    recheck_cap: timedelta
    routes: tuple[tuple[str, Route], ...] = ()
    """The destinations as (name, route), in configuration order."""
    channels: frozenset[int] | None = None
    """Channels whose orders are delivered; None: every channel."""
    payment_product_id: int | None = None
    """The Invoice Portal payment product (from `/ip/config`), a signal when known."""


class PendingEnd(StrEnum):
    """Where an order without a classification ends up."""

    WAITING = "waiting"
    """Re-checked with backoff until its deadline."""
    HELD = "held"
    """Its deadline passed and the policy holds it for a person."""
    INCOMPLETE = "incomplete"
    """Status 0 (Incomplete): kept as `skipped`, never delivered."""


class VersionEnd(StrEnum):
    """What follows a new version."""

    DELIVER = "deliver"
    """Queued for every destination that accepts it (`deliveries`)."""
    INCOMPLETE = "incomplete"
    """Status 0: versioned, never delivered; its state follows its earlier outbox rows."""
    OTHER_CHANNEL = "other_channel"
    """From a channel the store does not deliver: kept as `skipped`."""


@dataclass(frozen=True, slots=True)
class Unchanged:
    """No new version: the same content, or a read older than the ledger's."""

    order_id: int
    refreshed: OrderRecord | None
    """The record whose observed fields (status, date_modified, archived) refresh the row;
    None when the read was older than the ledger and nothing is written."""
    signals: Mapping[str, Any]
    signals_seen_at: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Held:
    """Already held for a person, still without a signal: nothing changes."""

    order_id: int


@dataclass(frozen=True, slots=True)
class Pending:
    """Not classifiable yet: the row shows what was observed and when to look again."""

    observed: ObservedOrder
    new: bool
    """No ledger row yet."""
    end: PendingEnd
    signals: Mapping[str, Any]
    signals_seen_at: Mapping[str, str]
    pending_since: datetime
    check_attempts: int
    next_check_at: datetime | None
    """None once held: a held order is not re-checked."""
    deadline: datetime

    @property
    def order_id(self) -> int:
        """The order's id."""
        return self.observed.order_id


@dataclass(frozen=True, slots=True)
class NewVersion:
    """The order's next version, and where it goes."""

    record: OrderRecord
    body: Mapping[str, Any]
    """`record` as JSON, as stored."""
    content_hash: str
    version: int
    changed_fields: tuple[str, ...] | None
    """None for the first version."""
    classification: Classification
    reclassified: bool
    """Type or source differs from the previous version's (always for the first)."""
    new: bool
    """No ledger row yet."""
    signals: Mapping[str, Any]
    signals_seen_at: Mapping[str, str]
    end: VersionEnd
    deliveries: tuple[tuple[str, Delivery], ...]
    """(destination, delivery) for each accepting destination; empty unless `DELIVER`."""

    @property
    def order_id(self) -> int:
        """The order's id."""
        return self.record.order_id


Decision = Unchanged | Held | Pending | NewVersion


def recheck_delay(base: timedelta, cap: timedelta, checks_so_far: int) -> timedelta:
    """Backoff between classification re-checks: doubling from `base` up to `cap`."""
    return timedelta(
        seconds=min(cap.total_seconds(), base.total_seconds() * 2 ** min(checks_so_far, 32))
    )


def _kept(row: CurrentRow | None) -> Classification | None:
    """An already versioned order keeps its classification when no signal is left to say so
    (it came from the policy, or from a check whose result the ledger remembers)."""
    if row is None or row.version == 0 or row.order_type is None:
        return None
    return Classification(
        row.order_type,
        row.classification_source or SignalSource.POLICY,
        row.classification_reason or "kept from the previous version",
    )


def _pending(
    draft: OrderRecord,
    bundle: SignalBundle,
    row: CurrentRow | None,
    signals: Signals,
    now: datetime,
    policy: DecisionPolicy,
    deadline: datetime,
    end: PendingEnd,
) -> Pending:
    if row is not None and row.version > 0:
        raise LedgerError(
            f"order {policy.store}:{draft.order_id} has version {row.version}; "
            "a classified order is never pending again"
        )
    checks = row.check_attempts if row is not None else 0
    merged, stamps = merge_signals(
        row.signals if row is not None else {},
        row.signals_seen_at if row is not None else {},
        signals,
        now,
    )
    return Pending(
        observed=observed(draft, bundle),
        new=row is None,
        end=end,
        signals=merged,
        signals_seen_at=stamps,
        pending_since=(row.pending_since if row is not None else None) or now,
        check_attempts=checks + 1 if row is not None else 0,
        next_check_at=(
            None
            if end is PendingEnd.HELD
            else now + recheck_delay(policy.recheck_base, policy.recheck_cap, checks)
        ),
        deadline=(row.classification_deadline if row is not None else None) or deadline,
    )


def _version(
    record: OrderRecord,
    digest: str,
    row: CurrentRow | None,
    classification: Classification,
    signals: Signals,
    now: datetime,
    policy: DecisionPolicy,
) -> NewVersion:
    body = record.model_dump(mode="json")
    merged, stamps = merge_signals(
        row.signals if row is not None else {},
        row.signals_seen_at if row is not None else {},
        signals,
        now,
    )
    version = row.version + 1 if row is not None else 1
    if record.status_id == INCOMPLETE_STATUS:
        end = VersionEnd.INCOMPLETE
    elif policy.channels is not None and record.channel_id not in policy.channels:
        end = VersionEnd.OTHER_CHANNEL
    else:
        end = VersionEnd.DELIVER
    deliveries: tuple[tuple[str, Delivery], ...] = ()
    if end is VersionEnd.DELIVER:
        accepting = [name for name, route in policy.routes if route.accepts(record)]
        if accepting:
            delivery = Delivery(
                idempotency_key=idempotency_key(policy.store, record.order_id, version),
                store=policy.store,
                order_id=record.order_id,
                version=version,
                kind=delivery_kind(record.order_type),
                record=record,
            )
            deliveries = tuple((name, delivery) for name in accepting)
    return NewVersion(
        record=record,
        body=body,
        content_hash=digest,
        version=version,
        changed_fields=(
            changed_fields(row.record, body) if row is not None and row.record is not None else None
        ),
        classification=classification,
        reclassified=(
            row is None
            or row.order_type is not classification.order_type
            or row.classification_source is not classification.source
        ),
        new=row is None,
        signals=merged,
        signals_seen_at=stamps,
        end=end,
        deliveries=deliveries,
    )


def decide_one(
    draft: OrderRecord,
    row: CurrentRow | None,
    bundle: SignalBundle,
    now: datetime,
    policy: DecisionPolicy,
) -> Decision:
    """What one freshly read or re-composed order does to the ledger.

    An order without a signal waits (`Pending`, re-checked with backoff) until its deadline,
    then the policy decides or holds it; an invoice payment is therefore never delivered as an
    online order. A read older than the ledger's, or with the same content hash, is `Unchanged`.
    """
    product = (
        lines_are_payment_product(draft, policy.payment_product_id)
        if policy.payment_product_id is not None
        else None
    )
    signals = signals_for(bundle, row.known_signals if row is not None else Signals(), product)
    classification = classify(signals) or _kept(row)
    incomplete = draft.status_id == INCOMPLETE_STATUS
    if classification is None:
        deadline = (
            row.classification_deadline
            if row is not None and row.classification_deadline is not None
            else now + policy.classification_deadline
        )
        passed = not incomplete and deadline <= now
        classification = classify_after_deadline(policy.policy) if passed else None
        if classification is None:
            if row is not None and row.sync_state is SyncState.HELD:
                return Held(draft.order_id)
            if passed:
                end = PendingEnd.HELD
            elif incomplete:
                end = PendingEnd.INCOMPLETE
            else:
                end = PendingEnd.WAITING
            return _pending(draft, bundle, row, signals, now, policy, deadline, end)
    record = compose(draft, bundle, classification.order_type)
    if row is not None and record.date_modified < row.date_modified:
        # A stale read must not undo a newer one.
        return Unchanged(record.order_id, None, row.signals, row.signals_seen_at)
    digest = content_hash(record)
    if row is not None and row.content_hash == digest:
        merged, stamps = merge_signals(row.signals, row.signals_seen_at, signals, now)
        return Unchanged(record.order_id, record, merged, stamps)
    return _version(record, digest, row, classification, signals, now, policy)


def decide(
    drafts: Sequence[OrderRecord],
    rows: Mapping[int, CurrentRow],
    bundles: Mapping[int, SignalBundle],
    now: datetime,
    policy: DecisionPolicy,
) -> list[Decision]:
    """One decision per draft, in order (`decide_one`); order ids must be distinct, since
    each decision starts from the row as it was before the page."""
    return [
        decide_one(draft, rows.get(draft.order_id), bundles[draft.order_id], now, policy)
        for draft in drafts
    ]
