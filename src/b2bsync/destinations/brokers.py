"""What the message-broker destinations (`redis`, `amqp`) share: the fields each message carries
beside the delivery, and error texts that never show the broker URL's password."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from b2bsync.destinations.base import error_text
from b2bsync.domain.delivery import Delivery

__all__ = ["describe_without_password", "summary_fields"]


def summary_fields(delivery: Delivery) -> dict[str, str]:
    """`store`, `order_id`, `version` and `order_type` as strings: what a consumer routes or
    filters on without parsing the delivery itself."""
    return {
        "store": delivery.store,
        "order_id": str(delivery.order_id),
        "version": str(delivery.version),
        "order_type": delivery.record.order_type.value,
    }


def describe_without_password(error: Exception, url: SecretStr) -> str:
    """`error_text(error)` with the URL's password masked, both as written in the URL and
    percent-decoded (client libraries quote either form in their messages)."""
    text = error_text(error)
    password = urlsplit(url.get_secret_value()).password
    if not password:
        return text
    for form in {password, unquote(password)}:
        text = text.replace(form, "***")
    return text
