"""Alerts after a sync round: read the store's health, let the pure decisions say what fires,
repeats or resolves, record each firing once (whatever the number of evaluators), then send the
firings still waiting to the alert's channels through Apprise.

A channel that is down never stops the sync: its failure is logged with the channel's label
(position and scheme, never the URL, which holds secrets) and the firing stays `pending` for
that channel, to be sent again at the next evaluation.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import apprise
import structlog
from pydantic import SecretStr

from b2bsync.config import AlertSettings, channel_label
from b2bsync.domain.alerts import AlertState, evaluate, next_standing
from b2bsync.store.alerts import AlertEvent, DeliveryState, read_health
from b2bsync.store.database import Database

__all__ = [
    "AlertRound",
    "AlertService",
    "AppriseNotifier",
    "ChannelError",
    "ChannelResult",
    "Notifier",
    "channel_key",
]

log = structlog.get_logger("b2bsync.alerts")

# Apprise's debug lines print whole request URLs (tokens included); its warnings name hosts
# only. Nothing below a warning from it is wanted in b2bsync's logs.
logging.getLogger("apprise").setLevel(logging.WARNING)

TEST_TITLE = "b2bsync: test notification"


class ChannelError(Exception):
    """A channel did not take a notification. The message never contains the URL."""


class Notifier(Protocol):
    """Sends one notification to one channel; raises `ChannelError` when it fails. The
    service bounds each call with the alert's `send_timeout`."""

    async def send(self, url: SecretStr, title: str, body: str) -> None:
        """Send `title` and `body` to the channel at `url`."""
        ...


class AppriseNotifier:
    """Channels as Apprise URLs (Slack, Teams, Discord, e-mail, ntfy, generic JSON, ...)."""

    async def send(self, url: SecretStr, title: str, body: str) -> None:
        """Send through Apprise (its blocking plugins run in the default executor); a refusal
        or an unknown URL is a `ChannelError`."""
        channel = apprise.Apprise()
        if not channel.add(url.get_secret_value()):
            raise ChannelError("not a URL Apprise knows")
        sent = await channel.async_notify(title=title, body=body)
        if not sent:
            raise ChannelError("the channel did not take the notification")


