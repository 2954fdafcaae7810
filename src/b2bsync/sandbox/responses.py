"""JSON responses in each API family's own envelope and error shape."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from b2bsync.sandbox.errors import SandboxError

_JSON = "application/json"


def _dumps(content: Any) -> bytes:
    # orjson: a 250-order page with line items is ~1 MB of JSON, and the stdlib encoder spent a
    # third of the request on it. Like json.dumps it refuses types it does not know (Decimal).
    return orjson.dumps(content)


def json_response(content: Any, status: int = 200) -> Response:
    """A compact JSON body; content must already be in wire format (strings for money etc.)."""
    return Response(_dumps(content), status_code=status, media_type=_JSON)


def no_content() -> Response:
    """204 with an empty body, as V2 answers an empty collection or a delete."""
    return Response(status_code=204)


def error_response(error: SandboxError) -> Response:
    """The refusal in its family's own shape, as the error carries it."""
    return json_response(error.body, error.status)


def b2b_response(data: Any, meta: dict[str, Any] | None = None, status: int = 200) -> Response:
    """B2B Edition success envelope `{code, meta:{message[, pagination]}, data}`."""
    return json_response(
        {"code": status, "meta": {"message": "SUCCESS", **(meta or {})}, "data": data}, status
    )
