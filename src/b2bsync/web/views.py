"""The dashboard's data, as JSON-ready dicts: `/api/...` answers them as they are and the pages
render them, so both always show the same thing. Every figure comes from the read model the CLI
uses too (`sync.status.ReadModel`: ledger, outbox, caches, webhook health, rate governors)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from b2bsync.bigcommerce import Family, GovernorSnapshot
from b2bsync.config import AlertSettings, ConfigError, StoreEntry
from b2bsync.domain.writeback_rules import WritebackRule
from b2bsync.store import InvoiceRow, LedgerQuery, OutboxRow, PaymentRow, display_url
from b2bsync.store.order_json import detail_json, summary_json
from b2bsync.store.reports import days_back
from b2bsync.sync.status import ReadModel
from b2bsync.sync.webhooks.quota import DEFAULT_SHARE
from b2bsync.web.chart import amounts_by_day, daily_chart, main_currency, orders_by_day
from b2bsync.web.dashboard import Dashboard
from b2bsync.web.masking import masked

__all__ = [
    "CHART_DAYS",
    "failures",
    "invoice_list",
    "order_list",
    "order_page",
    "overview",
    "settings_view",
]

CHART_DAYS = 30


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


_CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    """Cents when that loses nothing (B2B Edition sends `292.4400`), else every digit."""
    cents = value.quantize(_CENT)
    return format(cents if cents == value else value, "f")


def _reads(dashboard: Dashboard) -> ReadModel:
    return ReadModel(dashboard.db, dashboard.governors)


def chosen_store(dashboard: Dashboard, store: str | None) -> str | None:
    """The store a page shows: the one asked for, every store for `store=` (empty), else the
    dashboard's own store."""
    if store is None:
        return dashboard.store
    return store or None


async def known_stores(dashboard: Dashboard) -> list[str]:
    """Stores the ledger has synced (they have a watermark), the configured one first."""
    found = await _reads(dashboard).stores(datetime.now(UTC))
    if dashboard.store is not None and dashboard.store not in found:
        found.insert(0, dashboard.store)
    return found


def _webhook_share(dashboard: Dashboard, snapshot: GovernorSnapshot) -> str | None:
    """What the webhook-driven sync keeps within, on either API: `20 % (30 per 30 s)`."""
    share = (
        dashboard.settings.sync.webhook_quota_share
        if dashboard.settings is not None
        else DEFAULT_SHARE
    )
    if not snapshot.quota or not snapshot.window_s:
        return f"{share:.0%}"
    return f"{share:.0%} ({share * snapshot.quota:.0f} per {snapshot.window_s:.0f} s)"


def _rate_budget(dashboard: Dashboard, store: str | None) -> list[dict[str, Any]]:
    return [
        {
            "store": snapshot.store_hash,
            "api": "store API" if snapshot.family is Family.STORE else "B2B Edition API",
            "quota": snapshot.quota,
            "left": snapshot.left,
            "reset_in_s": None if snapshot.reset_in_s is None else round(snapshot.reset_in_s, 1),
            "cap": None if snapshot.budget is None else str(snapshot.budget),
            "webhook_share": _webhook_share(dashboard, snapshot),
        }
        for snapshot in _reads(dashboard).rate_limits(store)
    ]


async def overview(dashboard: Dashboard, store: str | None, now: datetime) -> dict[str, Any]:
    """Counts, lag, last poll and webhook, rate budget, outbox and the orders-per-day chart."""
    reads = _reads(dashboard)
    ledger = await reads.ledger(store, now)
    orders_marks = ledger.orders_watermarks
    lags = [mark.lag_s for mark in orders_marks if mark.lag_s is not None]
    polled = [mark.updated_at for mark in orders_marks]
    stores = [store] if store is not None else sorted({mark.store for mark in ledger.watermarks})
    webhooks = [(await reads.webhooks(name)).as_dict() for name in stores]
    received = [hook["last_webhook_at"] for hook in webhooks if hook["last_webhook_at"]]
    first_day = days_back(now, CHART_DAYS)
    daily = await reads.orders_per_day(store, first_day)
    currency = main_currency(daily)
    figures = ledger.as_json()
    return {
        "store": store,
        "now": now.isoformat(),
        "orders": figures["orders"],
        "by_type": figures["by_type"],
        "by_state": figures["by_state"],
        "lag_s": max(lags) if lags else None,
        "last_poll_at": _iso(max(polled)) if polled else None,
        "last_webhook_at": max(received) if received else None,
        "watermarks": figures["watermarks"],
        "outbox": figures["outbox"],
        "outbox_depth": figures["outbox_depth"],
        "dead_letters": figures["dead_letters"],
        "rate_budget": _rate_budget(dashboard, store),
        "webhooks": webhooks,
        "per_day": [
            {
                "day": row.day.isoformat(),
                "order_type": row.order_type,
                "orders": row.orders,
                "amount": _money(row.amount),
                "currency": row.currency,
            }
            for row in daily
        ],
        "chart_svg": daily_chart(orders_by_day(daily), first_day.date(), CHART_DAYS),
        "currency": currency,
        "amount_chart_svg": daily_chart(
            amounts_by_day(daily, currency),
            first_day.date(),
            CHART_DAYS,
            title=f"Order totals per type per day, in {currency or 'the store currency'}",
            describe=lambda value: f"{value:,.2f} {currency}".strip(),
        ),
        "alerts": await alerts(dashboard, store, limit=OVERVIEW_ALERTS),
    }


