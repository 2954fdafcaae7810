"""BigCommerce settings: env names and aliases, start-up errors naming the setting, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from b2bsync.bigcommerce import BigCommerceClient
from b2bsync.cli import app
from b2bsync.config import ConfigError, load_bigcommerce_settings

ENV_NAMES = (
    "BIGCOMMERCE_STORE_HASH",
    "STORE_HASH",
    "BIGCOMMERCE_ACCESS_TOKEN",
    "ACCESS_TOKEN",
    "BIGCOMMERCE_CLIENT_ID",
    "CLIENT_ID",
    "B2B_ACCESS_TOKEN",
    "BIGCOMMERCE_API_URL",
    "B2B_API_URL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_reads_the_documented_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIGCOMMERCE_STORE_HASH", "abc123")
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", "store-token")
    monkeypatch.setenv("B2B_ACCESS_TOKEN", "b2b-token")
    monkeypatch.setenv("BIGCOMMERCE_API_URL", "http://127.0.0.1:8000/")
    settings = load_bigcommerce_settings()
    assert settings.store_hash == "abc123"
    assert settings.api_url == "http://127.0.0.1:8000"
    assert settings.b2b_api_url == "https://api-b2b.bigcommerce.com"
    assert settings.b2b_token.get_secret_value() == "b2b-token"


def test_reference_sample_aliases_and_b2b_token_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORE_HASH", "xyz")
    monkeypatch.setenv("ACCESS_TOKEN", "the-token")
    monkeypatch.setenv("CLIENT_ID", "cid")
    settings = load_bigcommerce_settings()
    assert (settings.store_hash, settings.client_id) == ("xyz", "cid")
    assert settings.b2b_token.get_secret_value() == "the-token"


def test_tokens_never_show_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORE_HASH", "xyz")
    monkeypatch.setenv("ACCESS_TOKEN", "the-token")
    settings = load_bigcommerce_settings()
    client = BigCommerceClient.from_settings(settings)
    assert "the-token" not in repr(settings) + str(settings) + repr(client)
    assert settings.model_dump_json().count("the-token") == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "BIGCOMMERCE_STORE_HASH is not set"),
        ({"STORE_HASH": "abc"}, "BIGCOMMERCE_ACCESS_TOKEN is not set"),
        ({"STORE_HASH": "abc/../x", "ACCESS_TOKEN": "t"}, "STORE_HASH is malformed"),
        ({"STORE_HASH": "abc", "ACCESS_TOKEN": "has space"}, "ACCESS_TOKEN is malformed"),
        (
            {"STORE_HASH": "abc", "ACCESS_TOKEN": "t", "BIGCOMMERCE_API_URL": "api.example"},
            "BIGCOMMERCE_API_URL is malformed",
        ),
    ],
)
def test_start_up_errors_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_bigcommerce_settings()


def test_cli_reports_a_missing_setting_in_one_line() -> None:
    result = CliRunner().invoke(app, ["api", "get", "/v2/orders"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: BIGCOMMERCE_STORE_HASH is not set"
    assert "Traceback" not in result.output
