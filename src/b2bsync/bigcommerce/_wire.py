"""Pydantic types for the wire formats of the three APIs, and their inverse for requests.

V2 sends RFC 2822 dates and 4-decimal money strings, V3 ISO 8601, B2B Edition unix seconds as
numbers or as numeric strings; ids and counts sometimes arrive as strings. Every datetime type
here accepts *all* of those formats (the APIs are not consistent about which one a field uses)
and yields an aware UTC `datetime`; money becomes `Decimal`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = [
    "IsoDatetime",
    "LenientInt",
    "Money",
    "OptionalDatetime",
    "OptionalInt",
    "OptionalMoney",
    "Rfc2822Datetime",
    "UnixDatetime",
    "format_iso8601",
    "format_rfc2822",
    "format_unix",
    "parse_datetime",
    "parse_money",
]

_NUMERIC = re.compile(r"[+-]?\d+(?:\.\d+)?")
_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def _from_unix(seconds: float | Decimal) -> datetime:
    try:
        return datetime.fromtimestamp(float(seconds), tz=UTC)
    except (OverflowError, OSError) as error:
        # Far past or future seconds are a malformed value, like any other bad date.
        raise ValueError(f"unix time {seconds} is out of range") from error


def parse_datetime(value: Any) -> datetime:
    """An aware UTC datetime from RFC 2822, ISO 8601 (naive means UTC), unix seconds or a
    numeric string of unix seconds."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError("a boolean is not a date")
    if isinstance(value, int | float | Decimal):
        return _from_unix(value)
    if not isinstance(value, str):
        raise ValueError(f"cannot read a date from {type(value).__name__}")
    text = value.strip()
    if _NUMERIC.fullmatch(text):
        return _from_unix(Decimal(text))
    if _ISO_START.match(text):
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError) as error:
        raise ValueError(f"not a date: {text!r}") from error
    # RFC 2822 "-0000" means "UTC, origin unknown"; parsedate returns it naive.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _optional_datetime(value: Any) -> datetime | None:
    # V2 `date_shipped` is "" until the order ships; B2B leaves unset dates null.
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_datetime(value)


def parse_money(value: Any) -> Decimal:
    """A Decimal from a money string (`"336.3200"`), an int or a float (via its repr)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float | str):
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as error:
            raise ValueError(f"not an amount: {value!r}") from error
        if not amount.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        return amount
    raise ValueError(f"cannot read an amount from {type(value).__name__}")


def _optional_money(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_money(value)


def _lenient_int(value: Any) -> Any:
    if isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        number = Decimal(value.strip())
        if number == number.to_integral_value():
            return int(number)
    return value


def _optional_int(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _lenient_int(value)


Rfc2822Datetime = Annotated[datetime, BeforeValidator(parse_datetime)]
"""A V2 date (`Tue, 20 Nov 2012 00:00:00 +0000`); other formats are accepted too."""
IsoDatetime = Annotated[datetime, BeforeValidator(parse_datetime)]
"""A V3 date (`2022-06-16T18:39:00+00:00`); other formats are accepted too."""
UnixDatetime = Annotated[datetime, BeforeValidator(parse_datetime)]
"""A B2B Edition or webhook date in unix seconds, as a number or a numeric string."""
OptionalDatetime = Annotated[datetime | None, BeforeValidator(_optional_datetime)]
"""Any of the date formats, or None for null or an empty string."""
Money = Annotated[Decimal, BeforeValidator(parse_money)]
"""An amount from a string or a number."""
OptionalMoney = Annotated[Decimal | None, BeforeValidator(_optional_money)]
"""An amount, or None for null or an empty string."""
LenientInt = Annotated[int, BeforeValidator(_lenient_int)]
"""An integer that may arrive as a numeric string (`"12"`)."""
OptionalInt = Annotated[int | None, BeforeValidator(_optional_int)]
"""An integer, a numeric string, or None for null or an empty string."""


def format_rfc2822(moment: datetime) -> str:
    """`Tue, 20 Nov 2012 00:00:00 +0000`, as V2 filters accept it."""
    return format_datetime(_aware(moment).astimezone(UTC))


def format_iso8601(moment: datetime | date) -> str:
    """`2022-06-16T18:39:00+00:00`, as V3 filters accept it."""
    if isinstance(moment, datetime):
        return _aware(moment).astimezone(UTC).isoformat()
    return moment.isoformat()


def format_unix(moment: datetime) -> int:
    """Unix seconds, as B2B Edition filters take them."""
    return int(_aware(moment).timestamp())


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    return moment
