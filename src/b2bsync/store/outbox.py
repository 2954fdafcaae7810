"""The transactional outbox: one row per (ledger version, destination), drained with leases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, Select, Text, and_, cast, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from b2bsync.domain.delivery import Delivery, Outcome
from b2bsync.domain.sync_state import SyncState
from b2bsync.store._sql import (
    among,
    chunks,
    execute_many,
    ignoring_conflicts,
    insert_rows,
    locked_candidates,
    update_many,
)
from b2bsync.store.errors import StoreError
from b2bsync.store.events import OrderEvent
from b2bsync.store.schema import delivery_attempts, order_events, orders, outbox


class OutboxState(StrEnum):
    PENDING = "pending"
    """Waiting for (another) attempt at `next_attempt_at`."""
    DELIVERED = "delivered"
    DEAD = "dead"
    """Gave up; waits for a replay or a skip."""
    SKIPPED = "skipped"
    """A person decided it will not be delivered."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    store: str
    order_id: int
    version: int
    destination: str
    idempotency_key: str
    kind: str
    payload: str
    """The `Delivery` as JSON text, parsed only when the row is delivered."""
    state: OutboxState
    attempts: int
    """Failed attempts since the row was enqueued or last replayed."""
    next_attempt_at: datetime
    claimed_until: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    def delivery(self) -> Delivery:
        """The `Delivery` this row carries."""
        return Delivery.model_validate_json(self.payload)


@dataclass(frozen=True, slots=True)
class FailingDestination:
    """A destination with rows that failed: how many wait for a retry, how many are dead, and
    the newest error."""

    destination: str
    retrying: int
    dead: int
    last_error: str | None
    last_failed_at: datetime | None


@dataclass(frozen=True, slots=True)
class AttemptEntry:
    outbox_id: int
    attempt: int
    at: datetime
    outcome: Outcome
    error: str | None
    duration_ms: int | None


OUTBOX_COLUMNS = (
    outbox.c.id,
    outbox.c.store,
    outbox.c.order_id,
    outbox.c.version,
    outbox.c.destination,
    outbox.c.idempotency_key,
    outbox.c.kind,
    cast(outbox.c.payload, Text).label("payload"),
    outbox.c.state,
    outbox.c.attempts,
    outbox.c.next_attempt_at,
    outbox.c.claimed_until,
    outbox.c.last_error,
    outbox.c.created_at,
    outbox.c.delivered_at,
)
"""`OutboxRow`'s fields in its order, the payload as text: only a delivery parses it (and then
straight into the model)."""


_OUTBOX_FIELDS = tuple(field.name for field in fields(OutboxRow))


def outbox_row(row: Row[Any]) -> OutboxRow:
    """An `OutboxRow` from a row selected as `OUTBOX_COLUMNS`."""
    values = dict(zip(_OUTBOX_FIELDS, row, strict=True))
    values["state"] = OutboxState(values["state"])
    return OutboxRow(**values)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now)