OVERVIEW_ALERTS = 5
"""Newest firings the overview's panel shows; the Alerts page lists more."""


async def alerts(dashboard: Dashboard, store: str | None, limit: int = 100) -> dict[str, Any]:
    """The conditions firing now and the newest firings (of `store`, or every store)."""
    found = await _reads(dashboard).alerts(store, limit)
    return {
        "store": store,
        "active": found.active,
        "events": [event.as_json() for event in found.events],
    }


async def order_list(
    dashboard: Dashboard, filters: LedgerQuery, page: int, page_size: int
) -> dict[str, Any]:
    """One page of the order list, newest first."""
    listed = await _reads(dashboard).orders(filters, page, page_size)
    found, names = listed.page, listed.company_names
    return {
        "items": [
            summary_json(item) | {"company_name": names.get((item.store, item.company_id or 0), "")}
            for item in found.items
        ],
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
        "page_size": found.page_size,
    }


def _invoice_json(invoice: InvoiceRow) -> dict[str, Any]:
    return {
        "invoice_id": invoice.invoice_id,
        "number": invoice.number,
        "order_id": invoice.order_number,
        "company_id": invoice.company_id,
        "status": invoice.status,
        "currency": invoice.currency,
        "original_balance": _money(invoice.original_balance),
        "open_balance": _money(invoice.open_balance),
        "is_open": invoice.open_balance > 0,
    }


def _payment_json(payment: PaymentRow) -> dict[str, Any]:
    return {
        "payment_id": payment.payment_id,
        "order_id": payment.order_id,
        "company_id": payment.company_id,
        "module_name": payment.module_name,
        "processing_status": payment.processing_status,
        "currency": payment.currency,
        "total": _money(payment.total),
        "lines": [
            {
                "invoice_id": line.invoice_id,
                "invoice_number": line.invoice_number,
                "amount": _money(line.amount),
            }
            for line in payment.lines
        ],
    }


def _delivery_json(row: OutboxRow, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "outbox_id": row.id,
        "destination": row.destination,
        "version": row.version,
        "state": row.state.value,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "delivered_at": _iso(row.delivered_at),
        "history": attempts,
    }


async def order_page(dashboard: Dashboard, store: str, order_id: int) -> dict[str, Any] | None:
    """One order: `orders show --json`, plus its signals and when they arrived, each
    delivery's attempts, its write-backs and the invoices and payment it is about."""
    found = await _reads(dashboard).order(store, order_id)
    if found is None:
        return None
    detail, attempts, writes, bundle = found.detail, found.attempts, found.writebacks, found.signals
    shown = detail_json(detail)
    entry = detail.entry
    shown["signals"] = [
        {"name": name, "value": value, "seen_at": _iso(entry.signals_seen_at.get(name))}
        for name, value in asdict(entry.signals).items()
        if value is not None
    ]
    shown["deliveries"] = [
        _delivery_json(
            row,
            [
                {
                    "attempt": a.attempt,
                    "at": a.at.isoformat(),
                    "outcome": a.outcome.value,
                    "error": a.error,
                    "duration_ms": a.duration_ms,
                }
                for a in attempts[row.id]
            ],
        )
        for row in detail.outbox
    ]
    shown["writebacks"] = [
        {
            "at": write.at.isoformat(),
            "source": write.source,
            "target": write.target,
            "before": write.before,
            "after": write.after,
        }
        for write in writes
    ]
    shown["company"] = bundle.company.name if bundle.company else None
    shown["payment"] = _payment_json(bundle.payment) if bundle.payment else None
    shown["paid_invoices"] = [_invoice_json(i) for i in bundle.paid_invoices.values()]
    shown["billed_by"] = [_invoice_json(i) for i in bundle.billed_by]
    return shown


