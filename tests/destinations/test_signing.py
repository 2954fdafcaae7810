"""Signatures: what the http destination sends is what receivers can verify."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from b2bsync.destinations import InvalidSignature, sign, verify_signature

SECRET = "whsec-0123456789abcdef"
BODY = b'{"idempotency_key":"s:1:1","order_id":1}'
NOW = 1_790_000_000


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"v1={expected}"


def test_a_valid_signature_passes() -> None:
    verify_signature(SECRET, str(NOW), BODY, sign(SECRET, NOW, BODY), now=NOW + 10)
    verify_signature(SECRET.encode(), NOW, BODY, sign(SECRET, NOW, BODY), now=NOW - 10)


def test_a_tampered_body_fails() -> None:
    header = sign(SECRET, NOW, BODY)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(SECRET, NOW, BODY.replace(b"1}", b"2}"), header, now=NOW)


def test_a_tampered_timestamp_fails() -> None:
    header = sign(SECRET, NOW, BODY)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(SECRET, NOW + 1, BODY, header, now=NOW)


def test_another_secret_fails() -> None:
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature("other-secret", NOW, BODY, sign(SECRET, NOW, BODY), now=NOW)


@pytest.mark.parametrize("skew", [301, -301, 10_000])
def test_a_stale_or_future_timestamp_fails(skew: int) -> None:
    header = sign(SECRET, NOW, BODY)
    with pytest.raises(InvalidSignature, match="tolerance 300 s"):
        verify_signature(SECRET, NOW, BODY, header, now=NOW + skew)
    verify_signature(SECRET, NOW, BODY, header, now=NOW + skew, tolerance_s=abs(skew))


def test_any_of_several_signatures_may_match() -> None:
    header = f"v1={'0' * 64}, {sign(SECRET, NOW, BODY)}"
    verify_signature(SECRET, NOW, BODY, header, now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "header", "message"),
    [
        ("", "v1=abc", "not a unix timestamp"),
        ("12.5", "v1=abc", "not a unix timestamp"),
        (str(NOW), "", "no v1= signature"),
        (str(NOW), "v0=abc", "no v1= signature"),
    ],
)
def test_malformed_headers_fail(timestamp: str, header: str, message: str) -> None:
    with pytest.raises(InvalidSignature, match=message):
        verify_signature(SECRET, timestamp, BODY, header, now=NOW)
