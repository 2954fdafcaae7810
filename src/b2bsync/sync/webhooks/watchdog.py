"""The webhook health watchdog, and the webhook figures `b2bsync status` shows.

BigCommerce deactivates a hook whose callbacks fail for about 48 hours and only sends an email;
it blocklists a domain whose callbacks mostly fail. Every `interval_s` the watchdog reads
`GET /v3/hooks/admin`, re-activates b2bsync's deactivated hooks, reports blocked domains, and
looks for silence: orders that reached the ledger (by polling) after the last callback, with
no callback of their own, more than `silence_grace` ago. Any finding makes the verdict
unhealthy, and while it is, `poll_interval()` answers the short interval (30 s by default
instead of 5 min), so polling carries the sync until webhooks recover.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog

from b2bsync.bigcommerce import BigCommerceClient, BigCommerceError
from b2bsync.store.database import Database
from b2bsync.store.webhooks import HookInstallation, WebhookRepository
from b2bsync.sync.context import utc_now
from b2bsync.sync.webhooks.install import SCOPES

__all__ = ["Watchdog", "WatchdogSettings", "WebhookHealth", "check_webhooks", "webhook_health"]

log = structlog.get_logger("b2bsync.watchdog")


@dataclass(frozen=True, slots=True)
class WatchdogSettings:
    """How often the watchdog looks, and the poll intervals it chooses between."""

    interval_s: float = 60.0
    healthy_poll_s: float = 300.0
    """The safety-net poll while webhooks are healthy."""
    degraded_poll_s: float = 30.0
    """The poll while webhooks are missing, silent, deactivated or blocked."""
    silence_grace: timedelta = timedelta(minutes=2)
    """How long an order may sit in the ledger unannounced before webhooks count as silent."""

    def __post_init__(self) -> None:
        if min(self.interval_s, self.healthy_poll_s, self.degraded_poll_s) <= 0:
            raise ValueError("watchdog intervals must be positive")


@dataclass(frozen=True, slots=True)
class WebhookHealth:
    """Webhooks of one store as `b2bsync status` shows them."""

    store: str
    installed: bool
    destination: str | None
    hook_ids: tuple[int, ...]
    installed_at: datetime | None
    checked_at: datetime | None
    healthy: bool | None
    """The last check's verdict; None before the first check."""
    findings: tuple[str, ...]
    blocked_domains: tuple[str, ...]
    reactivations: int
    last_webhook_at: datetime | None
    webhooks_received: int
    rejected: int
    missed_by_webhooks: int
    """Orders that reached the ledger by polling, since installation, with no callback."""
    poll_interval_s: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (datetimes as ISO 8601)."""
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
        }


def _poll_interval(healthy: bool | None, settings: WatchdogSettings) -> float:
    return settings.healthy_poll_s if healthy else settings.degraded_poll_s


async def webhook_health(
    db: Database, store: str, settings: WatchdogSettings = WatchdogSettings()
) -> WebhookHealth:
    """What the database knows of `store`'s webhooks; no API call (for `b2bsync status`)."""
    async with db.transaction(readonly=True) as tx:
        repo = tx.webhooks
        installation = await repo.installation(store)
        last = await repo.last_webhook_at(store)
        received = await repo.webhook_count(store)
        rejected = await repo.reject_count(store)
        missed = (
            await repo.missed_by_webhooks(store, installation.installed_at)
            if installation is not None
            else 0
        )
    report: Mapping[str, Any] = (installation.report if installation else None) or {}
    healthy = installation.healthy if installation is not None else False
    return WebhookHealth(
        store=store,
        installed=installation is not None,
        destination=installation.destination if installation else None,
        hook_ids=installation.hook_ids if installation else (),
        installed_at=installation.installed_at if installation else None,
        checked_at=installation.checked_at if installation else None,
        healthy=healthy,
        findings=tuple(report.get("findings", ())),
        blocked_domains=tuple(report.get("blocked_domains", ())),
        reactivations=installation.reactivations if installation else 0,
        last_webhook_at=last,
        webhooks_received=received,
        rejected=rejected,
        missed_by_webhooks=missed,
        poll_interval_s=_poll_interval(healthy, settings),
    )


