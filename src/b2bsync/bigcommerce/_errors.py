"""Every error the BigCommerce client raises, as one tree.

```
B2BSyncError
└── BigCommerceError            an API call did not produce what we asked for
    ├── RetriableError          trying again later may succeed
    │   ├── RateLimited         429 (with or without rate-limit headers)
    │   ├── ServerError         5xx
    │   └── TransportFailure    connection refused, reset, timed out, body cut short
    └── FatalError              trying again will not help
        ├── BadRequest          400, 405, 413 and other 4xx
        │   └── ValidationFailed  422
        ├── Unauthorized        401, 403
        ├── NotFound            404
        ├── Conflict            409
        └── BadPayload          2xx whose body is not the JSON we expect
```

Each error carries the method, the full URL without its query (so a wrong API URL shows at
once; never credentials) and the server's own message; the access token is never part of any
of them.
"""

from __future__ import annotations

from b2bsync import B2BSyncError

__all__ = [
    "BadPayload",
    "BadRequest",
    "BigCommerceError",
    "Conflict",
    "FatalError",
    "NotFound",
    "RateLimited",
    "RetriableError",
    "ServerError",
    "TransportFailure",
    "Unauthorized",
    "ValidationFailed",
    "error_for_status",
]


class BigCommerceError(B2BSyncError):
    """The BigCommerce API call failed."""

    def __init__(
        self,
        message: str | None = None,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        server_message: str = "",
        url: str = "",
    ) -> None:
        self.method = method
        self.path = path
        self.url = url
        """The full URL without its query, for people; `path` is relative to the API base."""
        self.status = status
        self.server_message = server_message
        self.message = message or (self.__doc__ or type(self).__name__).strip()
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" ({self.method} {self.url or self.path})" if self.method else ""
        status = f" [{self.status}]" if self.status is not None else ""
        said = f": {self.server_message}" if self.server_message else ""
        return f"{self.message}{where}{status}{said}"


class RetriableError(BigCommerceError):
    """The BigCommerce API call failed in a way that may succeed if tried again."""


class RateLimited(RetriableError):
    """BigCommerce rejected the request: the rate limit is exhausted."""

    def __init__(
        self,
        message: str | None = None,
        *,
        method: str = "",
        path: str = "",
        status: int | None = 429,
        server_message: str = "",
        wait_s: float | None = None,
        url: str = "",
    ) -> None:
        self.wait_s = wait_s
        """Seconds the server asked us to wait, or None for a 429 without rate-limit headers."""
        super().__init__(
            message,
            method=method,
            path=path,
            status=status,
            server_message=server_message,
            url=url,
        )


class ServerError(RetriableError):
    """BigCommerce answered with a server error."""


class TransportFailure(RetriableError):
    """The request or its response was lost on the way."""

    def __init__(
        self,
        message: str | None = None,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        server_message: str = "",
        reached_server: bool = True,
        url: str = "",
    ) -> None:
        self.reached_server = reached_server
        """False only when the request certainly never reached the server (connect failed)."""
        super().__init__(
            message,
            method=method,
            path=path,
            status=status,
            server_message=server_message,
            url=url,
        )


class FatalError(BigCommerceError):
    """The BigCommerce API call failed in a way that trying again will not fix."""


class BadRequest(FatalError):
    """BigCommerce rejected the request as invalid."""


class ValidationFailed(BadRequest):
    """BigCommerce rejected the request's fields."""


class Unauthorized(FatalError):
    """BigCommerce refused the credentials (check the access token, its scopes, the store hash)."""


class NotFound(FatalError):
    """BigCommerce has no such resource."""


class Conflict(FatalError):
    """BigCommerce refused the request because it conflicts with an existing resource."""


class BadPayload(FatalError):
    """BigCommerce answered with a body that is not the JSON we expect."""


def error_for_status(status: int) -> type[BigCommerceError]:
    """The error class for an HTTP error status."""
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    if status in (401, 403):
        return Unauthorized
    if status == 404:
        return NotFound
    if status == 409:
        return Conflict
    if status == 422:
        return ValidationFailed
    return BadRequest
