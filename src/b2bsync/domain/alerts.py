"""Alert decisions (pure): from a snapshot of one store's health and what each alert last said,
decide whether an alert fires, repeats or resolves.

An alert and condition fires once when the condition starts to hold, repeats at most once per
quiet period while it keeps holding, and resolves once when it stops holding after having fired.
The store, the channels and the clock live elsewhere; this module only decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "AlertPolicy",
    "AlertState",
    "Condition",
    "ConditionCheck",
    "Decision",
    "HealthSnapshot",
    "Standing",
    "Thresholds",
    "check",
    "decide",
    "evaluate",
    "next_standing",
]


class Condition(StrEnum):
    """What an alert watches."""

    DEAD_LETTERS = "dead_letters"
    """Outbox rows that gave up."""
    DESTINATION_FAILING = "destination_failing"
    """A destination whose deliveries keep failing for longer than a threshold."""
    WEBHOOK_UNHEALTHY = "webhook_unhealthy"
    """Installed webhooks the watchdog found deactivated, blocked or silent."""
    HELD = "held"
    """Orders held, or pending classification past their deadline."""
    QUARANTINED = "quarantined"
    """Records that could not be parsed or mapped."""
    LAG = "lag"
    """The orders stream has not read successfully for longer than a threshold."""
    QUOTA = "quota"
    """The API answered 429 repeatedly during a round, or a rate-limit window was spent."""


class AlertState(StrEnum):
    """What one firing said."""

    FIRED = "fired"
    REPEATED = "repeated"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When each condition counts as holding; the defaults are the documented ones."""

    dead_letters: int = 1
    """Dead letters at or above which `dead_letters` holds."""
    destination_failing_after: timedelta = timedelta(minutes=10)
    """How long a destination must have been failing."""
    held: int = 1
    """Held or overdue orders at or above which `held` holds."""
    quarantined: int = 1
    lag: timedelta = timedelta(minutes=15)
    """Time since the orders stream last read successfully."""
    quota_429s: int = 3
    """429 answers within one round at or above which `quota` holds."""


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """One store's health at `at`, read from the ledger database after a sync round."""

    store: str
    at: datetime
    dead_letters: int = 0
    failing_since: Mapping[str, datetime] = field(default_factory=dict)
    """Destination -> when its oldest still-unresolved failure happened."""
    webhook_installed: bool = False
    webhook_healthy: bool | None = None
    """The watchdog's last verdict (None before its first check)."""
    webhook_findings: tuple[str, ...] = ()
    held: int = 0
    pending_overdue: int = 0
    """Orders still pending classification after their deadline."""
    quarantined: int = 0
    lag_s: float | None = None
    """Seconds since the orders stream last read (None before its first read)."""
    throttled: int = 0
    """429 answers the store's APIs gave during the round."""
    windows_spent: tuple[str, ...] = ()
    """API families whose rate-limit window had nothing left at the end of the round."""


