"""The intake's pure parts: reading a callback body, checking a Standard Webhooks signature."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from b2bsync.sandbox.webhooks import build_payload, sign
from b2bsync.sandbox.world import WebhookEvent
from b2bsync.store.change_feed import ChangeSource
from b2bsync.sync.webhooks.intake import (
    Callback,
    MalformedCallback,
    parse_callback,
    signature_problem,
)

CALLBACKS = Path("/work/shared/specs/webhook-callbacks")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SECRET = "client-secret"


def _body(**payload: object) -> bytes:
    base: dict[str, object] = {
        "scope": "store/order/created",
        "store_id": "1",
        "data": {"type": "order", "id": 250},
        "hash": "abc",
        "created_at": 1561479335,
        "producer": "stores/s1",
    }
    base.update(payload)
    return json.dumps(base).encode()


@pytest.mark.parametrize(
    "name", ["store_order_created", "store_order_updated", "store_order_statusUpdated"]
)
def test_the_documented_examples_parse(name: str) -> None:
    example = (CALLBACKS / f"{name}.json").read_text().replace("{store_hash}", "s1")
    parsed = parse_callback(example.encode(), "s1")
    document = json.loads(example)
    assert parsed == Callback(document["scope"], 250, document["hash"], document["created_at"])
    assert parsed.source is ChangeSource.WEBHOOK


def test_metafield_and_transaction_callbacks_name_their_order_as_a_string() -> None:
    schema = yaml.safe_load((CALLBACKS / "store_order_metafield_created.yml").read_text())
    assert (
        "resource_id"
        in schema["properties"]["store/order/metafield/created"]["properties"]["data"]["properties"]
    )
    metafield = parse_callback(
        _body(scope="store/order/metafield/created", data={"metafield_id": 3, "resource_id": "77"}),
        "s1",
    )
    transaction = parse_callback(
        _body(
            scope="store/order/transaction/created", data={"type": "transaction", "order_id": "78"}
        ),
        "s1",
    )
    assert metafield is not None
    assert metafield.order_id == 77
    assert metafield.source is ChangeSource.METAFIELD
    assert transaction is not None
    assert transaction.order_id == 78


def test_what_the_sandbox_sends_parses() -> None:
    event = WebhookEvent("store/order/statusUpdated", {"type": "order", "id": 9}, NOW)
    payload = build_payload("s1", event)
    parsed = parse_callback(json.dumps(payload).encode(), "s1")
    assert parsed is not None
    assert (parsed.order_id, parsed.hash) == (9, payload["hash"])


def test_other_scopes_are_not_order_callbacks() -> None:
    assert parse_callback(_body(scope="store/product/updated", data={}), "s1") is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"null", "not a JSON object"),
        (_body(scope="app/uninstalled"), "scope"),
        (_body(hash=5), "hash"),
        (_body(hash="x" * 129), "hash"),
        (_body(producer="stores/other"), "producer"),
        (_body(created_at="yesterday"), "created_at"),
        (_body(created_at=True), "created_at"),
        (_body(data=[1]), "data is not an object"),
        (_body(data={"type": "order", "id": 0}), "order id"),
        (_body(data={"type": "order", "id": True}), "order id"),
        (_body(data={"type": "order", "id": "12"}), None),
        (_body(data={"type": "order", "id": 2**63}), "order id"),
        (_body(data={"type": "order", "id": "1e3"}), "order id"),
        (_body(data={"type": "transaction"}), "order id"),
    ],
)
def test_malformed_bodies_say_why(body: bytes, reason: str | None) -> None:
    if reason is None:
        parsed = parse_callback(body, "s1")
        assert parsed is not None
        assert parsed.order_id == 12
        return
    with pytest.raises(MalformedCallback, match=reason):
        parse_callback(body, "s1")


def _signed(body: bytes, stamp: int, secret: str = SECRET) -> dict[str, str]:
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, "msg_1", stamp, body),
    }


def test_a_valid_signature_passes_even_among_others() -> None:
    body = _body()
    stamp = int(NOW.timestamp())
    headers = _signed(body, stamp)
    assert signature_problem(SECRET, headers, body, NOW) is None
    rotated = {**headers, "webhook-signature": "v1,bm90LWl0 " + headers["webhook-signature"]}
    assert signature_problem(SECRET, rotated, body, NOW) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"webhook-id": ""}, "missing"),
        ({"webhook-timestamp": "soon"}, "not a unix timestamp"),
        ({"webhook-timestamp": str(int(NOW.timestamp()) - 301)}, "tolerance"),
        ({"webhook-timestamp": str(int(NOW.timestamp()) + 301)}, "tolerance"),
        ({"webhook-id": "msg_2"}, "does not match"),
        ({"webhook-signature": "v2,abc"}, "does not match"),
    ],
)
def test_bad_signatures_say_why(change: dict[str, str], reason: str) -> None:
    body = _body()
    headers = {**_signed(body, int(NOW.timestamp())), **change}
    problem = signature_problem(SECRET, headers, body, NOW)
    assert problem is not None
    assert reason in problem


def test_a_signature_with_another_key_or_body_fails() -> None:
    body = _body()
    stamp = int(NOW.timestamp())
    assert signature_problem(SECRET, _signed(body, stamp, "other"), body, NOW) is not None
    assert signature_problem(SECRET, _signed(body, stamp), body + b" ", NOW) is not None
