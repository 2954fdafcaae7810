"""The content hash that decides whether an order changed in a way destinations care about."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import orjson

from b2bsync.domain.records import OrderRecord

WRITEBACK_MARKER = "[b2bsync]"
"""Prefix of every line b2bsync writes into `staff_notes`; such lines never count as a change."""

_VOLATILE_FIELDS = frozenset({"date_modified"})
"""Fields that move on every touch, including our own write-backs; they never make a version."""

_PROVENANCE_FIELDS = frozenset({"external_source", "origin"})
"""Where the order came from: fixed at its creation, and left out of the hash so that adding
these fields changed no hash already stored (an upgrade re-delivers nothing)."""


def strip_writeback_lines(staff_notes: str) -> str:
    """`staff_notes` without the lines b2bsync wrote, so our own write-back is no change."""
    kept = [
        line for line in staff_notes.splitlines() if not line.lstrip().startswith(WRITEBACK_MARKER)
    ]
    return "\n".join(kept).strip()


def content_hash(record: OrderRecord) -> str:
    """SHA-256 over the canonical JSON of the fields destinations see.

    Leaves out `date_modified` and b2bsync's own staff-notes lines, so a change that is only our
    write-back (which bumps `date_modified` and fires webhooks) produces the same hash; and the
    order's provenance (`external_source`, `origin`), which never changes.
    """
    payload = record.model_dump(mode="python", exclude=set(_VOLATILE_FIELDS | _PROVENANCE_FIELDS))
    payload["staff_notes"] = strip_writeback_lines(record.staff_notes)
    return hashlib.sha256(canonical_json(payload)).hexdigest()


_ORJSON_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def canonical_json(payload: dict[str, Any]) -> bytes:
    """The hashed form: sorted keys, no spaces, UTF-8, amounts and dates by `_canonical`.

    orjson writes it; the bytes are those of `json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`, the form every stored hash was made with (property-tested). What
    orjson refuses (an integer beyond 64 bits) goes through `json.dumps` itself.
    """
    try:
        return orjson.dumps(payload, default=_canonical, option=_ORJSON_CANONICAL)
    except orjson.JSONEncodeError:
        return json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_canonical
        ).encode()


def _canonical(value: Any) -> str:
    """Equal amounts hash alike whatever their scale ("10" and "10.0000")."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"cannot hash a {type(value).__name__}")
