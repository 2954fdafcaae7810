"""Destinations from configuration, and the errors that name the bad setting."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from b2bsync.config import DESTINATIONS_ENV, load_destination_settings, read_destination_settings
from b2bsync.destinations import (
    Destination,
    DestinationConfigError,
    HttpDestination,
    JsonlDestination,
    PythonDestination,
    SqlDestination,
    build_destinations,
)
from b2bsync.destinations.registry import HttpSettings, SqlSettings
from b2bsync.domain.delivery import DeliveryKind, Outcome
from b2bsync.domain.order_type import OrderType
from b2bsync.domain.origin import OrderOrigin
from tests.destinations.conformance import make_delivery

DOCS = Path(__file__).resolve().parents[2] / "docs" / "destinations.md"


def _docs_toml() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "docs/destinations.md has no toml example"
    return "\n".join(blocks)


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "b2bsync.toml"
    path.write_text(_docs_toml(), encoding="utf-8")
    environ = {"ERP_DATABASE_URL": "postgresql://erp:pw@db/erp", "ERP_WEBHOOK_SECRET": "s" * 32}
    settings = read_destination_settings(toml_path=path, environ=environ)
    assert {setting.type for setting in settings} == {
        "sql",
        "http",
        "jsonl",
        "python",
        "redis",
        "amqp",
    }
    by_name = {setting.name: setting for setting in settings}
    sql = by_name["erp-db"]
    assert isinstance(sql, SqlSettings)
    assert sql.url.get_secret_value() == "postgresql://erp:pw@db/erp"
    hook = by_name["accounting-hook"]
    assert isinstance(hook, HttpSettings)
    assert hook.secret.get_secret_value() == "s" * 32
    assert hook.route.kinds == frozenset({DeliveryKind.PAYMENT})
    assert by_name["audit"].route.origins == frozenset(OrderOrigin)


async def test_built_destinations_deliver(tmp_path: Path) -> None:
    raw: list[dict[str, Any]] = [
        {"name": "archive", "type": "jsonl", "path": str(tmp_path / "a.jsonl")},
        {
            "name": "erp-db",
            "type": "sql",
            "url": f"sqlite:///{tmp_path / 'erp.db'}",
            "route": {"order_types": ["online_order"], "statuses": [11]},
        },
        {
            "name": "hook",
            "type": "http",
            "url": "https://erp.example.com/hooks/b2bsync",
            "secret": "${HOOK_SECRET}",
            "timeout_s": "5",
        },
        {"name": "books", "type": "python", "target": "tests.destinations.plugin:book"},
    ]
    settings = load_destination_settings(raw, environ={"HOOK_SECRET": "x" * 20})
    built = build_destinations(settings)
    try:
        assert [(b.name, type(b.destination)) for b in built] == [
            ("archive", JsonlDestination),
            ("erp-db", SqlDestination),
            ("hook", HttpDestination),
            ("books", PythonDestination),
        ]
        assert all(isinstance(b.destination, Destination) for b in built)
        assert all(b.destination.name == b.name for b in built)
        assert not built[1].route.accepts(
            make_delivery(1, order_type=OrderType.UNCLASSIFIED).record
        )
        for configured in built[:2]:
            [result] = await configured.destination.deliver([make_delivery(1)])
            assert result.outcome is Outcome.DELIVERED
        assert (tmp_path / "a.jsonl").read_text().count("\n") == 1
    finally:
        for configured in built:
            await configured.destination.aclose()


def test_the_environment_variable_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "b2bsync.toml"
    path.write_text('[[destinations]]\nname = "from-file"\ntype = "jsonl"\npath = "f.jsonl"\n')
    env = {DESTINATIONS_ENV: json.dumps([{"name": "from-env", "type": "jsonl", "path": "e"}])}
    assert [s.name for s in read_destination_settings(toml_path=path, environ=env)] == ["from-env"]
    assert [s.name for s in read_destination_settings(toml_path=path, environ={})] == ["from-file"]
    assert read_destination_settings(toml_path=tmp_path / "missing.toml", environ={}) == []


def test_secrets_do_not_show_in_reprs() -> None:
    [hook] = load_destination_settings(
        [{"name": "h", "type": "http", "url": "https://x.example/h", "secret": "${S}"}],
        environ={"S": "very-secret-value-123"},
    )
    assert "very-secret-value-123" not in repr(hook)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "a"}, "destinations must be a list"),
        (["x"], r"destinations\[0\] must be a table"),
        ([{"name": "a", "type": "ftp"}], r"destinations\[0\] \('a'\): type: 'ftp' is not one"),
        ([{"name": "a"}], r"destinations\[0\] \('a'\): type: missing; expected one of"),
        ([{"name": "a", "type": "sql"}], r"\('a'\): url: Field required"),
        (
            [{"name": "a", "type": "http", "url": "erp.example.com", "secret": "s" * 16}],
            r"\('a'\): url: expected an http\(s\) URL",
        ),
        (
            [{"name": "a", "type": "http", "url": "https://e.example", "secret": "short"}],
            r"\('a'\): secret: expected at least 16 characters",
        ),
        ([{"name": "Bad Name", "type": "jsonl", "path": "x"}], r"name: String should match"),
        (
            [{"name": "a", "type": "jsonl", "path": "x", "route": {"order_types": ["sale"]}}],
            r"\('a'\): route.order_types.0: Input should be",
        ),
        ([{"name": "a", "type": "jsonl", "path": "x", "colour": "red"}], r"colour: Extra inputs"),
        ([{"name": "a", "type": "sql", "url": "${MISSING_URL}"}], r"MISSING_URL.*not set"),
        (
            [
                {"name": "a", "type": "jsonl", "path": "x"},
                {"name": "a", "type": "jsonl", "path": "y"},
            ],
            r"names must be unique: \['a'\]",
        ),
        (
            [{"name": "a", "type": "sql", "url": "sqlite:///x.db", "table": "orders; drop"}],
            r"\('a'\): table: String should match",
        ),
        (
            [{"name": "a", "type": "amqp", "url": "redis://127.0.0.1:6379/0"}],
            r"\('a'\): url: expected a URL such as amqp://",
        ),
        (
            [{"name": "a", "type": "amqp", "url": "amqp://h/", "declare": False, "queue": "q"}],
            r"\('a'\): queue: needs declare = true",
        ),
    ],
)
def test_configuration_errors_name_the_setting(raw: object, message: str) -> None:
    with pytest.raises(DestinationConfigError, match=message):
        load_destination_settings(raw, environ={})


def test_an_unimportable_plugin_fails_the_build_naming_destination_and_target() -> None:
    settings = load_destination_settings(
        [{"name": "books", "type": "python", "target": "erp_books.nowhere:post"}], environ={}
    )
    with pytest.raises(DestinationConfigError) as caught:
        build_destinations(settings)
    assert "destination 'books'" in str(caught.value)
    assert "'erp_books.nowhere:post'" in str(caught.value)


def test_invalid_toml_and_json_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "b2bsync.toml"
    path.write_text("[[destinations]\n")
    with pytest.raises(DestinationConfigError, match="not valid TOML"):
        read_destination_settings(toml_path=path, environ={})
    with pytest.raises(DestinationConfigError, match=f"{DESTINATIONS_ENV} is not valid JSON"):
        read_destination_settings(environ={DESTINATIONS_ENV: "[{"})