def channel_key(url: SecretStr) -> str:
    """A stable key for a channel in the ledger (which channels took a firing): a digest, so
    the URL itself is never stored."""
    return hashlib.sha256(url.get_secret_value().encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ChannelResult:
    """One channel's answer to a notification."""

    alert: str
    channel: str
    """The channel's label (`channel 1 (json)`), never its URL."""
    ok: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AlertRound:
    """What one evaluation did."""

    recorded: list[AlertEvent] = field(default_factory=list)
    """Firings this evaluation recorded (another evaluator's are not counted)."""
    sent: int = 0
    """Firings every channel now has."""
    failed: list[ChannelResult] = field(default_factory=list)
    """Channels that did not take a firing; it is sent to them again next time."""


def _title(event: AlertEvent) -> str:
    verb = {
        AlertState.FIRED: "firing",
        AlertState.REPEATED: "still firing",
        AlertState.RESOLVED: "resolved",
    }[event.state]
    return f"b2bsync {event.alert}: {event.condition} {verb} ({event.store})"


class AlertService:
    """The configured alerts, evaluated for one store at a time."""

    def __init__(
        self,
        alerts: Sequence[AlertSettings],
        notifier: Notifier | None = None,
        *,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 50,
    ) -> None:
        self.alerts = {alert.name: alert for alert in alerts}
        self.notifier: Notifier = notifier or AppriseNotifier()
        self.lease = lease
        """How long a firing being sent stays claimed by this evaluator."""
        self.max_attempts = max_attempts
        """Deliveries tried per firing before it is marked `failed`."""

    async def evaluate(
        self,
        db: Database,
        store: str,
        now: datetime,
        *,
        orders_stream: str,
        throttled: int = 0,
        windows_spent: tuple[str, ...] = (),
    ) -> AlertRound:
        """Decide and record the firings of every alert for `store` at `now`, then send every
        firing of `store` that a channel still lacks."""
        recorded: list[AlertEvent] = []
        async with db.transaction() as tx:
            repo = tx.alerts
            health = await read_health(
                tx.connection,
                store,
                now,
                orders_stream=orders_stream,
                throttled=throttled,
                windows_spent=windows_spent,
            )
            for alert in self.alerts.values():
                known = await repo.standings(alert.name, store)
                previous = {condition: entry.standing for condition, entry in known.items()}
                for decision in evaluate(alert.policy, health, previous):
                    entry = known.get(decision.condition)
                    standing = next_standing(previous.get(decision.condition), decision, now)
                    event_id = await repo.record(alert.name, store, decision, entry, standing, now)
                    if event_id is None:
                        continue
                    recorded.append(
                        AlertEvent(
                            id=event_id,
                            alert=alert.name,
                            condition=decision.condition.value,
                            store=store,
                            state=decision.state,
                            message=decision.message,
                            at=now,
                            delivery=DeliveryState.PENDING,
                            attempts=0,
                            sent_to=(),
                            last_error=None,
                        )
                    )
        for event in recorded:
            log.warning(
                "alert." + event.state.value,
                alert=event.alert,
                condition=event.condition,
                store=store,
                message=event.message,
            )
        sent, failed = await self.deliver(db, store, now)
        return AlertRound(recorded=recorded, sent=sent, failed=failed)

    async def deliver(
        self, db: Database, store: str, now: datetime
    ) -> tuple[int, list[ChannelResult]]:
        """Send the firings of `store` still waiting for a channel; how many every channel now
        has, and the channels that failed."""
        async with db.transaction() as tx:
            events = await tx.alerts.claim_pending(store, list(self.alerts), now, self.lease)
        sent = 0
        failed: list[ChannelResult] = []
        for event in events:
            alert = self.alerts[event.alert]
            results = await self._send(alert, event)
            took = set(event.sent_to) | {
                channel_key(url)
                for url, result in zip(alert.channels, results, strict=True)
                if result.ok
            }
            errors = [f"{r.channel}: {r.error}" for r in results if not r.ok]
            async with db.transaction() as tx:
                state = await tx.alerts.finish(
                    event.id,
                    sorted(took),
                    "; ".join(errors) or None,
                    give_up=event.attempts + 1 >= self.max_attempts,
                )
            if state is DeliveryState.SENT:
                sent += 1
            failed += [result for result in results if not result.ok]
        return sent, failed

    async def _send(self, alert: AlertSettings, event: AlertEvent) -> list[ChannelResult]:
        """Send `event` to every channel of `alert` that does not have it yet, at once."""
        title, body = _title(event), event.message
        done = set(event.sent_to)

        async def one(index: int, url: SecretStr) -> ChannelResult:
            label = channel_label(index, url)
            if channel_key(url) in done:
                return ChannelResult(alert.name, label, True)
            return await self._attempt(alert, label, url, title, body, event.store)

        return list(await asyncio.gather(*(one(i, url) for i, url in enumerate(alert.channels))))

    async def _attempt(
        self,
        alert: AlertSettings,
        label: str,
        url: SecretStr,
        title: str,
        body: str,
        store: str | None,
    ) -> ChannelResult:
        timeout = alert.send_timeout.total_seconds()
        try:
            await asyncio.wait_for(self.notifier.send(url, title, body), timeout)
        except TimeoutError:
            reason = f"no answer within {timeout:g} s"
        except ChannelError as error:
            reason = str(error)
        except Exception as error:
            # Any error of a notification plugin is the channel's failure, never the sync's;
            # only its type is kept, since a plugin's message may quote the URL it was given.
            reason = f"failed ({type(error).__name__})"
        else:
            return ChannelResult(alert.name, label, True)
        log.warning(
            "alert.channel_failed", alert=alert.name, channel=label, error=reason, store=store
        )
        return ChannelResult(alert.name, label, False, reason)

    async def test_channels(self) -> list[ChannelResult]:
        """Send a test notification to every channel of every alert; each channel's answer."""
        results: list[ChannelResult] = []
        for alert in self.alerts.values():
            body = (
                f"A test notification for the b2bsync alert {alert.name!r} "
                f"(conditions: {', '.join(c.value for c in alert.policy.conditions)})."
            )
            results += await asyncio.gather(
                *(
                    self._attempt(alert, channel_label(index, url), url, TEST_TITLE, body, None)
                    for index, url in enumerate(alert.channels)
                )
            )
        return results
