"""Masking what the Settings page and `/api/settings` show: no secret ever leaves the server."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from b2bsync.store import display_url

__all__ = ["MASK", "masked"]

MASK = "••••••"
_SECRET_KEY = re.compile(r"token|secret|password|passwd|authorization|api_key|credential", re.I)


def _masked_text(text: str) -> str:
    """A URL keeps everything but its password; other text is shown as is."""
    parts = urlsplit(text)
    if parts.scheme and parts.password:
        return display_url(text)
    return text


def masked(value: Any, key: str = "") -> Any:
    """`value` (JSON-ready) with every value under a secret-looking key, every header value
    and every URL password replaced by `MASK`."""
    if isinstance(value, dict):
        return {
            name: MASK
            if (key == "headers" or _SECRET_KEY.search(name)) and item
            else masked(item, name)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [masked(item, key) for item in value]
    if isinstance(value, str):
        return _masked_text(value)
    return value
