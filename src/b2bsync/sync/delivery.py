"""Delivery: drain the outbox per destination with leases, retries on `next_attempt_at`,
dead letters after the last attempt; and `replay` to send dead (or chosen) orders again."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from b2bsync.destinations.registry import ConfiguredDestination
from b2bsync.domain.delivery import DeliveryResult, Outcome
from b2bsync.store.outbox import Finished, OutboxRow
from b2bsync.sync.context import SyncContext

__all__ = [
    "DeliverySummary",
    "ReplayReport",
    "deliver_due",
    "replay",
    "replay_now",
    "skip_dead",
]

log = structlog.get_logger("b2bsync.sync")


@dataclass(slots=True)
class DeliverySummary:
    """Outcomes of one `deliver_due` call, counted per outbox row."""

    batches: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0


async def _send(
    configured: ConfiguredDestination, rows: Sequence[OutboxRow]
) -> dict[str, DeliveryResult]:
    """The destination's answers by idempotency key; a failing call is a retry for all."""
    try:
        results = await configured.destination.deliver([row.delivery() for row in rows])
    except Exception as error:
        # Whatever a destination raises, the rows stay queued; the error is kept on them.
        text = f"{type(error).__name__}: {error}"
        return {
            row.idempotency_key: DeliveryResult(
                idempotency_key=row.idempotency_key, outcome=Outcome.RETRY, error=text
            )
            for row in rows
        }
    return {result.idempotency_key: result for result in results}


async def deliver_due(ctx: SyncContext, now: datetime) -> DeliverySummary:
    """Deliver every row of the store due at `now`, destination by destination, batch by batch.

    Rows are claimed as of `now`, so a row that fails gets a later `next_attempt_at` and is
    not tried again in this call: the loop always ends.
    """
    summary = DeliverySummary()
    schedule = ctx.settings.retry
    for configured in ctx.destinations:
        while True:
            async with ctx.db.transaction() as tx:
                rows = await tx.outbox.claim_due(
                    configured.name,
                    ctx.settings.delivery_batch,
                    now,
                    ctx.settings.lease,
                    store=ctx.store,
                )
            if not rows:
                break
            summary.batches += 1
            started = time.monotonic()
            results = await _send(configured, rows)
            duration_ms = int((time.monotonic() - started) * 1000)
            finished = ctx.clock()
            reports: list[Finished] = []
            for row in rows:
                result = results.get(row.idempotency_key)
                outcome = result.outcome if result is not None else Outcome.RETRY
                error = result.error if result is not None else "the destination gave no result"
                if outcome is Outcome.DELIVERED:
                    reports.append(Finished(row.id, outcome, duration_ms=duration_ms))
                    summary.delivered += 1
                    continue
                retry_at = (
                    schedule.next_attempt_at(row.attempts + 1, finished, ctx.rng.random())
                    if outcome is Outcome.RETRY
                    else None
                )
                message = error or outcome.value
                if retry_at is None:
                    reports.append(Finished(row.id, Outcome.DEAD, message, None, duration_ms))
                    summary.dead += 1
                    log.warning(
                        "delivery.dead",
                        store=row.store,
                        order_id=row.order_id,
                        destination=configured.name,
                        error=message,
                    )
                else:
                    reports.append(Finished(row.id, Outcome.RETRY, message, retry_at, duration_ms))
                    summary.retried += 1
            async with ctx.db.transaction() as tx:
                await tx.outbox.finish(reports, finished)
    return summary


async def replay(
    ctx: SyncContext,
    order_ids: Iterable[int] | None = None,
    *,
    dead_only: bool = True,
    destination: str | None = None,
) -> int:
    """Queue dead rows (or, with `dead_only=False`, every row) of the chosen orders (None =
    all of the store) for an immediate attempt; returns how many rows were queued."""
    async with ctx.db.transaction() as tx:
        return await tx.outbox.replay(
            ctx.store, order_ids, ctx.clock(), dead_only=dead_only, destination=destination
        )


async def skip_dead(
    ctx: SyncContext,
    order_ids: Iterable[int] | None = None,
    *,
    destination: str | None = None,
) -> int:
    """Give up on the dead letters of the chosen orders (None = all of the store) on purpose:
    they are never delivered nor retried; returns how many rows were skipped."""
    async with ctx.db.transaction() as tx:
        return await tx.outbox.skip_dead(ctx.store, order_ids, ctx.clock(), destination=destination)


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What `replay_now` did: rows queued again and, when delivered at once, their outcomes."""

    store: str
    queued: int
    delivery: DeliverySummary | None

    def as_json(self) -> dict[str, Any]:
        """The report as `b2bsync replay --json` prints it."""
        report: dict[str, Any] = {"store": self.store, "queued": self.queued}
        if self.delivery is not None:
            report |= {
                "delivered": self.delivery.delivered,
                "retried": self.delivery.retried,
                "dead": self.delivery.dead,
            }
        return report


async def replay_now(
    ctx: SyncContext,
    order_ids: Iterable[int] | None = None,
    *,
    dead_only: bool = True,
    destination: str | None = None,
    deliver: bool = True,
) -> ReplayReport:
    """`replay`, then (with `deliver`) deliver what is due at once: what `b2bsync replay` and
    the dashboard's Retry buttons do."""
    queued = await replay(ctx, order_ids, dead_only=dead_only, destination=destination)
    summary = await deliver_due(ctx, ctx.clock()) if deliver else None
    return ReplayReport(ctx.store, queued, summary)