def _claim_candidates(
    destination: str, limit: int, now: datetime, store: str | None
) -> Select[tuple[int]]:
    """The ids `claim_due` locks: due rows, oldest due first, each its order's lowest pending
    version for the destination.

    The plan must walk the (destination, state, next_attempt_at, id) index and stop after
    `limit` rows whatever the table statistics say (a fresh or bulk-loaded outbox has none
    until its first ANALYZE). So the in-order check is a scalar subquery, which PostgreSQL never
    flattens into a join (a `NOT EXISTS` anti-join was planned as a nested loop over every
    pending row for every pending row): it runs per candidate as an index probe on (store,
    order_id, destination, version). It reads `version <=` rather than `=` the lowest pending
    version (the same rows: a due row is pending itself); the planner rates an equality with a
    subquery as matching almost nothing, and with statistics it then preferred sorting every
    due row to a walk it expected to read the whole index.
    """
    earlier = outbox.alias("earlier")
    lowest_pending = (
        select(func.min(earlier.c.version))
        .where(
            earlier.c.store == outbox.c.store,
            earlier.c.order_id == outbox.c.order_id,
            earlier.c.destination == outbox.c.destination,
            earlier.c.state == OutboxState.PENDING.value,
        )
        .scalar_subquery()
    )
    return (
        select(outbox.c.id)
        .where(
            outbox.c.destination == destination,
            outbox.c.state == OutboxState.PENDING.value,
            outbox.c.next_attempt_at <= now,
            _claimable(now),
            *([outbox.c.store == store] if store is not None else []),
            outbox.c.version <= lowest_pending,
        )
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


@dataclass(frozen=True, slots=True)
class Finished:
    """What a destination said about one claimed row."""

    outbox_id: int
    outcome: Outcome
    error: str | None = None
    next_attempt_at: datetime | None = None
    """When to try again (a retry only)."""
    duration_ms: int | None = None


def _finished_row(row: OutboxRow, report: Finished, now: datetime) -> OutboxRow:
    """The pending `row` after `report`."""
    if report.outcome is Outcome.DELIVERED:
        return replace(row, state=OutboxState.DELIVERED, claimed_until=None, delivered_at=now)
    if report.outcome is Outcome.RETRY:
        if report.next_attempt_at is None:
            raise StoreError(f"a retry of outbox row {row.id} needs its next attempt time")
        return replace(
            row,
            attempts=row.attempts + 1,
            next_attempt_at=report.next_attempt_at,
            claimed_until=None,
            last_error=report.error,
        )
    return replace(
        row,
        state=OutboxState.DEAD,
        attempts=row.attempts + 1,
        claimed_until=None,
        last_error=report.error,
    )


_EVENT_OF = {
    Outcome.DELIVERED: OrderEvent.DELIVERED,
    Outcome.RETRY: OrderEvent.DELIVERY_FAILED,
    Outcome.DEAD: OrderEvent.DEAD,
}


def _finished_event(row: OutboxRow, report: Finished, now: datetime) -> dict[str, Any]:
    """The order's history entry for a finished row."""
    detail: dict[str, Any] = {"outbox_id": row.id, "version": row.version}
    if report.error is not None:
        detail["error"] = report.error
    if report.outcome is Outcome.RETRY:
        detail["next_attempt_at"] = row.next_attempt_at.isoformat()
    return {
        "store": row.store,
        "order_id": row.order_id,
        "at": now,
        "event": _EVENT_OF[report.outcome].value,
        "destination": row.destination,
        "detail": detail,
    }


# Where several of an order's rows are open for one destination, their delivery state is the
# most urgent one: a dead letter outranks a retry, a retry outranks a first attempt.
_STATE_PRIORITY = (SyncState.DEAD, SyncState.FAILED, SyncState.READY, SyncState.DELIVERED)


def _payload(
    delivery: Delivery, record_json: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, Any]:
    """`delivery.model_dump(mode="json")`, with the record's JSON taken from `record_json`
    when it is there."""
    known = record_json.get(delivery.idempotency_key) if record_json is not None else None
    if known is None:
        return delivery.model_dump(mode="json")
    return {**delivery.model_dump(mode="json", exclude={"record"}), "record": known}


class OutboxRepository:
    """Writes and drains the outbox inside the caller's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def enqueue(
        self,
        deliveries: Sequence[tuple[str, Delivery]],
        now: datetime,
        *,
        record_json: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> int:
        """Add one pending row per (destination, delivery); returns how many were new.

        Enqueueing a (destination, idempotency key) that is already there is a no-op, so a
        re-run after a crash cannot queue a version twice. `record_json` holds records already
        serialised (`model_dump(mode="json")`) by idempotency key, so none is serialised twice;
        a delivery going to several destinations is serialised once.
        """
        payloads: dict[str, dict[str, Any]] = {}
        for _, delivery in deliveries:
            if delivery.idempotency_key not in payloads:
                payloads[delivery.idempotency_key] = _payload(delivery, record_json)
        rows = [
            {
                "store": delivery.store,
                "order_id": delivery.order_id,
                "version": delivery.version,
                "destination": destination,
                "idempotency_key": delivery.idempotency_key,
                "kind": delivery.kind.value,
                "payload": payloads[delivery.idempotency_key],
                "state": OutboxState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "claimed_until": None,
                "last_error": None,
                "created_at": now,
                "delivered_at": None,
            }
            for destination, delivery in deliveries
        ]
        return await execute_many(
            self._conn,
            ignoring_conflicts(self._conn, outbox, ("destination", "idempotency_key")),
            rows,
        )

    async def claim_due(
        self,
        destination: str,
        limit: int,
        now: datetime,
        lease: timedelta,
        *,
        store: str | None = None,
    ) -> list[OutboxRow]:
        """Lease up to `limit` due rows of `destination` until `now + lease`, oldest due first.

        Two claimers never get the same row: PostgreSQL skips rows another transaction has
        locked (`FOR UPDATE SKIP LOCKED`) and re-checks a locked row that changed meanwhile; on
        SQLite write transactions are serial and the claim is one statement. The UPDATE leases
        exactly the rows the candidate query picked, found by primary key (re-checking the due
        conditions there let PostgreSQL drive it from the due rows again, without statistics).
        A row whose lease ran out (its worker died) is due again.
        An order's later version waits while an earlier one is still pending for the same
        destination, so versions arrive in order. `store` limits the claim to that store's rows.
        """
        picked = locked_candidates(
            self._conn, _claim_candidates(destination, limit, now, store), "picked"
        )
        result = await self._conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(select(picked.c.id)))
            .values(claimed_until=now + lease)
            .returning(*OUTBOX_COLUMNS)
        )
        claimed = [outbox_row(row) for row in result]
        return sorted(claimed, key=lambda row: (row.next_attempt_at, row.id))

    async def finish(self, reports: Sequence[Finished], now: datetime) -> dict[int, OutboxRow]:
        """Record a batch of delivery outcomes: the rows, their attempts, the orders' history
        and sync states, with one statement per table. Returns every reported row as it is now.

        Only a pending row changes: a worker whose lease ran out may report after another
        worker finished the row, or after a person skipped it; that late report is dropped.
        """
        ids = sorted({report.outbox_id for report in reports})
        current: dict[int, OutboxRow] = {}
        for part in chunks(ids):
            result = await self._conn.execute(
                select(*OUTBOX_COLUMNS)
                .where(among(self._conn, outbox.c.id, part))
                .order_by(outbox.c.id)
                .with_for_update()
            )
            current.update((row.id, row) for row in map(outbox_row, result))
        missing = [ident for ident in ids if ident not in current]
        if missing:
            raise StoreError(f"outbox row {missing[0]} does not exist")
        changed: dict[int, tuple[Finished, OutboxRow]] = {}
        for report in reports:
            row = current[report.outbox_id]
            if row.state is OutboxState.PENDING and report.outbox_id not in changed:
                changed[report.outbox_id] = (report, _finished_row(row, report, now))
        if not changed:
            return current
        delivered = [
            ident for ident, (report, _) in changed.items() if report.outcome is Outcome.DELIVERED
        ]
        for part in chunks(delivered):
            await self._conn.execute(
                update(outbox)
                .where(among(self._conn, outbox.c.id, part))
                .values(state=OutboxState.DELIVERED.value, claimed_until=None, delivered_at=now)
            )
        failed = [
            {
                "id": row.id,
                "state": row.state.value,
                "attempts": row.attempts,
                "next_attempt_at": row.next_attempt_at,
                "claimed_until": None,
                "last_error": row.last_error,
            }
            for report, row in changed.values()
            if report.outcome is not Outcome.DELIVERED
        ]
        await update_many(self._conn, outbox, ("id",), failed)
        earlier: dict[int, int] = {}
        for part in chunks(list(changed)):
            result = await self._conn.execute(
                select(delivery_attempts.c.outbox_id, func.count().label("attempts"))
                .where(among(self._conn, delivery_attempts.c.outbox_id, part))
                .group_by(delivery_attempts.c.outbox_id)
            )
            earlier.update((row.outbox_id, row.attempts) for row in result)
        await insert_rows(
            self._conn,
            delivery_attempts,
            [
                {
                    "outbox_id": ident,
                    "attempt": earlier.get(ident, 0) + 1,
                    "at": now,
                    "outcome": report.outcome.value,
                    "error": report.error,
                    "duration_ms": report.duration_ms,
                }
                for ident, (report, _) in changed.items()
            ],
        )
        await insert_rows(
            self._conn,
            order_events,
            [_finished_event(row, report, now) for report, row in changed.values()],
        )
        by_store: dict[str, set[int]] = {}
        for _, row in changed.values():
            by_store.setdefault(row.store, set()).add(row.order_id)
        for store, order_ids in sorted(by_store.items()):
            await self.refresh_order_states(store, order_ids, now)
        return current | {ident: row for ident, (_, row) in changed.items()}

    async def _finish_one(self, report: Finished, now: datetime) -> OutboxRow:
        return (await self.finish([report], now))[report.outbox_id]

    async def mark_delivered(
        self, outbox_id: int, now: datetime, *, duration_ms: int | None = None
    ) -> OutboxRow:
        """The destination confirmed the row. Like `mark_retry` and `mark_dead`, it changes only a
        pending row and otherwise returns the row as it is."""
        return await self._finish_one(
            Finished(outbox_id, Outcome.DELIVERED, duration_ms=duration_ms), now
        )

    async def mark_retry(
        self,
        outbox_id: int,
        error: str,
        next_attempt_at: datetime,
        now: datetime,
        *,
        duration_ms: int | None = None,
    ) -> OutboxRow:
        """A temporary failure: count it and try again at `next_attempt_at`."""
        return await self._finish_one(
            Finished(outbox_id, Outcome.RETRY, error, next_attempt_at, duration_ms), now
        )

    async def mark_dead(
        self, outbox_id: int, error: str, now: datetime, *, duration_ms: int | None = None
    ) -> OutboxRow:
        """A permanent refusal, or the last attempt failed: the row becomes a dead letter."""
        return await self._finish_one(
            Finished(outbox_id, Outcome.DEAD, error, duration_ms=duration_ms), now
        )

    async def replay(
        self,
        store: str,
        order_ids: Iterable[int] | None,
        now: datetime,
        *,
        dead_only: bool = True,
        destination: str | None = None,
    ) -> int:
        """Queue rows again for an immediate attempt with a fresh attempt budget.

        `order_ids` None means every order of the store; `dead_only` limits it to dead letters,
        otherwise delivered and skipped rows are sent again too (destinations deduplicate by
        idempotency key). Returns the number of rows queued.
        """
        conditions: list[ColumnElement[bool]] = [outbox.c.store == store]
        if order_ids is not None:
            conditions.append(outbox.c.order_id.in_(sorted(set(order_ids))))
        if destination is not None:
            conditions.append(outbox.c.destination == destination)
        if dead_only:
            conditions.append(outbox.c.state == OutboxState.DEAD.value)
        result = await self._conn.execute(
            update(outbox)
            .where(*conditions)
            .values(
                state=OutboxState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                claimed_until=None,
                delivered_at=None,
            )
            .returning(outbox.c.store, outbox.c.order_id, outbox.c.destination, outbox.c.version)
        )
        return await self._record_transition(result.all(), OrderEvent.REPLAYED, now)

    async def skip(self, outbox_ids: Iterable[int], now: datetime) -> int:
        """Give up on rows on purpose (never delivered, never retried); returns how many."""
        ids = sorted(set(outbox_ids))
        if not ids:
            return 0
        result = await self._conn.execute(
            update(outbox)
            .where(
                outbox.c.id.in_(ids),
                outbox.c.state.in_([OutboxState.PENDING.value, OutboxState.DEAD.value]),
            )
            .values(state=OutboxState.SKIPPED.value, claimed_until=None)
            .returning(outbox.c.store, outbox.c.order_id, outbox.c.destination, outbox.c.version)
        )
        return await self._record_transition(result.all(), OrderEvent.SKIPPED, now)

    async def skip_dead(
        self,
        store: str,
        order_ids: Iterable[int] | None,
        now: datetime,
        *,
        destination: str | None = None,
    ) -> int:
        """Skip the dead letters of the chosen orders (None: every order of the store), of one
        destination or all; returns how many rows were skipped."""
        conditions: list[ColumnElement[bool]] = [
            outbox.c.store == store,
            outbox.c.state == OutboxState.DEAD.value,
        ]
        if order_ids is not None:
            conditions.append(outbox.c.order_id.in_(sorted(set(order_ids))))
        if destination is not None:
            conditions.append(outbox.c.destination == destination)
        ids: list[int] = list(
            (await self._conn.execute(select(outbox.c.id).where(*conditions))).scalars()
        )
        return await self.skip(ids, now)

    async def _record_transition(
        self, rows: Sequence[Row[Any]], event: OrderEvent, now: datetime
    ) -> int:
        """Log `event` for each moved outbox row, then refresh each order's sync state."""
        for row in rows:
            await self._event(
                row.store, row.order_id, event, now, row.destination, {"version": row.version}
            )
        for store_, order_id in sorted({(row.store, row.order_id) for row in rows}):
            await self.refresh_order_state(store_, order_id, now)
        return len(rows)

    async def refresh_order_state(self, store: str, order_id: int, now: datetime) -> SyncState:
        """Set the order's sync state from its outbox rows and return it.

        Any dead row makes it `dead`, else any pending row that failed before `failed`, else
        any pending row `ready`, else any delivered row `delivered`; all skipped is `skipped`.
        """
        return (await self.refresh_order_states(store, [order_id], now))[order_id]

    async def refresh_order_states(
        self, store: str, order_ids: Iterable[int], now: datetime
    ) -> dict[int, SyncState]:
        """`refresh_order_state` for many orders of one store: one read of their outbox rows,
        one executemany of the orders whose state moved."""
        ids = sorted(set(order_ids))
        found: dict[int, set[SyncState]] = {order_id: set() for order_id in ids}
        for part in chunks(ids):
            result = await self._conn.execute(
                select(
                    outbox.c.order_id,
                    outbox.c.state,
                    (outbox.c.attempts > 0).label("failed_before"),
                )
                .where(outbox.c.store == store, among(self._conn, outbox.c.order_id, part))
                .distinct()
            )
            for row in result:
                if row.state == OutboxState.DEAD.value:
                    found[row.order_id].add(SyncState.DEAD)
                elif row.state == OutboxState.PENDING.value:
                    state = SyncState.FAILED if row.failed_before else SyncState.READY
                    found[row.order_id].add(state)
                elif row.state == OutboxState.DELIVERED.value:
                    found[row.order_id].add(SyncState.DELIVERED)
        states = {
            order_id: next((s for s in _STATE_PRIORITY if s in seen), SyncState.SKIPPED)
            for order_id, seen in found.items()
        }
        for part in chunks(ids):
            current = await self._conn.execute(
                select(orders.c.order_id, orders.c.sync_state).where(
                    orders.c.store == store, among(self._conn, orders.c.order_id, part)
                )
            )
            moved = [
                {
                    "store": store,
                    "order_id": row.order_id,
                    "sync_state": states[row.order_id].value,
                    "updated_at": now,
                }
                for row in current
                if row.sync_state != states[row.order_id].value
            ]
            await update_many(self._conn, orders, ("store", "order_id"), moved)
        return states

    async def _event(
        self,
        store: str,
        order_id: int,
        event: OrderEvent,
        now: datetime,
        destination: str,
        detail: Mapping[str, Any],
    ) -> None:
        await self._conn.execute(
            insert(order_events).values(
                store=store,
                order_id=order_id,
                at=now,
                event=event.value,
                destination=destination,
                detail=dict(detail),
            )
        )

    async def attempts(self, outbox_id: int) -> list[AttemptEntry]:
        """The row's delivery attempts, first first."""
        result = await self._conn.execute(
            select(delivery_attempts)
            .where(delivery_attempts.c.outbox_id == outbox_id)
            .order_by(delivery_attempts.c.attempt)
        )
        return [
            AttemptEntry(
                outbox_id=row.outbox_id,
                attempt=row.attempt,
                at=row.at,
                outcome=Outcome(row.outcome),
                error=row.error,
                duration_ms=row.duration_ms,
            )
            for row in result
        ]

    async def depth(self) -> dict[tuple[str, OutboxState], int]:
        """Row counts per (destination, state)."""
        result = await self._conn.execute(
            select(outbox.c.destination, outbox.c.state, func.count().label("rows"))
            .group_by(outbox.c.destination, outbox.c.state)
            .order_by(outbox.c.destination, outbox.c.state)
        )
        return {(row.destination, OutboxState(row.state)): int(row.rows) for row in result}

    async def dead_letters(
        self,
        *,
        store: str | None = None,
        destination: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[OutboxRow]:
        """Dead rows, oldest first."""
        conditions: list[ColumnElement[bool]] = [outbox.c.state == OutboxState.DEAD.value]
        if store is not None:
            conditions.append(outbox.c.store == store)
        if destination is not None:
            conditions.append(outbox.c.destination == destination)
        result = await self._conn.execute(
            select(*OUTBOX_COLUMNS)
            .where(*conditions)
            .order_by(outbox.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [outbox_row(row) for row in result]

    async def failing_destinations(self, store: str | None = None) -> list[FailingDestination]:
        """Destinations with retrying or dead rows (of `store`, or every store), by name."""
        failed = or_(
            outbox.c.state == OutboxState.DEAD.value,
            and_(outbox.c.state == OutboxState.PENDING.value, outbox.c.attempts > 0),
        )
        conditions: list[ColumnElement[bool]] = [failed]
        if store is not None:
            conditions.append(outbox.c.store == store)
        counts = await self._conn.execute(
            select(outbox.c.destination, outbox.c.state, func.count().label("rows"))
            .where(*conditions)
            .group_by(outbox.c.destination, outbox.c.state)
        )
        tally: dict[str, dict[str, int]] = {}
        for row in counts:
            tally.setdefault(row.destination, {})[row.state] = int(row.rows)
        found: list[FailingDestination] = []
        for destination in sorted(tally):
            newest = (
                await self._conn.execute(
                    select(delivery_attempts.c.error, delivery_attempts.c.at)
                    .join(outbox, outbox.c.id == delivery_attempts.c.outbox_id)
                    .where(outbox.c.destination == destination, *conditions)
                    .order_by(delivery_attempts.c.id.desc())
                    .limit(1)
                )
            ).first()
            found.append(
                FailingDestination(
                    destination=destination,
                    retrying=tally[destination].get(OutboxState.PENDING.value, 0),
                    dead=tally[destination].get(OutboxState.DEAD.value, 0),
                    last_error=newest.error if newest else None,
                    last_failed_at=newest.at if newest else None,
                )
            )
        return found
