"""Browser tests: Debian's Chromium (`/usr/bin/chromium`, installed by `make test`; never a
downloaded browser) driven by Playwright, against the dashboard served on loopback over a
ledger filled by one sandbox sync per module."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from b2bsync.config import load_settings
from b2bsync.web import create_app
from b2bsync.web.access import Access
from tests.integration.sync_support import Recorder
from tests.sandbox_server import RunningSandbox, free_port
from tests.web_support import SyncedLedger, dashboard_over, sync_ledger

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "dashboard"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@dataclass
class ServedDashboard:
    base_url: str
    ledger: SyncedLedger
    recorder: Recorder
    server: uvicorn.Server = field(repr=False)


@pytest.fixture(scope="module")
def served(
    sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedDashboard]:
    """One sandbox sync, then the dashboard over it (token required) on a loopback port, both
    in a thread of their own: Playwright's sync API holds the main thread's event loop."""
    directory = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{directory / 'ledger.db'}"
    config = directory / "b2bsync.toml"
    config.write_text(SETTINGS_FILE.format(url=url), encoding="utf-8")
    settings = load_settings(config, environ={})
    port = free_port()
    ready: list[tuple[uvicorn.Server, Recorder, SyncedLedger]] = []

    async def serve() -> None:
        ledger = await sync_ledger(sandbox, url)
        async with dashboard_over(sandbox, url, E2E_ACCESS, settings) as (dashboard, recorder):
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(dashboard=dashboard),
                    host="127.0.0.1",
                    port=port,
                    log_level="warning",
                )
            )
            ready.append((server, recorder, ledger))
            await server.serve()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not (ready and ready[0][0].started):
        assert thread.is_alive(), "the dashboard server died"
        assert time.monotonic() < deadline, "the dashboard server did not start"
        time.sleep(0.02)
    server, recorder, ledger = ready[0]
    try:
        yield ServedDashboard(f"http://127.0.0.1:{port}", ledger, recorder, server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


E2E_TOKEN = "e2e-dashboard-token-7d1f"
STORE_SECRET = "store-token-never-shown"
SETTINGS_FILE = f"""
database_url = "{{url}}"

[bigcommerce]
store_hash = "teststore1"
access_token = "{STORE_SECRET}"

[[destinations]]
name = "erp"
type = "http"
url = "https://erp.example/b2bsync"
secret = "{STORE_SECRET}-hook"

[[writeback]]
order_type = "invoice_payment"
"""
E2E_ACCESS = Access.from_env({"B2BSYNC_DASHBOARD_TOKEN": E2E_TOKEN})


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is missing: run `make test` (it installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def page(browser: Browser, served: ServedDashboard) -> Iterator[Page]:
    """A page logged in once with the token, through the login form."""
    context = browser.new_context(base_url=served.base_url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.goto("/login")
    opened.fill("input[name=token]", E2E_TOKEN)
    opened.click("form[action='/login'] button")
    opened.wait_for_url(f"{served.base_url}/")
    try:
        yield opened
    finally:
        context.close()


def screenshot(page: Page, name: str) -> None:
    """Save the page at desktop and phone width under `test-results/dashboard/`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
