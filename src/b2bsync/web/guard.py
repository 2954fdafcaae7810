"""Request checks of the dashboard, `/api/` and `/metrics`: credentials (when the server has
any) and, on every POST, the CSRF token and a same-origin `Origin`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from b2bsync.web.access import SESSION_COOKIE, Access

__all__ = ["Forbidden", "NotAuthenticated", "read_post", "require_login"]


class NotAuthenticated(Exception):
    """The request carries no valid credential."""


class Forbidden(Exception):
    """A POST without the CSRF token, or from another origin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def require_login(access: Access) -> Callable[[Request], Awaitable[None]]:
    """A dependency raising `NotAuthenticated` unless the request may see the dashboard."""

    async def check(request: Request) -> None:
        if not access.allows(
            request.headers.get("authorization", ""), request.cookies.get(SESSION_COOKIE)
        ):
            raise NotAuthenticated

    return check


async def read_post(request: Request, access: Access) -> dict[str, Any]:
    """The POST's fields (a form or a JSON object) once its origin and CSRF token check out.

    A request authenticated by bearer token needs no CSRF token: browsers never attach one on
    their own, so it cannot be forged cross-site.
    """
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            loaded = json.loads(body or b"{}")
        except ValueError:
            raise Forbidden("the body is not JSON") from None
        fields: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    else:
        fields = dict(parse_qsl(body.decode("utf-8", "replace")))
    if access.bearer_ok(request.headers.get("authorization", "")):
        return fields
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden("cross-origin request refused")
    given = request.headers.get("x-csrf-token") or fields.get("csrf_token")
    if not access.csrf_ok(given if isinstance(given, str) else None):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again")
    return fields


def api_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The API's error shape: `{"error": message}`."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)
