"""Decoding API records one at a time, so one malformed record is set aside, not fatal.

Every record an API returns is untrusted input. `decode_each` parses a page's records with a
pydantic model and returns the good ones beside a `Rejected` for each bad one (field path and
message, the start of its payload); callers quarantine or skip those and go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from b2bsync.bigcommerce._errors import BadPayload
from b2bsync.domain.rejects import Rejected, RejectedStream, capped_payload, record_key

__all__ = ["Rejects", "decode_each", "decode_one", "error_path", "parse", "rejection"]

Rejects = Callable[[Rejected], None]
"""Where a listing hands each record it could not parse (e.g. `list.append`)."""

ModelT = TypeVar("ModelT", bound=BaseModel)


def error_path(error: ValidationError | ValueError) -> tuple[str, str]:
    """The dotted field path of the first problem and a one-line reason naming it.

    Only the location and pydantic's message are used, never the offending input, which may
    hold personal data.
    """
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        path = ".".join(str(part) for part in first["loc"])
        more = error.error_count() - 1
        extra = f" (and {more} more)" if more else ""
        return path, f"{path or 'record'}: {first['msg']}{extra}"
    return "", str(error).splitlines()[0] if str(error) else type(error).__name__


def parse(model: type[ModelT], raw: Any, operation: str) -> ModelT:
    """`raw` as `model`, or `BadPayload` naming the operation and the field path: a malformed
    answer surfaces as the client's own error, never as a validation traceback."""
    try:
        return model.model_validate(raw)
    except (ValidationError, ValueError) as error:
        _, reason = error_path(error)
        raise BadPayload(f"{operation} answered a malformed {model.__name__}: {reason}") from None


def rejection(
    stream: RejectedStream,
    raw: object,
    error: ValidationError | ValueError,
    *,
    id_fields: Sequence[str] = ("id",),
    order_id: int | None = None,
) -> Rejected:
    """A `Rejected` for `raw`, which `error` says is not a valid record of `stream`."""
    path, reason = error_path(error)
    payload, size = capped_payload(raw)
    return Rejected(
        stream=stream,
        key=record_key(raw, *id_fields),
        order_id=order_id,
        reason=reason,
        path=path,
        payload=payload,
        payload_chars=size,
    )


def decode_one(
    model: type[ModelT],
    raw: Any,
    stream: RejectedStream,
    *,
    id_fields: Sequence[str] = ("id",),
    order_of: Callable[[Any], int | None] | None = None,
) -> ModelT | Rejected:
    """`raw` as `model`, or a `Rejected` saying why not. `order_of(raw)` names the order a
    rejected record belongs to, if any."""
    try:
        return model.model_validate(raw)
    except (ValidationError, ValueError) as error:
        owner = order_of(raw) if order_of is not None else None
        return rejection(stream, raw, error, id_fields=id_fields, order_id=owner)


def decode_each(
    model: type[ModelT],
    items: Iterable[Any],
    stream: RejectedStream,
    *,
    id_fields: Sequence[str] = ("id",),
    order_of: Callable[[Any], int | None] | None = None,
) -> tuple[list[ModelT], list[Rejected]]:
    """Parse each of `items` as `model`: the records that parse, and one `Rejected` for each
    that does not (see `decode_one`)."""
    good: list[ModelT] = []
    bad: list[Rejected] = []
    for raw in items:
        decoded = decode_one(model, raw, stream, id_fields=id_fields, order_of=order_of)
        if isinstance(decoded, Rejected):
            bad.append(decoded)
        else:
            good.append(decoded)
    return good, bad