@dataclass(frozen=True, slots=True)
class ConditionCheck:
    """Whether a condition holds, and a one-line description for the notification."""

    holds: bool
    message: str


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def check(condition: Condition, health: HealthSnapshot, limits: Thresholds) -> ConditionCheck:
    """Whether `condition` holds for `health` under `limits`."""
    store = health.store
    if condition is Condition.DEAD_LETTERS:
        count = health.dead_letters
        return ConditionCheck(
            count >= limits.dead_letters,
            f"{_plural(count, 'dead letter')} in store {store}",
        )
    if condition is Condition.DESTINATION_FAILING:
        overdue = sorted(
            (name, since)
            for name, since in health.failing_since.items()
            if health.at - since >= limits.destination_failing_after
        )
        if not overdue:
            return ConditionCheck(False, f"every destination of store {store} delivers")
        names = ", ".join(
            f"{name} (for {_minutes((health.at - since).total_seconds())})"
            for name, since in overdue
        )
        return ConditionCheck(True, f"deliveries of store {store} keep failing: {names}")
    if condition is Condition.WEBHOOK_UNHEALTHY:
        unhealthy = health.webhook_installed and health.webhook_healthy is False
        findings = "; ".join(health.webhook_findings) or "the watchdog found them unhealthy"
        return ConditionCheck(
            unhealthy,
            f"webhooks of store {store}: {findings}"
            if unhealthy
            else f"webhooks of store {store} are healthy or not installed",
        )
    if condition is Condition.HELD:
        count = health.held + health.pending_overdue
        return ConditionCheck(
            count >= limits.held,
            f"{_plural(count, 'order')} of store {store} held or pending classification past "
            f"the deadline ({health.held} held, {health.pending_overdue} overdue)",
        )
    if condition is Condition.QUARANTINED:
        count = health.quarantined
        return ConditionCheck(
            count >= limits.quarantined,
            f"{_plural(count, 'record')} of store {store} quarantined as malformed",
        )
    if condition is Condition.LAG:
        lag = health.lag_s
        holds = lag is not None and lag >= limits.lag.total_seconds()
        shown = "unknown" if lag is None else _minutes(lag)
        return ConditionCheck(holds, f"store {store} last read its orders {shown} ago")
    spent = ", ".join(health.windows_spent)
    holds = health.throttled >= limits.quota_429s or bool(health.windows_spent)
    detail = f"{_plural(health.throttled, '429 answer')} this round"
    if spent:
        detail += f"; rate-limit window spent: {spent}"
    return ConditionCheck(holds, f"store {store} API quota: {detail}")


@dataclass(frozen=True, slots=True)
class Standing:
    """What an alert last said about one condition of one store."""

    active: bool
    """True after a fire or repeat, False after a resolve."""
    last_fired_at: datetime
    """When it last fired or repeated (a resolve leaves it as it was)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """A firing to record and send."""

    condition: Condition
    state: AlertState
    message: str


def decide(
    condition: Condition,
    now_holds: ConditionCheck,
    previous: Standing | None,
    now: datetime,
    quiet_period: timedelta,
) -> Decision | None:
    """Fire when the condition starts, repeat once the quiet period since the last firing has
    passed while it holds, resolve when it ends after a firing; otherwise nothing.

    A condition that comes back within the quiet period of its last firing waits for that
    period to end before it fires again, so a flapping condition notifies at most once per
    quiet period too (its resolves are always sent: they close what a firing opened)."""
    quiet = previous is not None and now - previous.last_fired_at < quiet_period
    if now_holds.holds:
        if quiet:
            return None
        active = previous is not None and previous.active
        state = AlertState.REPEATED if active else AlertState.FIRED
        return Decision(condition, state, now_holds.message)
    if previous is not None and previous.active:
        return Decision(condition, AlertState.RESOLVED, f"resolved: {now_holds.message}")
    return None


def next_standing(previous: Standing | None, decision: Decision, now: datetime) -> Standing:
    """The standing after `decision` was taken at `now`."""
    if decision.state is AlertState.RESOLVED:
        assert previous is not None
        return Standing(active=False, last_fired_at=previous.last_fired_at)
    return Standing(active=True, last_fired_at=now)


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """The decision-relevant part of one `[[alerts]]` entry."""

    name: str
    conditions: tuple[Condition, ...]
    quiet_period: timedelta = timedelta(minutes=30)
    thresholds: Thresholds = field(default_factory=Thresholds)


def evaluate(
    policy: AlertPolicy, health: HealthSnapshot, previous: Mapping[Condition, Standing]
) -> list[Decision]:
    """Every firing `policy` calls for, given `health` and its standing per condition."""
    found: list[Decision] = []
    for condition in policy.conditions:
        decision = decide(
            condition,
            check(condition, health, policy.thresholds),
            previous.get(condition),
            health.at,
            policy.quiet_period,
        )
        if decision is not None:
            found.append(decision)
    return found