async def invoice_list(
    dashboard: Dashboard, store: str, page: int, payments_page: int = 1
) -> dict[str, Any]:
    """One page of the store's invoices (open balances, by number) and, paged on its own, one
    of its payments (what each paid on which invoice), from the caches the sync keeps."""
    found = await _reads(dashboard).invoices(store, page, payments_page, page_size=50)
    invoices, payments, names = found.invoices, found.payments, found.company_names
    return {
        "store": store,
        "page": page,
        "pages": invoices.pages,
        "payments_page": payments_page,
        "payments_pages": payments.pages,
        "invoices": [
            _invoice_json(i) | {"company_name": names.get(i.company_id or 0, "")}
            for i in invoices.items
        ],
        "invoices_total": invoices.total,
        "payments": [_payment_json(p) for p in payments.items],
        "payments_total": payments.total,
    }


_PAYLOAD_PREVIEW = 400
"""Characters of a quarantined record's payload the Failures page shows."""


async def failures(dashboard: Dashboard, store: str | None, limit: int = 200) -> dict[str, Any]:
    """Dead letters (oldest first), destinations whose deliveries fail, and the malformed
    records in quarantine (most recently seen first)."""
    found = await _reads(dashboard).failures(store, limit)
    dead, failing = found.dead_letters, found.failing
    return {
        "quarantine_total": found.quarantine.total,
        "quarantined": [
            record.as_json(payload_chars=_PAYLOAD_PREVIEW) for record in found.quarantine.newest
        ],
        "store": store,
        "dead_letters": [
            {
                "outbox_id": row.id,
                "store": row.store,
                "order_id": row.order_id,
                "version": row.version,
                "destination": row.destination,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "created_at": row.created_at.isoformat(),
            }
            for row in dead
        ],
        "failing_destinations": [
            {**asdict(item), "last_failed_at": _iso(item.last_failed_at)} for item in failing
        ],
        "actions": dashboard.contexts is not None,
    }


def _dump(model: BaseModel) -> dict[str, Any]:
    shown: dict[str, Any] = masked(model.model_dump(mode="json"))
    return shown


def _store_view(entry: StoreEntry, shared_rules: tuple[WritebackRule, ...]) -> dict[str, Any]:
    """One store's connection (secrets masked) and what applies to it alone."""
    return _dump(entry.connection) | {
        "destinations": list(entry.destinations) if entry.destinations is not None else "all",
        "channels": sorted(entry.channels) if entry.channels is not None else "all",
        "rate_budget": str(entry.rate_budget) if entry.rate_budget else "the server's quota",
        "writeback_rules": [_dump(rule) for rule in entry.writeback_rules(shared_rules)],
    }


def settings_view(dashboard: Dashboard) -> dict[str, Any]:
    """The settings in force, every secret masked."""
    settings = dashboard.settings
    if settings is None:
        return {
            "configured": False,
            "database": display_url(dashboard.db.url),
            "described": masked(dict(dashboard.described or {})),
        }
    try:
        stores: list[dict[str, Any]] = [
            _store_view(entry, settings.writeback_rules) for entry in settings.store_entries()
        ]
    except ConfigError as error:
        stores = [{"error": str(error)}]
    return {
        "configured": True,
        "config_file": str(settings.config_file) if settings.config_file else None,
        "database": display_url(settings.database_url),
        "stores": stores,
        "sync": _dump(settings.sync),
        "destinations": [_dump(destination) for destination in settings.destinations],
        "writeback_rules": [_dump(rule) for rule in settings.writeback_rules],
        "alerts": [_alert_view(alert) for alert in settings.alerts],
    }


def _alert_view(alert: AlertSettings) -> dict[str, Any]:
    """One `[[alerts]]` entry; its channels by number and scheme only (their URLs hold tokens)."""
    policy = alert.policy
    thresholds = policy.thresholds
    return {
        "name": policy.name,
        "conditions": [str(condition) for condition in policy.conditions],
        "channels": alert.labels(),
        "quiet_period": f"{policy.quiet_period.total_seconds():g} s",
        "thresholds": {
            "dead_letters": thresholds.dead_letters,
            "destination_failing_after": (
                f"{thresholds.destination_failing_after.total_seconds():g} s"
            ),
            "held": thresholds.held,
            "quarantined": thresholds.quarantined,
            "lag": f"{thresholds.lag.total_seconds():g} s",
            "quota_429s": thresholds.quota_429s,
        },
    }
