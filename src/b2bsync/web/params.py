"""Query parameters of the order list, read leniently: a bad value is named and ignored, so a
mistyped filter shows a message instead of an error page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from b2bsync.domain.order_type import OrderType
from b2bsync.domain.sync_state import SyncState
from b2bsync.store import LedgerQuery

__all__ = ["FILTER_NAMES", "OrderQuery", "order_query", "positive_int"]

FILTER_NAMES = ("store", "type", "state", "company", "status", "search", "from", "to")
"""The order list's filter parameters, as the form and the API name them."""

MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class OrderQuery:
    filters: LedgerQuery
    page: int
    page_size: int
    values: dict[str, str]
    """The accepted parameters, to fill the form and build page links."""
    problems: tuple[str, ...]


def positive_int(text: str | None, default: int, maximum: int | None = None) -> int:
    """`text` as a whole number of at least 1 (at most `maximum`), else `default`."""
    if text is None or not text.strip().isdigit() or int(text) < 1:
        return default
    return min(int(text), maximum) if maximum is not None else int(text)


def _day(text: str) -> datetime:
    return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)


def order_query(params: Mapping[str, str], default_store: str | None) -> OrderQuery:
    """The `LedgerQuery`, page and page size the parameters ask for, and what was wrong."""
    values = {name: params[name].strip() for name in FILTER_NAMES if params.get(name, "").strip()}
    problems: list[str] = []
    fields: dict[str, object] = {"store": values.get("store", default_store)}
    for name, field, convert in (
        ("type", "order_type", OrderType),
        ("state", "sync_state", SyncState),
        ("company", "company_id", int),
        ("status", "status_id", int),
        ("from", "created_from", _day),
        ("to", "created_to", lambda text: _day(text) + timedelta(days=1)),
    ):
        if name not in values:
            continue
        try:
            fields[field] = convert(values[name])
        except ValueError:
            problems.append(f"ignored {name}={values.pop(name)!r}: not a valid {name}")
    if "search" in values:
        fields["search"] = values["search"]
    return OrderQuery(
        filters=LedgerQuery(**fields),  # type: ignore[arg-type]
        page=positive_int(params.get("page"), 1),
        page_size=positive_int(params.get("page_size"), 50, MAX_PAGE_SIZE),
        values=values,
        problems=tuple(problems),
    )
