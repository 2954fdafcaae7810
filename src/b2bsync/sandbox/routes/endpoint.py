"""What every route handler shares, whatever its API family: the `endpoint` wrapper that hands it
the store and answers a `SandboxError` in the error's own shape, and the one JSON body reader.

The families differ only in their error bodies, and the errors carry those, so one wrapper
serves the V2, V3, B2B Edition and admin routes alike.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from b2bsync.sandbox.errors import SandboxError
from b2bsync.sandbox.responses import error_response
from b2bsync.sandbox.world import StoreState, World

Handler = Callable[[Request, "Context"], Response | Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Context:
    """The store the gateway resolved for this request and the world it lives in."""

    state: StoreState
    world: World

    @classmethod
    def of(cls, request: Request) -> Context:
        """The context the gateway put on `request.state`."""
        return cls(request.state.store, request.state.world)

    @property
    def now(self) -> datetime:
        """The world's clock (tests may move it)."""
        return self.world.clock()

    @property
    def client_id(self) -> str:
        """The API client the token belongs to: V3 metafields and hooks are per client."""
        return self.world.config.client_id


def endpoint(handler: Handler) -> Endpoint:
    """A Starlette endpoint calling `handler(request, context)`, sync or async, and answering a
    `SandboxError` raised anywhere in it with the error's status and body."""

    async def wrapped(request: Request) -> Response:
        try:
            result = handler(request, Context.of(request))
            if inspect.isawaitable(result):
                result = await result
        except SandboxError as error:
            return error_response(error)
        assert isinstance(result, Response)
        return result

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


_REQUIRED: Final = object()
"""Marks a body that must hold JSON even when the request sends none."""


async def read_json(
    request: Request,
    malformed: SandboxError,
    *,
    empty: Any = _REQUIRED,
    not_object: SandboxError | None = None,
    blank_is_empty: bool = False,
) -> Any:
    """The request body parsed as JSON.

    `malformed` is raised when the body is not JSON (an empty body included unless `empty` is
    given: then an empty body reads as `empty`, and with `blank_is_empty` so does one of only
    white space). With `not_object`, a value other than a JSON object raises that instead.
    """
    raw = await request.body()
    if empty is not _REQUIRED and not (raw.strip() if blank_is_empty else raw):
        parsed = empty
    else:
        try:
            parsed = json.loads(raw)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
            raise malformed from None
    if not_object is not None and not isinstance(parsed, dict):
        raise not_object
    return parsed
