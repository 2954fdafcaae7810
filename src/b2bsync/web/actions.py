"""The dashboard's actions, through the services the CLI uses: Retry and bulk retry are
`b2bsync replay` (`sync.replay_now`), Skip is `b2bsync replay --skip` (`sync.skip_dead`), the
reconciliation report is `b2bsync invoices reconcile` (`sync.loopback.invoices.reconcile`)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

from b2bsync import B2BSyncError
from b2bsync.bigcommerce import BigCommerceError
from b2bsync.sync import replay_now, skip_dead
from b2bsync.sync.context import SyncContext
from b2bsync.sync.loopback.invoices import reconcile
from b2bsync.web.dashboard import Dashboard

__all__ = ["ActionError", "act_on_dead_letters", "reconciliation"]


class ActionError(B2BSyncError):
    """An action the dashboard cannot take as asked (read-only, unknown store, bad input)."""


def _open(dashboard: Dashboard, store: str) -> AbstractAsyncContextManager[SyncContext]:
    """The sync context of `store`, or `ActionError` when this process cannot act on it."""
    if dashboard.contexts is None:
        raise ActionError("this dashboard is read-only: its process does not sync")
    try:
        return dashboard.contexts(store)
    except KeyError:
        raise ActionError(f"store {store!r} is not synced by this process") from None


def _optional_int(fields: Mapping[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    raise ActionError(f"{name} must be a whole number, not {value!r}")


async def act_on_dead_letters(
    dashboard: Dashboard, action: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """`retry` or `skip` the dead letters of `fields["store"]`: of one order (`order_id`) and
    one destination (`destination`) when given, else all of them (bulk)."""
    store = fields.get("store")
    if not isinstance(store, str) or not store:
        raise ActionError("store is required")
    order_id = _optional_int(fields, "order_id")
    orders = [order_id] if order_id is not None else None
    destination = fields.get("destination") or None
    if destination is not None and not isinstance(destination, str):
        raise ActionError("destination must be a name")
    async with _open(dashboard, store) as ctx:
        if action == "skip":
            skipped = await skip_dead(ctx, orders, destination=destination)
            return {"store": store, "skipped": skipped}
        report = await replay_now(ctx, orders, dead_only=True, destination=destination)
        return report.as_json()


async def reconciliation(dashboard: Dashboard, store: str, days: int) -> dict[str, Any]:
    """The Invoice Portal reconciliation report of `store` (live B2B Edition reads)."""
    async with _open(dashboard, store) as ctx:
        try:
            report = await reconcile(ctx, invoice_after=timedelta(days=days))
        except BigCommerceError as error:
            raise ActionError(str(error)) from None
    return report.as_json()
