"""Order metafields: the V3 store's custom data on orders, and B2B Edition's `orderType` tag.

Every write goes through this module so the `store/order/metafield/*` events and the
`date_modified` index stay truthful. The index keeps the batch listing cheap when a poller asks
for `key=orderType&date_modified:min=...` on a store with 100,000+ metafields.
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from b2bsync.sandbox.errors import V3Error
from b2bsync.sandbox.models import Metafield
from b2bsync.sandbox.world import StoreState

B2B_EDITION_CLIENT_ID = "b2b-edition"
"""Owner of the metafields B2B Edition writes itself."""

ORDER_TYPE_KEY = "orderType"
ORDER_TYPE_NAMESPACE = "b2b_edition"
MAX_PER_ORDER_PER_CLIENT = 250
"""orders.v3.yml: at most 250 metafields per order per client id."""

PERMISSION_SETS = ("app_only", "read", "write", "read_and_sf_access", "write_and_sf_access")
_WRITABLE_BY_OTHERS = frozenset({"write", "write_and_sf_access"})

_LENGTHS: dict[str, tuple[int, int]] = {
    "namespace": (1, 64),
    "key": (1, 64),
    "value": (1, 65535),
    "description": (0, 255),
}


class _MetafieldIndex:
    """Lookups the routes need fast: `(date_modified, id)` pairs kept sorted, so a
    `date_modified:min` query is a bisect, and each order's metafield ids."""

    def __init__(self, metafields: Iterable[Metafield]) -> None:
        self.by_date: list[tuple[datetime, int]] = []
        self.by_order: dict[int, dict[int, None]] = {}
        for metafield in sorted(metafields, key=lambda mf: mf.id):
            self.by_date.append((metafield.date_modified, metafield.id))
            self.by_order.setdefault(metafield.resource_id, {})[metafield.id] = None
        self.by_date.sort()

    def add(self, metafield: Metafield) -> None:
        bisect.insort(self.by_date, (metafield.date_modified, metafield.id))
        self.by_order.setdefault(metafield.resource_id, {})[metafield.id] = None

    def remove(self, metafield: Metafield) -> None:
        entry = (metafield.date_modified, metafield.id)
        position = bisect.bisect_left(self.by_date, entry)
        if position < len(self.by_date) and self.by_date[position] == entry:
            del self.by_date[position]
        self.by_order.get(metafield.resource_id, {}).pop(metafield.id, None)

    def ids_modified_since(self, since: datetime) -> list[int]:
        start = bisect.bisect_left(self.by_date, (since, -1))
        return [metafield_id for _, metafield_id in self.by_date[start:]]


_indexes: dict[int, tuple[weakref.ref[StoreState], _MetafieldIndex]] = {}


def _index(state: StoreState) -> _MetafieldIndex:
    """The store's index, rebuilt when the store was replaced or changed behind our back."""
    key = id(state)
    entry = _indexes.get(key)
    if entry is not None and entry[0]() is state and len(entry[1].by_date) == len(state.metafields):
        return entry[1]
    index = _MetafieldIndex(state.metafields.values())
    _indexes[key] = (weakref.ref(state, lambda _: _indexes.pop(key, None)), index)
    return index


def visible_to(metafield: Metafield, client_id: str) -> bool:
    """`app_only` metafields are private to the client that wrote them."""
    return metafield.permission_set != "app_only" or metafield.owner_client_id == client_id


def writable_by(metafield: Metafield, client_id: str) -> bool:
    """Only the owner, or anyone when the permission set says `write`, may change a metafield."""
    return metafield.owner_client_id == client_id or metafield.permission_set in _WRITABLE_BY_OTHERS


