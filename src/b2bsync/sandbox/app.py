"""The sandbox as an ASGI application: routes per API family behind the gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Mount

from b2bsync.sandbox.actions import run_all_due
from b2bsync.sandbox.gateway import ADMIN_PREFIX, B2B_PREFIX, Gateway
from b2bsync.sandbox.routes import (
    admin,
    b2b_companies,
    b2b_invoices,
    b2b_orders,
    b2b_payments,
    discrepancies,
    v2_orders,
    v3_hooks,
    v3_metafields,
)
from b2bsync.sandbox.simulator import SimulationManager
from b2bsync.sandbox.webhooks import WebhookDispatcher
from b2bsync.sandbox.world import World

TICK_SECONDS = 0.2


async def _tick(world: World) -> None:
    """Let the world move even when nobody calls: due metafields, B2B records, simulations."""
    while True:
        run_all_due(world)
        await asyncio.sleep(TICK_SECONDS)


def create_app(world: World) -> Gateway:
    """The whole sandbox for `world`; serve it with any ASGI server."""
    dispatcher = WebhookDispatcher(world)
    simulations = SimulationManager()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_tick(world), name="sandbox-tick")
        sender = asyncio.create_task(dispatcher.run(), name="sandbox-webhooks")
        try:
            yield
        finally:
            await simulations.stop_all()
            for task in (ticker, sender):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    starlette = Starlette(
        routes=[
            Mount("/stores/{store_hash}/v2", routes=v2_orders.routes),
            Mount("/stores/{store_hash}/v3", routes=[*v3_metafields.routes, *v3_hooks.routes]),
            Mount(
                B2B_PREFIX,
                routes=[
                    *b2b_companies.routes,
                    *b2b_orders.routes,
                    *b2b_invoices.routes,
                    *b2b_payments.routes,
                ],
            ),
            Mount(ADMIN_PREFIX, routes=[*admin.routes, *discrepancies.routes]),
        ],
        lifespan=lifespan,
    )
    # Routes reach app-wide services through `request.app.state`.
    starlette.state.webhooks = dispatcher
    starlette.state.simulations = simulations
    return Gateway(starlette, world)
