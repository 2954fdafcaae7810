"""The intake over real HTTP on loopback: forged, unsigned, replayed, oversized, malformed,
duplicated callbacks; only authenticated, usable ones reach the change feed, before the 200."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx2
import pytest

from b2bsync.store import Database
from b2bsync.store.change_feed import ChangeSource
from b2bsync.sync.webhooks.intake import INTAKE_PATH, SECRET_HEADER, IntakeSettings, WebhookIntake
from b2bsync.web import create_app
from tests.integration.sync_support import sqlite_db  # noqa: F401 (fixture)
from tests.integration.webhook_support import (
    CLIENT_SECRET,
    INTAKE_SECRET,
    auth_headers,
    callback,
    encode,
    feed_rows,
    reject_rows,
    serve,
    signed_headers,
)

STORE = "intakestore"


@pytest.fixture
async def plain(sqlite_db: Database) -> AsyncIterator[tuple[str, WebhookIntake]]:  # noqa: F811
    """The intake with the secret header only."""
    intake = WebhookIntake(sqlite_db, IntakeSettings(store=STORE, secret=INTAKE_SECRET))
    async with serve(create_app(intakes=[intake])) as base:
        yield base + INTAKE_PATH, intake


@pytest.fixture
async def signed(sqlite_db: Database) -> AsyncIterator[tuple[str, WebhookIntake]]:  # noqa: F811
    """The intake requiring a Standard Webhooks signature as well."""
    settings = IntakeSettings(store=STORE, secret=INTAKE_SECRET, signing_secret=CLIENT_SECRET)
    intake = WebhookIntake(sqlite_db, settings)
    async with serve(create_app(intakes=[intake])) as base:
        yield base + INTAKE_PATH, intake


async def test_a_valid_callback_is_in_the_feed_when_the_200_arrives(
    plain: tuple[str, WebhookIntake],
    sqlite_db: Database,  # noqa: F811
) -> None:
    url, _ = plain
    body = callback(STORE, 101)
    async with httpx2.AsyncClient() as http:
        response = await http.post(url, content=encode(body), headers=auth_headers())
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    rows = await feed_rows(sqlite_db, STORE)
    assert [(r["order_id"], r["source"], r["webhook_hash"]) for r in rows] == [
        (101, ChangeSource.WEBHOOK.value, body["hash"])
    ]
    assert rows[0]["scope"] == "store/order/created"
    assert rows[0]["processed_at"] is None


async def test_forged_and_missing_secrets_get_401_and_leave_no_trace(
    plain: tuple[str, WebhookIntake],
    sqlite_db: Database,  # noqa: F811
) -> None:
    url, intake = plain
    body = encode(callback(STORE, 102))
    async with httpx2.AsyncClient() as http:
        missing = await http.post(url, content=body, headers={"Content-Type": "application/json"})
        forged = await http.post(url, content=body, headers=auth_headers("x" * 30))
        prefix = await http.post(url, content=body, headers=auth_headers(INTAKE_SECRET[:-1]))
        wrong_name = await http.post(
            url, content=body, headers={"X-Other": INTAKE_SECRET, "Content-Type": "text/plain"}
        )
    assert [r.status_code for r in (missing, forged, prefix, wrong_name)] == [401] * 4
    assert await feed_rows(sqlite_db, STORE) == []
    assert await reject_rows(sqlite_db) == []
    assert intake.counters["unauthorized"] == 4


async def test_unsigned_badly_signed_and_replayed_callbacks_are_refused(
    signed: tuple[str, WebhookIntake],
    sqlite_db: Database,  # noqa: F811
) -> None:
    url, _ = signed
    body = encode(callback(STORE, 103))
    stale = int(time.time()) - 3600
    async with httpx2.AsyncClient() as http:
        unsigned = await http.post(url, content=body, headers=auth_headers())
        wrong_key = await http.post(
            url,
            content=body,
            headers={**auth_headers(), **signed_headers(body, client_secret="not-the-secret")},
        )
        tampered = await http.post(
            url,
            content=body.replace(b"103", b"104"),
            headers={**auth_headers(), **signed_headers(body)},
        )
        replayed = await http.post(
            url, content=body, headers={**auth_headers(), **signed_headers(body, timestamp=stale)}
        )
        fresh = await http.post(
            url, content=body, headers={**auth_headers(), **signed_headers(body)}
        )
    assert [r.status_code for r in (unsigned, wrong_key, tampered, replayed)] == [401] * 4
    assert fresh.status_code == 200
    assert [row["order_id"] for row in await feed_rows(sqlite_db, STORE)] == [103]


async def test_a_duplicate_is_acknowledged_once_and_recorded_once(
    plain: tuple[str, WebhookIntake],
    sqlite_db: Database,  # noqa: F811
) -> None:
    url, intake = plain
    body = encode(callback(STORE, 105))
    async with httpx2.AsyncClient() as http:
        answers = [
            (await http.post(url, content=body, headers=auth_headers())).json()["status"]
            for _ in range(3)
        ]
    assert answers == ["accepted", "duplicate", "duplicate"]
    assert len(await feed_rows(sqlite_db, STORE)) == 1
    assert intake.counters["duplicate"] == 2


async def test_oversized_bodies_get_413_declared_or_streamed(
    plain: tuple[str, WebhookIntake],
    sqlite_db: Database,  # noqa: F811
) -> None:
    url, intake = plain
    huge = b'{"scope":"' + b"a" * (intake.settings.max_body_bytes + 10) + b'"}'

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 4096):
            yield huge[start : start + 4096]

    async with httpx2.AsyncClient() as http:
        declared = await http.post(url, content=huge, headers=auth_headers())
        streamed = await http.post(url, content=chunked(), headers=auth_headers())
        unauthenticated = await http.post(url, content=huge)
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert unauthenticated.status_code == 401
    assert await feed_rows(sqlite_db, STORE) == []
    assert await reject_rows(sqlite_db) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "the body is not JSON"),
        (b"[1, 2]", "the body is not a JSON object"),
        (b'{"scope": 5}', "scope is missing or not a store scope"),
        (encode(callback("otherstore", 7)), "producer is not stores/intakestore"),
        (encode(callback(STORE, 7, data={"type": "order", "id": -3})), "data does not name"),
        (encode(callback(STORE, 7, hash="")), "hash is missing"),
        (
            b'{"scope":"store/order/created","hash":"h","producer":"stores/intakestore"' + b"}",
            "created_at",
        ),
    ],
)
async def test_malformed_callbacks_get_400_and_are_recorded(
    plain: tuple[str, WebhookIntake],
    sqlite_db: Database,  # noqa: F811
    body: bytes,
    reason: str,
) -> None:
    url, _ = plain
    async with httpx2.AsyncClient() as http:
        response = await http.post(url, content=body, headers=auth_headers())
        alive = await http.get(url.replace(INTAKE_PATH, "/healthz"))
    assert response.status_code == 400
    assert alive.json() == {"status": "ok"}
    rejects = await reject_rows(sqlite_db)
    assert len(rejects) == 1
    assert rejects[0]["store"] == STORE
    assert reason in rejects[0]["reason"]
    assert rejects[0]["body"] == body.decode(errors="replace")
    assert await feed_rows(sqlite_db, STORE) == []


async def test_other_scopes_are_acknowledged_and_dropped_metafields_and_transactions_kept(
    plain: tuple[str, WebhookIntake],
    sqlite_db: Database,  # noqa: F811
) -> None:
    url, _ = plain
    product = callback(STORE, 1, scope="store/product/updated")
    metafield = callback(STORE, 106, scope="store/order/metafield/created")
    transaction = callback(
        STORE,
        0,
        scope="store/order/transaction/created",
        data={"type": "transaction", "order_id": "107", "transaction_id": 9},
    )
    async with httpx2.AsyncClient() as http:
        answers = [
            (await http.post(url, content=encode(body), headers=auth_headers())).json()
            for body in (product, metafield, transaction)
        ]
    assert answers == [{"status": "ignored"}, {"status": "accepted"}, {"status": "accepted"}]
    rows = await feed_rows(sqlite_db, STORE)
    assert [(r["order_id"], r["source"]) for r in rows] == [
        (106, ChangeSource.METAFIELD.value),
        (107, ChangeSource.WEBHOOK.value),
    ]


def test_the_secret_never_shows_in_reprs() -> None:
    settings = IntakeSettings(store=STORE, secret=INTAKE_SECRET, signing_secret=CLIENT_SECRET)
    assert INTAKE_SECRET not in repr(settings)
    assert CLIENT_SECRET not in repr(settings)
    assert SECRET_HEADER in repr(settings)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        IntakeSettings(store=STORE, secret="short")
