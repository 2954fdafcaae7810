"""Signatures on the HTTP destination's requests, Stripe-style, and their verification.

The sender puts the unix time in `X-B2BSync-Timestamp` and `v1=<hex>` in `X-B2BSync-Signature`,
where `<hex>` is HMAC-SHA256 over `"{timestamp}.{body}"` (the raw body bytes) keyed with the
shared secret. A receiver recomputes it over the bytes it received, compares in constant time
and refuses timestamps outside a tolerance so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from b2bsync.destinations.errors import InvalidSignature

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_SCHEME",
    "TIMESTAMP_HEADER",
    "sign",
    "verify_signature",
]

TIMESTAMP_HEADER = "X-B2BSync-Timestamp"
SIGNATURE_HEADER = "X-B2BSync-Signature"
SIGNATURE_SCHEME = "v1"


def _digest(secret: str | bytes, timestamp: str, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The `X-B2BSync-Signature` value for `body` sent at unix time `timestamp`."""
    return f"{SIGNATURE_SCHEME}={_digest(secret, str(timestamp), body)}"


def verify_signature(
    secret: str | bytes,
    timestamp: str | int,
    body: bytes,
    header: str,
    *,
    tolerance_s: float = 300,
    now: float | None = None,
) -> None:
    """Check a request's signature; raise `InvalidSignature` saying why it is refused.

    `header` may list several comma-separated `v1=` signatures (during a secret rotation the
    sender may sign with both); one match is enough. `now` defaults to the current unix time.
    """
    stamp = str(timestamp).strip()
    if not stamp.isdigit():
        raise InvalidSignature(f"{TIMESTAMP_HEADER} is not a unix timestamp: {stamp[:20]!r}")
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance_s:
        raise InvalidSignature(
            f"{TIMESTAMP_HEADER} is {int(current - int(stamp))} s from now "
            f"(tolerance {tolerance_s:g} s)"
        )
    candidates = [
        value.strip()
        for scheme, _, value in (part.strip().partition("=") for part in header.split(","))
        if scheme == SIGNATURE_SCHEME
    ]
    if not candidates:
        raise InvalidSignature(f"{SIGNATURE_HEADER} has no {SIGNATURE_SCHEME}= signature")
    expected = _digest(secret, stamp, body)
    # Compare with every candidate, without stopping early, so timing reveals nothing.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate.encode(), expected.encode())
    if not matched:
        raise InvalidSignature("the signature does not match the body and timestamp")
