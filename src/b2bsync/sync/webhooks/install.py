"""Installing b2bsync's webhooks: the secret, and `install` / `list` / `uninstall`.

The secret is the value of the custom header BigCommerce sends back with every callback. It is
generated once per store and kept in a file only its owner can read (`0600`, under `.b2bsync/`
by default); a file others can read is refused rather than trusted. It is never logged.
Installing is idempotent: hooks that already point at the URL with the right header and are
active are left alone, so running it again changes nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from b2bsync.bigcommerce import BigCommerceClient
from b2bsync.bigcommerce.models import Webhook
from b2bsync.store.database import Database
from b2bsync.sync.context import utc_now
from b2bsync.sync.webhooks.intake import INTAKE_PATH, SECRET_HEADER, store_intake_path

__all__ = [
    "DEFAULT_SECRET_DIR",
    "SCOPES",
    "InstallResult",
    "SecretFileError",
    "WebhookSecret",
    "install_webhooks",
    "intake_url",
    "list_webhooks",
    "load_or_create_secret",
    "secret_path",
    "uninstall_webhooks",
]

SCOPES = ("store/order/*",)
"""One wildcard hook: every order event, order metafields included ([WHev])."""
DEFAULT_SECRET_DIR = Path(".b2bsync")
SECRET_BYTES = 32


class SecretFileError(Exception):
    """The secret file cannot be used safely (readable by others, or unreadable)."""


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    """The custom header and its value; the value never appears in reprs."""

    header: str
    value: str

    def __repr__(self) -> str:
        return f"WebhookSecret(header={self.header!r}, value=**********)"

    @property
    def headers(self) -> dict[str, str]:
        """The headers to set on a hook."""
        return {self.header: self.value}


def secret_path(store: str, directory: Path = DEFAULT_SECRET_DIR) -> Path:
    """Where the webhook secret of `store` lives."""
    return directory / f"webhook-secret-{store}.json"


def _read(path: Path) -> WebhookSecret:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretFileError(
            f"{path} is accessible to other users (mode {stat.filemode(mode)}); "
            f"run `chmod 600 {path}` or delete it to generate a new secret"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        header, value = str(document["header"]), str(document["secret"])
    except (ValueError, KeyError, TypeError):
        raise SecretFileError(f"{path} is not a b2bsync webhook secret file") from None
    if len(value) < 16:
        raise SecretFileError(f"{path} holds a secret shorter than 16 characters")
    return WebhookSecret(header, value)


def load_or_create_secret(path: Path) -> WebhookSecret:
    """The secret in `path`, generated and written (mode 0600, created atomically) if missing."""
    if path.exists():
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = WebhookSecret(SECRET_HEADER, secrets.token_urlsafe(SECRET_BYTES))
    document = json.dumps({"header": secret.header, "secret": secret.value}).encode()
    try:
        # O_EXCL: two installers racing cannot both write; the loser reads the winner's file.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(document)
        handle.flush()
        os.fsync(handle.fileno())
    return secret


def intake_url(public_url: str, store: str | None = None) -> str:
    """The intake's address under `public_url` (a full intake URL is kept as it is); with
    `store`, that store's own intake, `/webhooks/bigcommerce/{store}`."""
    base = public_url.rstrip("/")
    path = INTAKE_PATH if store is None else store_intake_path(store)
    if base.endswith(path):
        return base
    if store is not None and base.endswith(INTAKE_PATH):
        return f"{base}/{store}"
    return base + path


@dataclass(frozen=True, slots=True)
class InstallResult:
    """What `install_webhooks` did, hook ids by outcome."""

    destination: str
    created: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    unchanged: tuple[int, ...] = ()

    @property
    def hook_ids(self) -> tuple[int, ...]:
        """Every hook b2bsync now has at the destination."""
        return tuple(sorted((*self.created, *self.updated, *self.unchanged)))

    @property
    def changed(self) -> bool:
        """Whether anything was created or changed."""
        return bool(self.created or self.updated)


async def list_webhooks(client: BigCommerceClient) -> list[Webhook]:
    """Every hook of the calling token's client, b2bsync's and others'."""
    return [hook async for hook in client.hooks.iterate()]


async def install_webhooks(
    client: BigCommerceClient,
    db: Database,
    store: str,
    public_url: str,
    secret: WebhookSecret,
    *,
    per_store: bool = False,
) -> InstallResult:
    """Create (or repair) the order hooks calling `public_url`'s intake with `secret`; with
    `per_store`, the store's own intake path (several stores behind one b2bsync)."""
    destination = intake_url(public_url, store if per_store else None)
    existing = {
        hook.scope: hook for hook in await list_webhooks(client) if hook.destination == destination
    }
    created: list[int] = []
    updated: list[int] = []
    unchanged: list[int] = []
    for scope in SCOPES:
        hook = existing.get(scope)
        if hook is None:
            hook = await client.hooks.create(
                scope=scope, destination=destination, is_active=True, headers=secret.headers
            )
            created.append(hook.id)
        elif hook.is_active and (hook.headers or {}) == secret.headers:
            unchanged.append(hook.id)
        else:
            await client.hooks.update(hook.id, {"is_active": True, "headers": secret.headers})
            updated.append(hook.id)
    result = InstallResult(destination, tuple(created), tuple(updated), tuple(unchanged))
    async with db.transaction() as tx:
        await tx.webhooks.put_installation(store, destination, result.hook_ids, utc_now())
    return result


async def uninstall_webhooks(
    client: BigCommerceClient, db: Database, store: str, public_url: str | None = None
) -> list[int]:
    """Delete b2bsync's hooks (those calling `public_url`'s intake, else the installed
    destination) and forget the installation; returns the deleted hook ids."""
    async with db.transaction(readonly=True) as tx:
        installation = await tx.webhooks.installation(store)
    if public_url is not None:
        destination: str | None = intake_url(public_url)
    else:
        destination = installation.destination if installation is not None else None
    deleted: list[int] = []
    if destination is not None:
        for hook in await list_webhooks(client):
            if hook.destination == destination and hook.scope in SCOPES:
                await client.hooks.delete(hook.id)
                deleted.append(hook.id)
    if installation is not None and (
        destination is None or destination == installation.destination
    ):
        async with db.transaction() as tx:
            await tx.webhooks.remove_installation(store)
    return deleted
