"""What the sandbox refuses, in each API family's own error body.

Services raise these without knowing about HTTP; the routes' `endpoint` wrapper answers any of
them with `error.body` at `error.status`. A subclass exists only where a family's error body has
its own shape; one-off shapes (a V3 404 without `errors`, a V3 400 with `detail`) are a
`SandboxError` built where they are raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

V3_ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
"""The `type` every V3 error body names."""

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


class SandboxError(Exception):
    """A request the sandbox answers with `status` and the JSON `body`; `message` says why in
    logs and tracebacks."""

    def __init__(self, status: int, body: Any, message: str = "") -> None:
        super().__init__(message or f"HTTP {status}")
        self.status = status
        self.body = body


class V2Error(SandboxError):
    """V2 errors are a JSON array of `{status, message[, details]}`."""

    def __init__(self, status: int, message: str, details: dict[str, Any] | None = None) -> None:
        item: dict[str, Any] = {"status": status, "message": message}
        if details:
            item["details"] = details
        super().__init__(status, [item], message)
        self.message = message
        self.details = details


class V3Error(SandboxError):
    """V3 errors: `{status, title, type, errors}` (ErrorResponse in the specs)."""

    def __init__(self, status: int, title: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(
            status,
            {"status": status, "title": title, "type": V3_ERROR_TYPE, "errors": dict(errors or {})},
            title,
        )
        self.title = title
        self.errors = dict(errors or {})


class B2BError(SandboxError):
    """B2B Edition errors: `{code, data:{errMsg}, meta:{message}}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(
            status,
            {
                "code": status,
                "data": {"errMsg": message},
                "meta": {"message": _B2B_MESSAGES.get(status, "Error")},
            },
            message,
        )
        self.message = message


class AdminError(SandboxError):
    """The sandbox's own `/__sandbox` API answers `{status, message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, {"status": status, "message": message}, message)
        self.message = message
