"""Serving a sandbox world over HTTP with uvicorn until interrupted (used by the CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

from b2bsync.sandbox.app import create_app
from b2bsync.sandbox.persistence import ChangeTracker, autosave, save_world
from b2bsync.sandbox.world import World

OnReady = Callable[[str], Awaitable[None]]
"""Called with the base URL once the sandbox listens (e.g. to start a simulation)."""


def announcement(world: World, base_url: str, state_file: str | None) -> str:
    """How to reach the sandbox: store hash, token and base URLs, one per line."""
    config = world.config
    lines = [
        f"b2bsync sandbox listening on {base_url} ({len(world.stores)} store(s))",
        f"Store hash:   {config.store_hash}",
        f"Access token: {config.token}",
        f"Store API:    {base_url}/stores/{config.store_hash}",
    ]
    lines += [f"Extra store:  {base_url}/stores/{extra}" for extra in config.extra_store_hashes]
    if state_file:
        lines.append(f"State file:   {state_file}")
    lines += [
        "Point b2bsync at it (the API URLs take the base, not the paths above):",
        f"  export BIGCOMMERCE_STORE_HASH={config.store_hash} "
        f"BIGCOMMERCE_ACCESS_TOKEN={config.token}",
        f"  export BIGCOMMERCE_API_URL={base_url} B2B_API_URL={base_url}/b2b",
    ]
    # Last, so a reader of the output knows everything is printed once it has this line.
    lines.append(f"B2B API:      {base_url}/b2b/api/v3/io")
    return "\n".join(lines)


class _SandboxServer(uvicorn.Server):
    """uvicorn, announcing the sandbox's URLs once it listens (with the real port for 0)."""

    def __init__(
        self, config: uvicorn.Config, world: World, state_file: str | None, on_ready: OnReady | None
    ) -> None:
        super().__init__(config)
        self.world = world
        self.state_file = state_file
        self.on_ready = on_ready

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return
        port = self.config.port
        for server in self.servers:
            for sock in server.sockets:
                port = sock.getsockname()[1]
        base_url = f"http://{self.config.host}:{port}"
        print(announcement(self.world, base_url, self.state_file), flush=True)
        if self.on_ready is not None:
            await self.on_ready(base_url)
        sys.stdout.flush()


async def _serve_until_stopped(
    server: _SandboxServer, world: World, state_file: str | None, tracker: ChangeTracker
) -> None:
    """Run uvicorn with the autosaver beside it; save once more on the way out."""
    saver = (
        asyncio.create_task(autosave(world, state_file, tracker), name="sandbox-autosave")
        if state_file
        else None
    )
    try:
        await server.serve()
    finally:
        if saver is not None:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
        if state_file:
            save_world(world, state_file)


def _stopped(signum: int, frame: object) -> None:
    """Signal handler for after uvicorn's graceful shutdown: nothing left to do."""


def serve_world(
    world: World,
    *,
    host: str,
    port: int,
    state_file: str | None = None,
    on_ready: OnReady | None = None,
) -> bool:
    """Serve `world` on host:port until SIGINT/SIGTERM; False if it could not listen."""
    tracker = ChangeTracker(create_app(world), world)
    server = _SandboxServer(
        uvicorn.Config(tracker, host=host, port=port, log_level="warning", lifespan="on"),
        world,
        state_file,
        on_ready,
    )
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler
    # that was installed before it; a quiet one lets the final save run and the exit be clean.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _stopped)
    asyncio.run(_serve_until_stopped(server, world, state_file, tracker))
    return bool(server.started)
