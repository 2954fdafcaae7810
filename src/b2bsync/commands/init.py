"""`b2bsync init`: a working first configuration for a store or the sandbox, asking only for what
it needs and checking it with one API call.

The access token goes into a file only its user can read, not into `b2bsync.toml` (which may end
up in a repository); the configuration names that file.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import httpx2
import typer

from b2bsync.bigcommerce import (
    BigCommerceClient,
    BigCommerceError,
    GovernorRegistry,
    NotFound,
    Unauthorized,
)
from b2bsync.commands.runtime import fail, out
from b2bsync.config import (
    BigCommerceSettings,
    ConfigError,
    load_bigcommerce_settings,
    load_settings,
)

__all__ = ["init"]

DEFAULT_API_URL = "https://api.bigcommerce.com"
DEFAULT_B2B_API_URL = "https://api-b2b.bigcommerce.com"
SECRETS_DIR = Path(".b2bsync/secrets")


def _toml_string(value: str) -> str:
    """`value` as a TOML basic string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def config_text(store_hash: str, token_file: Path, api_url: str, b2b_api_url: str) -> str:
    """The configuration `init` writes: the ledger in SQLite, one store, deliveries to a file."""
    return "\n".join(
        [
            "# Written by `b2bsync init`. Reference: docs/configuration.md, docs/destinations.md;",
            "# every setting can also come from the environment (which wins).",
            'database_url = "sqlite:///.b2bsync/b2bsync.db"',
            "",
            "[[stores]]",
            f"hash = {_toml_string(store_hash)}",
            f"access_token_file = {_toml_string(str(token_file))}",
            f"api_url = {_toml_string(api_url)}",
            f"b2b_api_url = {_toml_string(b2b_api_url)}",
            "",
            "# Where orders go: a JSON-lines file to start with; add your ERP's database or",
            "# webhook as more [[destinations]] (docs/destinations.md).",
            "[[destinations]]",
            'name = "orders-file"',
            'type = "jsonl"',
            'path = ".b2bsync/deliveries.jsonl"',
            "",
        ]
    )


def _write_secret(path: Path, secret: str) -> None:
    """`secret` in a file only its user can read (its folder too)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    path.chmod(0o600)


async def _check(settings: BigCommerceSettings) -> int:
    """One call that needs the store hash, the token and the API URL right: the order count."""
    async with httpx2.AsyncClient(timeout=settings.timeout_s) as http:
        client = BigCommerceClient.from_settings(
            settings, http_client=http, governors=GovernorRegistry()
        )
        return (await client.orders.count()).count


def init(
    store_hash: Annotated[
        str | None, typer.Option("--store-hash", help="The store hash (stores/<hash> in URLs).")
    ] = None,
    access_token: Annotated[
        str | None,
        typer.Option(
            "--access-token",
            help="An API account token with Orders and B2B Edition scopes (asked if not given; "
            "BIGCOMMERCE_ACCESS_TOKEN is read too).",
            envvar="BIGCOMMERCE_ACCESS_TOKEN",
            show_envvar=False,
        ),
    ] = None,
    sandbox: Annotated[
        str | None,
        typer.Option(
            "--sandbox",
            help="Base URL of a `b2bsync sandbox serve` (e.g. http://127.0.0.1:8081) instead of "
            "BigCommerce.",
        ),
    ] = None,
    api_url: Annotated[
        str, typer.Option("--api-url", help="Store API base URL.")
    ] = DEFAULT_API_URL,
    b2b_api_url: Annotated[
        str, typer.Option("--b2b-api-url", help="B2B Edition API base URL.")
    ] = DEFAULT_B2B_API_URL,
    path: Annotated[
        Path, typer.Option("--config-file", help="Where to write the configuration.")
    ] = Path("b2bsync.toml"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Check the store with one API call.")
    ] = True,
) -> None:
    """Write a working b2bsync.toml for a store (or the sandbox), then check it.

    The token is kept in a file only you can read; the check is one API call."""
    if path.exists() and not force:
        raise fail(f"{path} exists; pass --force to replace it, or --config-file another path", 2)
    if sandbox is not None:
        api_url, b2b_api_url = sandbox.rstrip("/"), sandbox.rstrip("/") + "/b2b"
    if store_hash is None:
        store_hash = typer.prompt("Store hash")
    if access_token is None:
        access_token = typer.prompt("Access token", hide_input=True)
    store_hash, access_token = store_hash.strip(), access_token.strip()
    try:
        settings = load_bigcommerce_settings(
            BIGCOMMERCE_STORE_HASH=store_hash,
            BIGCOMMERCE_ACCESS_TOKEN=access_token,
            BIGCOMMERCE_API_URL=api_url,
            B2B_API_URL=b2b_api_url,
        )
    except ConfigError as error:
        raise fail(str(error), 2) from None
    if check:
        try:
            count = asyncio.run(_check(settings))
        except NotFound:
            raise fail(
                f"no store {store_hash!r} at {api_url}: check the store hash "
                "(the part after /stores/ in the API path)"
            ) from None
        except Unauthorized:
            raise fail(
                f"store {store_hash!r} refused the access token: check it and its scopes"
            ) from None
        except BigCommerceError as error:
            raise fail(f"store {store_hash!r} could not be checked: {error}") from None
        out.print(f"Store {store_hash} answers: {count} orders.", highlight=False)
    token_file = SECRETS_DIR / f"{store_hash}.token"
    _write_secret(token_file, access_token)
    path.write_text(config_text(store_hash, token_file, api_url, b2b_api_url), encoding="utf-8")
    try:
        load_settings(path)
    except ConfigError as error:
        raise fail(f"{path} was written but does not load: {error}") from None
    out.print(
        f"Wrote {path} (the token is in {token_file}, readable by you only). Next:\n"
        "  b2bsync sync --once    # read the store into the ledger, deliver to the file\n"
        "  b2bsync status --no-probe",
        highlight=False,
    )