def validate_fields(body: Mapping[str, Any], *, partial: bool) -> dict[str, str]:
    """Check the writable fields of a metafield body; returns the accepted values.

    Raises V3Error(422) naming every bad field. With `partial`, missing fields are fine.
    """
    errors: dict[str, str] = {}
    accepted: dict[str, str] = {}
    required = () if partial else ("permission_set", "namespace", "key", "value")
    for name in required:
        if body.get(name) is None:
            errors[name] = f"{name} is required."
    for name in ("permission_set", *_LENGTHS):
        if name not in body or body[name] is None:
            continue
        value = body[name]
        if not isinstance(value, str):
            errors[name] = f"{name} must be a string."
            continue
        if name == "permission_set":
            if value not in PERMISSION_SETS:
                errors[name] = f"permission_set must be one of {', '.join(PERMISSION_SETS)}."
                continue
        else:
            low, high = _LENGTHS[name]
            if not low <= len(value) <= high:
                errors[name] = f"{name} must be between {low} and {high} characters long."
                continue
        accepted[name] = value
    if errors:
        raise V3Error(422, "JSON data is missing or invalid", errors)
    return accepted


def _find_duplicate(
    state: StoreState, *, order_id: int, client_id: str, namespace: str, key: str, skip_id: int = 0
) -> Metafield | None:
    for metafield in order_metafields(state, order_id):
        if (
            metafield.id != skip_id
            and metafield.owner_client_id == client_id
            and metafield.namespace == namespace
            and metafield.key == key
        ):
            return metafield
    return None


def order_metafields(state: StoreState, order_id: int) -> list[Metafield]:
    """Every metafield of one order, in id order, whoever owns it."""
    ids = _index(state).by_order.get(order_id, {})
    return sorted((state.metafields[i] for i in ids), key=lambda mf: mf.id)


def _announce(state: StoreState, action: str, metafield: Metafield, now: datetime) -> None:
    """Both the order-specific scope and the generic one, which the events docs say fires for
    metafields "on any object ... including orders"."""
    resource_id = str(metafield.resource_id)
    state.emit(
        f"store/order/metafield/{action}",
        {
            "metafield_id": metafield.id,
            "resource_id": resource_id,
            "namespace": metafield.namespace,
        },
        now,
    )
    state.emit(
        f"store/metafield/{action}",
        {"metafield_id": metafield.id, "resource_id": resource_id, "resource_type": "order"},
        now,
    )


def create_metafield(
    state: StoreState,
    *,
    order_id: int,
    client_id: str,
    fields: Mapping[str, str],
    now: datetime,
) -> Metafield:
    """Add a metafield to an existing order (validated `fields`) and announce it.

    Raises V3Error: 404 unknown order, 409 duplicate, 422 over the per-order limit.
    """
    order = state.orders.get(order_id)
    if order is None:
        raise V3Error(404, f"Order {order_id} not found.")
    namespace, key = fields["namespace"], fields["key"]
    if _find_duplicate(state, order_id=order_id, client_id=client_id, namespace=namespace, key=key):
        raise V3Error(
            409,
            "A metafield with this namespace and key already exists on this order for this client.",
            {"key": f"Duplicate of namespace '{namespace}' and key '{key}'."},
        )
    owned = sum(1 for mf in order_metafields(state, order_id) if mf.owner_client_id == client_id)
    if owned >= MAX_PER_ORDER_PER_CLIENT:
        raise V3Error(
            422,
            "Metafield limit reached",
            {
                "resource_id": f"An order holds at most {MAX_PER_ORDER_PER_CLIENT} metafields "
                "per client id."
            },
        )
    metafield = Metafield(
        id=state.next_id("metafield", start=1),
        resource_id=order_id,
        key=key,
        value=fields["value"],
        namespace=namespace,
        permission_set=fields["permission_set"],
        date_created=now,
        date_modified=now,
        description=fields.get("description", ""),
        owner_client_id=client_id,
    )
    index = _index(state)
    state.metafields[metafield.id] = metafield
    index.add(metafield)
    _announce(state, "created", metafield, now)
    return metafield


