"""Unwrapping `{data, meta}` envelopes (V3 and B2B Edition)."""

from __future__ import annotations

from typing import Any

from b2bsync.bigcommerce._errors import BadPayload

__all__ = ["data_list", "data_object"]


def data_object(body: Any) -> dict[str, Any]:
    """`data` as one object; a one-element array is accepted (B2B order detail documents one)."""
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if isinstance(data, dict):
        return data
    raise BadPayload(f"expected `data` to be one object, got {type(data).__name__}")


def data_list(body: Any) -> list[Any]:
    """`data` as an array (a missing or null `data` or an empty body means none)."""
    if body is None:
        return []
    data = body.get("data") if isinstance(body, dict) else None
    if data is None:
        return []
    if isinstance(data, list):
        return data
    raise BadPayload(f"expected `data` to be an array, got {type(data).__name__}")
