"""What every B2B Edition route shares: query parsing with B2B Edition's error answers, list
envelopes and request bodies.

Bad query values never reach a handler as exceptions: a malformed or out-of-range value is a 422
naming the parameter, a `limit` above the endpoint's maximum a 413 (api-status-codes.mdx: "the
`limit` parameter exceeded the maximum").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from b2bsync.sandbox.errors import B2BError
from b2bsync.sandbox.models import ExtraField, Money
from b2bsync.sandbox.responses import b2b_response
from b2bsync.sandbox.routes.endpoint import read_json

T = TypeVar("T")


def path_int(request: Request, name: str, message: str) -> int:
    """A numeric path parameter; anything else is the resource's 404."""
    raw = str(request.path_params[name])
    if not raw.isdigit():
        raise B2BError(404, message)
    return int(raw)


class Query:
    """Typed access to a request's query string."""

    def __init__(self, request: Request) -> None:
        self._params = request.query_params

    def text(self, name: str) -> str | None:
        """The raw value; an empty value counts as absent."""
        value = self._params.get(name)
        return value if value else None

    def integer(
        self, name: str, default: int | None = None, *, minimum: int | None = None
    ) -> int | None:
        """An integer at least `minimum`; 422 otherwise."""
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise B2BError(422, f"{name} must be an integer") from None
        if minimum is not None and value < minimum:
            raise B2BError(422, f"{name} must be at least {minimum}")
        return value

    def choice(self, name: str, choices: Sequence[str], default: str | None = None) -> str | None:
        """One of `choices` (exact spelling); 422 otherwise."""
        raw = self.text(name)
        if raw is None:
            return default
        if raw not in choices:
            raise B2BError(422, f"{name} must be one of {', '.join(choices)}")
        return raw

    def moment(self, name: str) -> datetime | None:
        """Unix seconds as an aware UTC datetime."""
        value = self.integer(name, minimum=0)
        return None if value is None else datetime.fromtimestamp(value, UTC)

    def flag(self, name: str) -> bool:
        """`true`/`1` or `false`/`0`."""
        raw = self.text(name)
        if raw is None:
            return False
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise B2BError(422, f"{name} must be true or false")

    def integers(self, name: str) -> list[int]:
        """Repeated `name` / `name[]` parameters, each possibly comma-separated."""
        values: list[int] = []
        for key in (name, f"{name}[]"):
            for raw in self._params.getlist(key):
                for part in raw.split(","):
                    if not part.strip():
                        continue
                    try:
                        values.append(int(part))
                    except ValueError:
                        raise B2BError(422, f"{name} must be a list of integers") from None
        return values

    def texts(self, name: str) -> list[str]:
        """Repeated `name` / `name[]` parameters as given."""
        return [v for key in (name, f"{name}[]") for v in self._params.getlist(key) if v]

    def page(self, *, default_limit: int = 10, max_limit: int = 250) -> tuple[int, int]:
        """`(offset, limit)`; a limit above `max_limit` is a 413, below 1 a 422."""
        given = self.integer("limit")
        limit = default_limit if given is None else given
        if limit > max_limit:
            raise B2BError(413, f"limit must not exceed {max_limit}")
        if limit < 1:
            raise B2BError(422, "limit must be at least 1")
        return self.integer("offset", minimum=0) or 0, limit


def page_of(
    items: Sequence[T], offset: int, limit: int, render: Callable[[T], dict[str, Any]]
) -> Response:
    """The B2B list envelope around one page of `items`."""
    return b2b_response(
        [render(item) for item in items[offset : offset + limit]],
        {"pagination": {"totalCount": len(items), "offset": offset, "limit": limit}},
    )


def sort_in_place(items: list[T], key: Callable[[T], Any], order_by: str | None) -> None:
    """Stable sort by `key` then id order, descending unless `order_by` is `ASC`."""
    items.sort(key=key, reverse=(order_by or "DESC") == "DESC")


async def body(request: Request) -> dict[str, Any]:
    """The JSON object in the request body (none reads as `{}`); 400 when it is not one."""
    parsed: dict[str, Any] = await read_json(
        request,
        B2BError(400, "The request body is not valid JSON."),
        empty={},
        not_object=B2BError(400, "The request body must be a JSON object."),
    )
    return parsed


def decimal_of(value: Any, name: str) -> Decimal:
    """A number or numeric string as Decimal; 422 otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise B2BError(422, f"{name} must be a number")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise B2BError(422, f"{name} must be a number") from None
    if not result.is_finite():
        raise B2BError(422, f"{name} must be a number")
    return result


def money_of(value: Any, name: str) -> Money:
    """`{code, value}` as Money."""
    if not isinstance(value, dict) or "value" not in value:
        raise B2BError(422, f"{name} must be an object with code and value")
    code = value.get("code") or "USD"
    if not isinstance(code, str) or len(code) != 3:
        raise B2BError(422, "Invalid currency code")
    return Money(code=code.upper(), value=decimal_of(value["value"], f"{name}.value"))


def extra_fields_of(value: Any) -> list[ExtraField]:
    """`[{fieldName, fieldValue}]` as ExtraFields; 422 when malformed."""
    if not isinstance(value, list):
        raise B2BError(422, "extraFields must be an array")
    fields = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("fieldName"), str):
            raise B2BError(422, "Each extra field needs fieldName and fieldValue")
        fields.append(ExtraField(item["fieldName"], str(item.get("fieldValue", ""))))
    return fields


def contains(haystack: object, needle: str) -> bool:
    """Case-insensitive substring match, B2B Edition's `q` search."""
    return needle.lower() in str(haystack or "").lower()
