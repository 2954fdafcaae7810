"""How b2bsync writes JSON into database columns (the ledger's and the `sql` destination's)."""

from __future__ import annotations

from typing import Any

import orjson


def json_text(value: Any) -> str:
    """`value` as compact JSON text by orjson (several JSON columns a row: records, payloads,
    drafts); integer keys become strings, as `json.dumps` makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
