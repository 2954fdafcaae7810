"""JSON responses in each API family's own envelope and error shape."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

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


def v2_error(status: int, message: str, details: dict[str, Any] | None = None) -> Response:
    """V2 errors are a JSON array of `{status, message[, details]}`."""
    body: dict[str, Any] = {"status": status, "message": message}
    if details:
        body["details"] = details
    return json_response([body], status)


_V3_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


def v3_error(status: int, title: str, errors: dict[str, Any] | None = None) -> Response:
    """V3 errors: `{status, title, type, errors}` (ErrorResponse in the specs)."""
    return json_response(
        {"status": status, "title": title, "type": _V3_TYPE, "errors": errors or {}}, status
    )


_B2B_MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found Error",
    413: "Request Entity Too Large",
    422: "Invalid Field",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def b2b_response(data: Any, meta: dict[str, Any] | None = None, status: int = 200) -> Response:
    """B2B Edition success envelope `{code, meta:{message[, pagination]}, data}`."""
    return json_response(
        {"code": status, "meta": {"message": "SUCCESS", **(meta or {})}, "data": data}, status
    )


def b2b_error(status: int, message: str, data: dict[str, Any] | None = None) -> Response:
    """B2B Edition error envelope `{code, data:{errMsg}, meta:{message}}`."""
    return json_response(
        {
            "code": status,
            "data": {"errMsg": message, **(data or {})},
            "meta": {"message": _B2B_MESSAGES.get(status, "Error")},
        },
        status,
    )
