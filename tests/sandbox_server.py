"""Run the sandbox as a real HTTP server on loopback for tests and benchmarks."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from b2bsync.sandbox.app import create_app
from b2bsync.sandbox.config import SandboxConfig
from b2bsync.sandbox.gateway import Gateway
from b2bsync.sandbox.seed import build_world
from b2bsync.sandbox.world import World


@dataclass
class RunningSandbox:
    """A sandbox listening on 127.0.0.1; `world` and `gateway` are for assertions only."""

    base_url: str
    config: SandboxConfig
    world: World
    gateway: Gateway

    @property
    def store_url(self) -> str:
        """Base of the store API (append `/v2/...` or `/v3/...`)."""
        return f"{self.base_url}/stores/{self.config.store_hash}"

    @property
    def b2b_url(self) -> str:
        """Base of the B2B Edition management API (append `/orders`, `/ip/invoices`, ...)."""
        return f"{self.base_url}/b2b/api/v3/io"

    def headers(self, *, b2b: bool = False) -> dict[str, str]:
        """Authentication headers for the store API, or for B2B Edition with `b2b=True`."""
        headers = {"X-Auth-Token": self.config.token, "Accept": "application/json"}
        if b2b:
            headers["X-Store-Hash"] = self.config.store_hash
        return headers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_sandbox(config: SandboxConfig) -> Iterator[RunningSandbox]:
    """Seed a world from `config`, serve it on a free loopback port, stop it afterwards."""
    world = build_world(config)
    gateway = create_app(world)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(gateway, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    try:
        yield RunningSandbox(f"http://127.0.0.1:{port}", config, world, gateway)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