def _same_domain(destination: str, blocked: str) -> bool:
    """BigCommerce names a blocked domain by host (the sandbox by scheme, host and port)."""
    ours = urlsplit(destination)
    if "//" in blocked:
        theirs = urlsplit(blocked)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)
    return ours.hostname == blocked.lower()


async def _silent(
    repo: WebhookRepository, installation: HookInstallation, now: datetime, grace: timedelta
) -> int:
    """Orders only polling found after the last callback (older than the grace)."""
    last = await repo.last_webhook_at(installation.store)
    since = max(installation.installed_at, last) if last is not None else installation.installed_at
    return await repo.missed_by_webhooks(installation.store, since, now - grace)


async def check_webhooks(
    client: BigCommerceClient,
    db: Database,
    store: str,
    settings: WatchdogSettings = WatchdogSettings(),
    *,
    now: datetime | None = None,
) -> WebhookHealth:
    """One watchdog check: read `/v3/hooks/admin`, re-activate b2bsync's deactivated hooks,
    note blocked domains and silence, store the verdict, and return the resulting health."""
    moment = now or utc_now()
    async with db.transaction(readonly=True) as tx:
        repo = tx.webhooks
        installation = await repo.installation(store)
        if installation is None:
            return await webhook_health(db, store, settings)
        # Judged before any re-activation below: the callbacks a re-activated hook delivers at
        # once would otherwise move "the last callback" forward and hide the silence.
        silent = await _silent(repo, installation, moment, settings.silence_grace)
    admin = await client.hooks.admin()
    findings: list[str] = []
    ours = [
        hook
        for hook in admin.hooks_list
        if hook.get("destination") == installation.destination and hook.get("scope") in SCOPES
    ]
    if not ours:
        findings.append("no b2bsync hook is registered: run `b2bsync webhooks install`")
    reactivated = 0
    for hook in ours:
        if hook.get("is_active", True):
            continue
        status = hook.get("status", "inactive")
        await client.hooks.update(int(hook["id"]), {"is_active": True})
        reactivated += 1
        findings.append(f"hook {hook['id']} ({hook.get('scope')}) was {status}; re-activated")
    blocked = [
        str(entry.get("destination", ""))
        for entry in admin.blocked_domains
        if _same_domain(installation.destination, str(entry.get("destination", "")))
    ]
    findings.extend(f"domain {domain} is blocklisted by BigCommerce" for domain in blocked)
    if silent:
        findings.append(f"{silent} order(s) reached the ledger by polling after the last callback")
    async with db.transaction() as tx:
        await tx.webhooks.put_check(
            store,
            moment,
            healthy=not findings,
            reactivated=reactivated,
            report={"findings": findings, "blocked_domains": blocked},
        )
    if findings:
        log.warning("watchdog.unhealthy", store=store, findings=findings)
    return await webhook_health(db, store, settings)


class Watchdog:
    """Checks every `settings.interval_s`; `poll_interval()` feeds the `MicroBatcher`."""

    def __init__(
        self,
        client: BigCommerceClient,
        db: Database,
        store: str,
        settings: WatchdogSettings = WatchdogSettings(),
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.client = client
        self.db = db
        self.store = store
        self.settings = settings
        self._clock = clock
        self.last: WebhookHealth | None = None

    def poll_interval(self) -> float:
        """The safety-net poll interval the last verdict calls for (short until one is in)."""
        healthy = self.last.healthy if self.last is not None else False
        return _poll_interval(healthy, self.settings)

    async def check(self) -> WebhookHealth:
        """One check, remembered for `poll_interval()`."""
        self.last = await check_webhooks(
            self.client, self.db, self.store, self.settings, now=self._clock()
        )
        return self.last

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Check until `stop` is set; a failed check is logged and tried at the next tick."""
        stopping = stop or asyncio.Event()
        while not stopping.is_set():
            try:
                await self.check()
            except BigCommerceError as error:
                log.warning("watchdog.check_failed", store=self.store, error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.settings.interval_s)
