"""Composed settings: `b2bsync.toml`, the environment winning over it, defaults, and one-line
errors naming the bad setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from b2bsync.cli import app
from b2bsync.config import (
    DEFAULT_DELIVERIES_FILE,
    ConfigError,
    load_settings,
)
from b2bsync.destinations.registry import JsonlSettings, SqlSettings
from b2bsync.domain.classification import UnclassifiedPolicy
from b2bsync.domain.order_type import OrderType
from b2bsync.sync import SyncSettings

STORE_ENV = (
    "BIGCOMMERCE_STORE_HASH",
    "STORE_HASH",
    "BIGCOMMERCE_ACCESS_TOKEN",
    "ACCESS_TOKEN",
    "B2B_ACCESS_TOKEN",
    "BIGCOMMERCE_API_URL",
    "B2B_API_URL",
    "B2BSYNC_CONFIG",
    "B2BSYNC_DATABASE_URL",
    "B2BSYNC_DESTINATIONS",
)

EXAMPLE = """
database_url = "sqlite:///from-file.db"

[bigcommerce]
store_hash = "filestore"
access_token = "${SHOP_TOKEN}"
api_url = "http://127.0.0.1:9000"

[sync]
overlap_s = 120
poll_interval_s = 5
classification_deadline_s = 600
unclassified_policy = "deliver_unclassified"
start = 2026-01-31
page_size = 100
max_delivery_attempts = 3

[[destinations]]
name = "erp"
type = "sql"
url = "sqlite:///erp.db"
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in STORE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_without_a_file_the_defaults_apply_and_deliveries_go_to_a_jsonl_file() -> None:
    settings = load_settings(environ={})
    assert settings.config_file is None
    assert settings.database_url == "sqlite:///.b2bsync/b2bsync.db"
    assert settings.destinations_defaulted
    (only,) = settings.destinations
    assert isinstance(only, JsonlSettings)
    assert only.path == DEFAULT_DELIVERIES_FILE
    assert settings.sync.overlap_s == 300
    assert settings.sync.unclassified_policy is UnclassifiedPolicy.HOLD
    assert not settings.store_configured


def test_the_file_in_the_working_directory_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("b2bsync.toml").write_text(EXAMPLE)
    monkeypatch.setenv("SHOP_TOKEN", "secret-token")
    settings = load_settings()
    assert settings.config_file == Path("b2bsync.toml")
    assert settings.database_url == "sqlite:///from-file.db"
    assert not settings.destinations_defaulted
    (erp,) = settings.destinations
    assert isinstance(erp, SqlSettings)
    assert erp.name == "erp"
    assert settings.sync.start == datetime(2026, 1, 31, tzinfo=UTC)
    assert settings.sync.unclassified_policy is UnclassifiedPolicy.DELIVER_UNCLASSIFIED
    store = settings.bigcommerce()
    assert store.store_hash == "filestore"
    assert store.access_token.get_secret_value() == "secret-token"
    assert store.api_url == "http://127.0.0.1:9000"
    assert settings.store_configured

    engine = SyncSettings.from_options(settings.sync)
    assert engine.overlap == timedelta(minutes=2)
    assert engine.page_size == 100
    assert engine.classification_deadline == timedelta(minutes=10)
    assert engine.retry.max_attempts == 3
    assert engine.start == datetime(2026, 1, 31, tzinfo=UTC)


def test_the_environment_wins_over_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path("elsewhere.toml")
    path.write_text(EXAMPLE)
    monkeypatch.setenv("B2BSYNC_CONFIG", str(path))
    monkeypatch.setenv("SHOP_TOKEN", "secret-token")
    monkeypatch.setenv("BIGCOMMERCE_STORE_HASH", "envstore")
    monkeypatch.setenv("B2BSYNC_DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.setenv("B2BSYNC_OVERLAP_S", "30")
    monkeypatch.setenv("B2BSYNC_START", "2025-06-01T12:00:00+02:00")
    monkeypatch.setenv("B2BSYNC_DESTINATIONS", '[{"type": "jsonl", "name": "x", "path": "x"}]')
    settings = load_settings()
    assert settings.config_file == path
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.bigcommerce().store_hash == "envstore"
    assert settings.sync.overlap_s == 30
    assert settings.sync.page_size == 100  # still the file's
    assert settings.sync.start == datetime(2025, 6, 1, 10, tzinfo=UTC)
    assert [d.name for d in settings.destinations] == ["x"]


@pytest.mark.parametrize(
    ("document", "env", "message"),
    [
        ("[sync]\npage_size = 900\n", {}, "sync.page_size is malformed"),
        ("", {"B2BSYNC_PAGE_SIZE": "0"}, "B2BSYNC_PAGE_SIZE is malformed"),
        ("[sync]\npolicy = 'hold'\n", {}, "sync.policy is not a setting"),
        ("", {"B2BSYNC_UNCLASSIFIED_POLICY": "guess"}, "B2BSYNC_UNCLASSIFIED_POLICY is malformed"),
        ("[sync]\nstart = 'yesterday'\n", {}, "sync.start is malformed"),
        ("colour = 'blue'\n", {}, "unknown setting 'colour'"),
        ("[bigcommerce]\nhash = 'x'\n", {}, "bigcommerce.hash is not a setting"),
        ("[bigcommerce]\naccess_token = '${NOPE}'\n", {}, "bigcommerce.access_token refers to"),
        ("[sync\n", {}, "is not valid TOML"),
        ("[[destinations]]\nname = 'a'\ntype = 'ftp'\n", {}, "destinations[0] ('a'): type"),
    ],
)
def test_a_bad_setting_is_named(document: str, env: dict[str, str], message: str) -> None:
    Path("b2bsync.toml").write_text(document)
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_named_config_file_must_exist() -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml does not exist"):
        load_settings(Path("missing.toml"), environ={})


def test_the_cli_prints_one_line_and_exits_2() -> None:
    result = CliRunner().invoke(app, ["status", "--config", "missing.toml"])
    assert result.exit_code == 2
    assert "missing.toml does not exist" in result.output
    assert "Traceback" not in result.output
    Path("b2bsync.toml").write_text("")
    result = CliRunner().invoke(app, ["sync", "--once"])
    assert result.exit_code == 2
    assert "BIGCOMMERCE_STORE_HASH is not set" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["api", "get", "/v2/orders"],
        ["sync", "--once"],
        ["status"],
        ["orders", "list"],
        ["db", "current"],
        ["db", "upgrade"],
        ["writeback", "run", "--dry-run"],
        ["run", "--role", "web"],
        ["worker"],
    ],
)
def test_every_command_reports_a_config_error_the_same_way(command: list[str]) -> None:
    Path("b2bsync.toml").write_text('[sync]\noverlap_s = "soon"\n')
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: sync.overlap_s is malformed: "), result.output
    assert result.output.count("\n") == 1


def test_writeback_rules_come_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[writeback]]\norder_type = "invoice_payment"\nstatus_id = 10\n')
    settings = load_settings(path, environ={})
    assert [(rule.order_type, rule.status_id) for rule in settings.writeback_rules] == [
        (OrderType.INVOICE_PAYMENT, 10)
    ]
    assert load_settings(None, environ={}).writeback_rules == ()


def test_a_bad_writeback_rule_is_named(tmp_path: Path) -> None:
    path = tmp_path / "b2bsync.toml"
    path.write_text('[[writeback]]\norder_type = "quote"\n')
    with pytest.raises(ConfigError, match=r"\[\[writeback\]\]: rule 1, order_type"):
        load_settings(path, environ={})