def update_metafield(
    state: StoreState,
    metafield: Metafield,
    *,
    client_id: str,
    fields: Mapping[str, str],
    now: datetime,
) -> Metafield:
    """Change a metafield's writable fields; announces it only when something changed.

    Raises V3Error: 403 when another client owns it, 409 when the new namespace and key
    collide with another metafield of the same owner on the order.
    """
    if not writable_by(metafield, client_id):
        raise V3Error(403, "This metafield belongs to another client and is read-only.")
    namespace = fields.get("namespace", metafield.namespace)
    key = fields.get("key", metafield.key)
    if _find_duplicate(
        state,
        order_id=metafield.resource_id,
        client_id=metafield.owner_client_id,
        namespace=namespace,
        key=key,
        skip_id=metafield.id,
    ):
        raise V3Error(
            409,
            "A metafield with this namespace and key already exists on this order for this client.",
            {"key": f"Duplicate of namespace '{namespace}' and key '{key}'."},
        )
    changed = any(getattr(metafield, name) != value for name, value in fields.items())
    if not changed:
        return metafield
    index = _index(state)
    index.remove(metafield)
    for name, value in fields.items():
        setattr(metafield, name, value)
    metafield.date_modified = max(now, metafield.date_modified)
    index.add(metafield)
    _announce(state, "updated", metafield, now)
    return metafield


def delete_metafield(
    state: StoreState, metafield: Metafield, *, client_id: str, now: datetime
) -> None:
    """Remove a metafield and announce it. Raises V3Error(403) for another's metafield."""
    if not writable_by(metafield, client_id):
        raise V3Error(403, "This metafield belongs to another client and is read-only.")
    index = _index(state)
    index.remove(metafield)
    del state.metafields[metafield.id]
    _announce(state, "deleted", metafield, now)


@dataclass(frozen=True, slots=True)
class MetafieldQuery:
    """The filters both metafield GETs accept, already parsed (bounds are inclusive)."""

    keys: frozenset[str] | None = None
    namespaces: frozenset[str] | None = None
    created_min: datetime | None = None
    created_max: datetime | None = None
    modified_min: datetime | None = None
    modified_max: datetime | None = None
    descending: bool = False

    def matches(self, metafield: Metafield) -> bool:
        """Whether `metafield` passes every filter."""
        return (
            (self.keys is None or metafield.key in self.keys)
            and (self.namespaces is None or metafield.namespace in self.namespaces)
            and (self.created_min is None or metafield.date_created >= self.created_min)
            and (self.created_max is None or metafield.date_created <= self.created_max)
            and (self.modified_min is None or metafield.date_modified >= self.modified_min)
            and (self.modified_max is None or metafield.date_modified <= self.modified_max)
        )


def query_metafields(
    state: StoreState, query: MetafieldQuery, *, client_id: str, order_id: int | None = None
) -> list[Metafield]:
    """Every metafield visible to `client_id` that matches, in id order (reversed if asked).

    With `order_id` only that order's; otherwise all orders', using the date index when the
    query has a `date_modified` lower bound.
    """
    candidates: Iterable[Metafield]
    if order_id is not None:
        candidates = order_metafields(state, order_id)
    elif query.modified_min is not None:
        metafields = state.metafields
        candidates = sorted(
            (metafields[i] for i in _index(state).ids_modified_since(query.modified_min)),
            key=lambda mf: mf.id,
        )
    else:
        candidates = state.metafields.values()
    found = [mf for mf in candidates if query.matches(mf) and visible_to(mf, client_id)]
    # Already in id order in the common case, where this sort is a linear check.
    found.sort(key=lambda mf: mf.id, reverse=query.descending)
    return found


def write_order_type(state: StoreState, payload: dict[str, Any], now: datetime) -> None:
    """B2B Edition tags an order as "online order" or "invoice payment" (bigcommerce-api.md §0).

    Payload `{order_id, value}`. Nothing happens when the order is gone or already tagged.
    """
    order_id = int(payload["order_id"])
    if order_id not in state.orders or _find_duplicate(
        state,
        order_id=order_id,
        client_id=B2B_EDITION_CLIENT_ID,
        namespace=ORDER_TYPE_NAMESPACE,
        key=ORDER_TYPE_KEY,
    ):
        return
    create_metafield(
        state,
        order_id=order_id,
        client_id=B2B_EDITION_CLIENT_ID,
        fields={
            "namespace": ORDER_TYPE_NAMESPACE,
            "key": ORDER_TYPE_KEY,
            "value": str(payload["value"]),
            "permission_set": "read",
            "description": "B2B Edition order type",
        },
        now=now,
    )
