"""Records an API returned that could not be parsed or mapped: set aside alone, never fatal.

A `Rejected` names the stream and the record, says what was wrong (field path and message) and
keeps the start of the raw payload for diagnosis. The rest of its page goes on without it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from hashlib import sha256

__all__ = ["MAX_PAYLOAD_CHARS", "Rejected", "RejectedStream", "capped_payload", "record_key"]

MAX_PAYLOAD_CHARS = 16_384
"""How much of a rejected record's JSON is kept: enough to see what was wrong, bounded."""


class RejectedStream(StrEnum):
    """Where a rejected record came from."""

    V2_ORDER = "v2_order"
    """A V2 order, or one whose nested line item or address does not map."""
    ORDER_METAFIELD = "order_metafield"
    B2B_ORDER = "b2b_order"
    B2B_COMPANY = "b2b_company"
    B2B_INVOICE = "b2b_invoice"
    B2B_PAYMENT = "b2b_payment"

    @property
    def is_signal(self) -> bool:
        """Signal streams (companies, invoices, payments) skip a bad record and move on; the
        order streams keep it quarantined against its order until a clean read."""
        return self in _SIGNAL_STREAMS


_SIGNAL_STREAMS = frozenset(
    {RejectedStream.B2B_COMPANY, RejectedStream.B2B_INVOICE, RejectedStream.B2B_PAYMENT}
)


@dataclass(frozen=True, slots=True)
class Rejected:
    """One record set aside: which, why, and what it looked like."""

    stream: RejectedStream
    key: str
    """The record's id as the API gave it, or a digest of its payload when it has none."""
    order_id: int | None
    """The order it belongs to, when known (a V2 order, its lines, its metafield...)."""
    reason: str
    """What was wrong, without secrets: e.g. `total_inc_tax: Input should be a valid decimal`."""
    path: str
    """The field path of the first problem (`total_inc_tax`, `billing_address.email`), or ''."""
    payload: str
    """The record's JSON, cut at `MAX_PAYLOAD_CHARS`."""
    payload_chars: int
    """The length of the full JSON, so a cut payload says how much was dropped."""


def _json(raw: object) -> str:
    try:
        return json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(raw)


def capped_payload(raw: object, limit: int = MAX_PAYLOAD_CHARS) -> tuple[str, int]:
    """`raw` as JSON cut at `limit` characters, and the full length."""
    text = _json(raw)
    return text[:limit], len(text)


def record_key(raw: object, *id_fields: str) -> str:
    """The record's id from the first of `id_fields` that holds a scalar, else a digest of the
    payload (stable across reads of the same bytes, so a re-read updates the same row)."""
    if isinstance(raw, dict):
        for name in id_fields:
            value = raw.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)[:128]
    return "sha256:" + sha256(_json(raw).encode()).hexdigest()[:32]
