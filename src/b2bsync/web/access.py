"""Who may use the dashboard, `/api/` and `/metrics`, and the CSRF token of the buttons that act.

On 127.0.0.1 (the default) nothing is asked. Anywhere else the server must have credentials:
`B2BSYNC_DASHBOARD_TOKEN` (a bearer token; in a browser, typed once on the login page, which
sets a session cookie derived from it) and/or `B2BSYNC_DASHBOARD_USER` +
`B2BSYNC_DASHBOARD_PASSWORD` (HTTP basic auth). `check_bind` refuses to serve otherwise.
Every comparison is constant-time; no credential is ever rendered or logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import SecretStr

from b2bsync import B2BSyncError

__all__ = [
    "PASSWORD_ENV",
    "SESSION_COOKIE",
    "TOKEN_ENV",
    "USER_ENV",
    "Access",
    "AccessError",
    "check_bind",
    "is_loopback",
]

TOKEN_ENV = "B2BSYNC_DASHBOARD_TOKEN"  # noqa: S105 (a variable name, not a secret)
USER_ENV = "B2BSYNC_DASHBOARD_USER"
PASSWORD_ENV = "B2BSYNC_DASHBOARD_PASSWORD"  # noqa: S105 (a variable name, not a secret)
SESSION_COOKIE = "b2bsync_session"
_SESSION_CONTEXT = b"b2bsync dashboard session v1"
_CSRF_CONTEXT = b"b2bsync dashboard csrf v1"


class AccessError(B2BSyncError):
    """The dashboard cannot be served safely as configured."""


def is_loopback(host: str) -> bool:
    """Whether `host` (an interface to bind) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Access:
    """The dashboard's credentials (none: open, which only loopback allows)."""

    token: SecretStr | None = None
    user: str | None = None
    password: SecretStr | None = None
    csrf_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    """Signs the CSRF token; new per process, so a token dies with the server."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Access:
        """Credentials from `B2BSYNC_DASHBOARD_TOKEN` / `_USER` + `_PASSWORD`; a user without a
        password (or the reverse) is an `AccessError`."""
        env = os.environ if environ is None else environ
        token = env.get(TOKEN_ENV, "").strip()
        user = env.get(USER_ENV, "").strip()
        password = env.get(PASSWORD_ENV, "")
        if bool(user) != bool(password):
            raise AccessError(f"set both {USER_ENV} and {PASSWORD_ENV} for basic auth, or neither")
        return cls(
            token=SecretStr(token) if token else None,
            user=user or None,
            password=SecretStr(password) if password else None,
        )

    @property
    def protected(self) -> bool:
        """Whether any credential is required."""
        return self.token is not None or self.user is not None

    @property
    def session(self) -> str | None:
        """The session cookie's value: derived from the token, never the token itself."""
        if self.token is None:
            return None
        key = self.token.get_secret_value().encode()
        return hmac.new(key, _SESSION_CONTEXT, hashlib.sha256).hexdigest()

    @property
    def csrf_token(self) -> str:
        """The token every acting POST must carry (form field `csrf_token` or `X-CSRF-Token`)."""
        return hmac.new(self.csrf_key, _CSRF_CONTEXT, hashlib.sha256).hexdigest()

    def csrf_ok(self, given: str | None) -> bool:
        """Whether `given` is this server's CSRF token."""
        return given is not None and hmac.compare_digest(given.encode(), self.csrf_token.encode())

    def bearer_ok(self, authorization: str) -> bool:
        """Whether the `Authorization` header carries the token."""
        if self.token is None or not authorization.startswith("Bearer "):
            return False
        given = authorization.removeprefix("Bearer ").strip().encode()
        return hmac.compare_digest(given, self.token.get_secret_value().encode())

    def basic_ok(self, authorization: str) -> bool:
        """Whether the `Authorization` header carries the basic-auth user and password."""
        if self.user is None or self.password is None or not authorization.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(authorization.removeprefix("Basic ").strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, _, password = decoded.decode("utf-8", "replace").partition(":")
        expected = f"{self.user}:{self.password.get_secret_value()}".encode()
        return hmac.compare_digest(f"{user}:{password}".encode(), expected)

    def session_ok(self, cookie: str | None) -> bool:
        """Whether the session cookie was set by a login with the token."""
        session = self.session
        return (
            session is not None
            and cookie is not None
            and hmac.compare_digest(cookie.encode(), session.encode())
        )

    def allows(self, authorization: str, cookie: str | None) -> bool:
        """Whether a request with these headers may see the dashboard."""
        if not self.protected:
            return True
        return (
            self.bearer_ok(authorization)
            or self.basic_ok(authorization)
            or (self.session_ok(cookie))
        )


def check_bind(host: str, access: Access) -> None:
    """Refuse (`AccessError`) to serve the dashboard beyond loopback without credentials."""
    if is_loopback(host) or access.protected:
        return
    raise AccessError(
        f"refusing to serve the dashboard on {host} without credentials: set {TOKEN_ENV} "
        f"(or {USER_ENV} and {PASSWORD_ENV}), or bind to 127.0.0.1"
    )
