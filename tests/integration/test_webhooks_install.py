"""`b2bsync webhooks install|list|uninstall` against the sandbox, and the secret file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from b2bsync.cli import app
from b2bsync.store import Database
from b2bsync.store.schema import change_feed
from b2bsync.sync.webhooks.install import (
    SCOPES,
    SecretFileError,
    install_webhooks,
    list_webhooks,
    load_or_create_secret,
    secret_path,
    uninstall_webhooks,
)
from b2bsync.sync.webhooks.intake import INTAKE_PATH, SECRET_HEADER
from tests.conftest import quiet_config
from tests.integration.sync_support import any_db, sync_context  # noqa: F401
from tests.sandbox_server import RunningSandbox, free_port, run_sandbox

PUBLIC = "https://b2bsync.example.com"


def test_the_secret_is_generated_once_private_and_refused_when_others_can_read_it(
    tmp_path: Path,
) -> None:
    path = secret_path("store1", tmp_path / "nested")
    first = load_or_create_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.header == SECRET_HEADER
    assert len(first.value) >= 32
    assert first.value not in repr(first)
    assert load_or_create_secret(path) == first
    os.chmod(path, 0o644)
    with pytest.raises(SecretFileError, match="accessible to other users"):
        load_or_create_secret(path)
    os.chmod(path, 0o600)
    path.write_text("{}")
    with pytest.raises(SecretFileError, match="not a b2bsync webhook secret"):
        load_or_create_secret(path)


async def test_install_is_idempotent_repairs_and_uninstalls(
    any_db: Database,  # noqa: F811
    tmp_path: Path,
) -> None:
    secret = load_or_create_secret(secret_path("s", tmp_path))
    with run_sandbox(quiet_config()) as sandbox:
        async with sync_context(sandbox, any_db) as ctx:
            first = await install_webhooks(ctx.client, any_db, ctx.store, PUBLIC, secret)
            again = await install_webhooks(ctx.client, any_db, ctx.store, PUBLIC + "/", secret)
            hooks = await list_webhooks(ctx.client)
            # Someone switches the hook off: installing again repairs it.
            await ctx.client.hooks.update(first.created[0], {"is_active": False})
            repaired = await install_webhooks(ctx.client, any_db, ctx.store, PUBLIC, secret)
            async with any_db.transaction(readonly=True) as tx:
                installation = await tx.webhooks.installation(ctx.store)
            deleted = await uninstall_webhooks(ctx.client, any_db, ctx.store)
            left = await list_webhooks(ctx.client)
            async with any_db.transaction(readonly=True) as tx:
                gone = await tx.webhooks.installation(ctx.store)

    assert len(first.created) == len(SCOPES)
    assert first.changed
    assert first.destination == PUBLIC + INTAKE_PATH
    assert not again.changed
    assert again.unchanged == first.created
    assert [(h.scope, h.destination, h.headers, h.is_active) for h in hooks] == [
        ("store/order/*", PUBLIC + INTAKE_PATH, {SECRET_HEADER: secret.value}, True)
    ]
    assert repaired.updated == first.created
    assert installation is not None
    assert installation.hook_ids == first.created
    assert deleted == list(first.created)
    assert left == []
    assert gone is None


def _cli(
    sandbox: RunningSandbox, tmp_path: Path, *args: str, group: str = "webhooks"
) -> tuple[int, str]:
    env = {
        "BIGCOMMERCE_STORE_HASH": sandbox.config.store_hash,
        "BIGCOMMERCE_ACCESS_TOKEN": sandbox.config.token,
        "BIGCOMMERCE_API_URL": sandbox.base_url,
        "B2B_API_URL": f"{sandbox.base_url}/b2b",
        "B2BSYNC_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "B2BSYNC_SECRET_DIR": str(tmp_path / "secrets"),
    }
    result = CliRunner().invoke(app, [group, *args] if group else list(args), env=env)
    return result.exit_code, result.stdout + result.stderr


def test_the_cli_installs_lists_and_uninstalls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with run_sandbox(quiet_config()) as sandbox:
        code, output = _cli(sandbox, tmp_path, "install", "--url", PUBLIC)
        assert code == 0, output
        assert "created [1]" in output
        code, again = _cli(sandbox, tmp_path, "install", "--url", PUBLIC)
        assert code == 0, again
        assert "created []" in again
        assert "updated []" in again
        code, listed = _cli(sandbox, tmp_path, "list", "--json")
        assert code == 0, listed
        rows = json.loads(listed)
        assert [(r["scope"], r["destination"], r["b2bsync"]) for r in rows] == [
            ("store/order/*", PUBLIC + INTAKE_PATH, True)
        ]
        secret_file = secret_path(sandbox.config.store_hash, tmp_path / "secrets")
        secret = json.loads(secret_file.read_text())["secret"]
        assert secret not in output + again + listed
        hooks = httpx2.get(f"{sandbox.store_url}/v3/hooks", headers=sandbox.headers()).json()
        assert hooks["data"][0]["headers"] == {SECRET_HEADER: secret}
        code, status = _cli(sandbox, tmp_path, "status", "--json", "--no-probe", group="")
        assert code == 0, status
        health = json.loads(status)["webhooks"]
        assert health["installed"] is True
        assert health["hook_ids"] == [hooks["data"][0]["id"]]
        assert health["missed_by_webhooks"] == 0
        assert secret not in status
        code, removed = _cli(sandbox, tmp_path, "uninstall")
        assert code == 0, removed
        assert "deleted hooks" in removed
        code, listed = _cli(sandbox, tmp_path, "list", "--json")
        assert json.loads(listed) == []


def test_the_cli_refuses_a_secret_file_others_can_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with run_sandbox(quiet_config()) as sandbox:
        path = secret_path(sandbox.config.store_hash, tmp_path / "secrets")
        load_or_create_secret(path)
        os.chmod(path, 0o640)
        code, output = _cli(sandbox, tmp_path, "install", "--url", PUBLIC)
    assert code == 2
    assert "accessible to other users" in output


PUSH_TOKEN = "push-token-for-serve-0123"
PUSH_ADDRESS = {
    "first_name": "Jo",
    "street_1": "1 Road",
    "city": "Austin",
    "zip": "78751",
    "country": "United States",
    "country_iso2": "US",
    "email": "jo@example.com",
}


def test_serve_answers_health_checks_and_receives_callbacks(tmp_path: Path) -> None:
    port = free_port()
    with run_sandbox(quiet_config()) as sandbox:
        env = {
            **os.environ,
            "BIGCOMMERCE_STORE_HASH": sandbox.config.store_hash,
            "BIGCOMMERCE_ACCESS_TOKEN": sandbox.config.token,
            "BIGCOMMERCE_API_URL": sandbox.base_url,
            "B2B_API_URL": f"{sandbox.base_url}/b2b",
            "B2BSYNC_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
            "B2BSYNC_SECRET_DIR": str(tmp_path / "secrets"),
            "B2BSYNC_PUSH_TOKEN": PUSH_TOKEN,
        }
        command = [str(Path(sys.executable).with_name("b2bsync")), "webhooks"]
        installed = subprocess.run(
            [*command, "install", "--url", f"http://127.0.0.1:{port}"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert installed.returncode == 0, installed.stderr
        server = subprocess.Popen(
            [*command, "serve", "--port", str(port)], env=env, cwd=tmp_path, text=True
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx2.get(f"{base}/healthz").json() == {"status": "ok"}:
                        break
                except httpx2.TransportError:
                    pass
                assert server.poll() is None, "serve exited"
                assert time.monotonic() < deadline, "serve did not answer"
                time.sleep(0.1)
            forged = httpx2.post(f"{base}{INTAKE_PATH}", json={"scope": "store/order/created"})
            assert forged.status_code == 401
            # The same server shows the dashboard (loopback: no credentials needed).
            overview = httpx2.get(f"{base}/api/overview").json()
            assert overview["store"] == sandbox.config.store_hash
            assert httpx2.get(f"{base}/readyz").json() == {"status": "ok"}
            # The same server takes ERP pushes, behind its own bearer token.
            erp_order = json.dumps(
                {
                    "external_order_id": "ERP-SERVE-1",
                    "billing_address": PUSH_ADDRESS,
                    "lines": [
                        {"name": "Bolt", "quantity": 2, "price_ex_tax": 3, "price_inc_tax": 3}
                    ],
                }
            )
            assert httpx2.post(f"{base}/push/orders", content=erp_order).status_code == 401
            pushed = httpx2.post(
                f"{base}/push/orders",
                content=erp_order,
                headers={"Authorization": f"Bearer {PUSH_TOKEN}"},
                timeout=30,
            )
            assert pushed.status_code == 200, pushed.text
            assert pushed.json()["counts"]["created"] == 1
            store = sandbox.world.stores[sandbox.config.store_hash]
            [erp_id] = [o.id for o in store.orders.values() if o.external_order_id == "ERP-SERVE-1"]
            changed = httpx2.put(
                f"{sandbox.store_url}/v2/orders/101",
                json={"status_id": 10},
                headers={**sandbox.headers(), "Content-Type": "application/json"},
            )
            assert changed.status_code == 200
            stats_deadline = time.monotonic() + 20
            while True:
                stats = httpx2.get(
                    f"{sandbox.base_url}/__sandbox/stats", headers=sandbox.headers()
                ).json()["webhooks"]
                rows = asyncio.run(_feed(f"sqlite:///{tmp_path}/serve.db"))
                if stats["delivered"] >= 2 and rows and all(done for _, done in rows):
                    break
                assert time.monotonic() < stats_deadline, (stats, rows)
                time.sleep(0.1)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=20)
    assert stats["failed_attempts"] == 0
    # The pushed order announced itself with store/order/created like any other.
    assert {order_id for order_id, _ in rows} == {101, erp_id}


async def _feed(url: str) -> list[tuple[int, bool]]:
    """(order id, processed) of every change-feed row."""
    database = Database(url)
    try:
        async with database.transaction(readonly=True) as tx:
            result = await tx.connection.execute(
                select(change_feed.c.order_id, change_feed.c.processed_at)
            )
            return [(row.order_id, row.processed_at is not None) for row in result]
    finally:
        await database.close()
