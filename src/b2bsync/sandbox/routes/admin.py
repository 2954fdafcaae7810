"""`/__sandbox/*`: the sandbox's own control panel, for tests, benchmarks and the demo.

Same token as the store API; the store is `X-Store-Hash` or the primary one. Errors are
`{status, message}`. Not part of any BigCommerce API.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from b2bsync.sandbox.config import (
    B2B_QUOTA_PER_MINUTE,
    B2B_WINDOW_MS,
    STORE_QUOTA_PER_WINDOW,
    STORE_WINDOW_MS,
    FaultProfile,
    Plan,
)
from b2bsync.sandbox.errors import AdminError
from b2bsync.sandbox.faults import PROFILES, FaultRates
from b2bsync.sandbox.gateway import Gateway, StoreMeters
from b2bsync.sandbox.limits import FixedWindowLimiter
from b2bsync.sandbox.responses import json_response
from b2bsync.sandbox.routes.endpoint import Context, endpoint, read_json
from b2bsync.sandbox.seed import build_world
from b2bsync.sandbox.simulator import SimulationManager, SimulationSpec
from b2bsync.sandbox.webhooks import WebhookDispatcher

_RATE_NAMES = ("server_error", "slow", "drop", "bare_429")


async def _body(request: Request) -> dict[str, Any]:
    not_object = AdminError(400, "The body must be a JSON object.")
    body: dict[str, Any] = await read_json(
        request, not_object, empty={}, not_object=not_object, blank_is_empty=True
    )
    return body


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.state.gateway
    return gateway


def _dispatcher(request: Request) -> WebhookDispatcher:
    dispatcher: WebhookDispatcher = request.app.state.webhooks
    return dispatcher


def _simulations(request: Request) -> SimulationManager:
    manager: SimulationManager = request.app.state.simulations
    return manager


@endpoint
async def stats(request: Request, ctx: Context) -> Response:
    """Request counters of the gateway plus this store's webhook delivery counters."""
    state, gateway = ctx.state, _gateway(request)
    return json_response(
        {
            **gateway.stats.snapshot(),
            "webhooks": _dispatcher(request).snapshot(state.store_hash),
        }
    )


@endpoint
async def orders(request: Request, ctx: Context) -> Response:
    """Ground truth of every order, archived ones included: what b2bsync should conclude."""
    state = ctx.state
    truth = []
    for order in sorted(state.orders.values(), key=lambda o: o.id):
        customer = state.customers.get(order.customer_id)
        truth.append(
            {
                "id": order.id,
                "kind": order.truth_kind,
                "company_id": customer.company_id if customer else None,
                "customer_id": order.customer_id,
                "invoice_ids": list(order.truth_invoice_ids),
                "status_id": order.status_id,
                "date_modified": order.date_modified.isoformat(),
                "is_deleted": order.is_deleted,
            }
        )
    return json_response(truth)


def _spec(body: dict[str, Any]) -> SimulationSpec | str:
    try:
        rate = float(body.get("rate", 5.0))
        duration = float(body.get("duration", 60.0))
        invoice_share = float(body.get("invoice_share", 0.25))
        seed = body.get("seed")
        if seed is not None and not isinstance(seed, int):
            return "seed must be an integer."
    except (TypeError, ValueError):
        return "rate, duration and invoice_share must be numbers."
    if not 0 < rate <= 1000:
        return "rate must be in (0, 1000] events per second."
    if not 0 < duration <= 86_400:
        return "duration must be in (0, 86400] seconds."
    if not 0 <= invoice_share <= 1:
        return "invoice_share must be between 0 and 1."
    return SimulationSpec(rate=rate, duration=duration, invoice_share=invoice_share, seed=seed)


@endpoint
async def simulate(request: Request, ctx: Context) -> Response:
    """`POST` starts (or replaces) a simulation, `GET` shows its progress, `DELETE` stops it."""
    state, world = ctx.state, ctx.world
    manager = _simulations(request)
    if request.method == "POST":
        body = await _body(request)
        spec = _spec(body)
        if isinstance(spec, str):
            raise AdminError(422, spec)
        started = manager.start(world, state.store_hash, spec)
        return json_response(started.progress(), 201)
    simulation = manager.get(state.store_hash)
    if simulation is None:
        raise AdminError(404, "No simulation has run on this store.")
    if request.method == "DELETE":
        await manager.stop(state.store_hash)
    return json_response(simulation.progress())


def _rates(body: dict[str, Any], profile: FaultProfile) -> FaultRates | str:
    explicit = {name: body[name] for name in _RATE_NAMES if name in body}
    if not explicit:
        return PROFILES[profile]
    if not all(
        isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
        for value in explicit.values()
    ):
        return "each rate must be a number between 0 and 1."
    if sum(explicit.values()) > 1:
        return "the rates must add up to at most 1."
    return FaultRates(
        server_error=float(explicit.get("server_error", 0.0)),
        slow=float(explicit.get("slow", 0.0)),
        drop=float(explicit.get("drop", 0.0)),
        bare_429=float(explicit.get("bare_429", 0.0)),
    )


@endpoint
async def faults(request: Request, ctx: Context) -> Response:
    """Switch the fault profile (`{"profile": "none|flaky|storm"}`) or set explicit rates."""
    gateway = _gateway(request)
    body = await _body(request)
    try:
        profile = FaultProfile(body.get("profile", "none"))
    except ValueError:
        raise AdminError(422, "profile must be one of none, flaky, storm.") from None
    rates = _rates(body, profile)
    if isinstance(rates, str):
        raise AdminError(422, rates)
    gateway.faults.set_profile(profile, rates)
    return json_response(
        {"profile": profile.value, "rates": {name: getattr(rates, name) for name in _RATE_NAMES}}
    )


@endpoint
async def plan(request: Request, ctx: Context) -> Response:
    """Change the store API quota as if the store moved to another plan."""
    state, gateway = ctx.state, _gateway(request)
    body = await _body(request)
    try:
        chosen = Plan(str(body.get("plan")))
    except ValueError:
        raise AdminError(422, f"plan must be one of {', '.join(p.value for p in Plan)}.") from None
    limiter = gateway.meters[state.store_hash].store_api
    limiter.set_quota(STORE_QUOTA_PER_WINDOW[chosen])
    return json_response({"plan": chosen.value, "quota": limiter.quota})


@endpoint
async def reset(request: Request, ctx: Context) -> Response:
    """Re-seed this store from the configuration and clear its hooks, events, meters and stats;
    with `{"stats_only": true}` only the counters start from zero."""
    state, world, gateway = ctx.state, ctx.world, _gateway(request)
    body = await _body(request)
    dispatcher = _dispatcher(request)
    gateway.stats.reset()
    if body.get("stats_only"):
        dispatcher.forget_counters(state.store_hash)
        return json_response({"reset": "stats"})
    await _simulations(request).stop(state.store_hash)
    fresh = build_world(world.config).stores[state.store_hash]
    world.stores[state.store_hash] = fresh
    dispatcher.forget_store(state.store_hash)
    gateway.meters[state.store_hash] = StoreMeters(
        FixedWindowLimiter(STORE_QUOTA_PER_WINDOW[world.config.plan], STORE_WINDOW_MS),
        FixedWindowLimiter(B2B_QUOTA_PER_MINUTE, B2B_WINDOW_MS),
    )
    return json_response({"reset": "store", "orders": len(fresh.orders)})


routes: list[BaseRoute] = [
    Route("/stats", stats, methods=["GET"]),
    Route("/orders", orders, methods=["GET"]),
    Route("/simulate", simulate, methods=["GET", "POST", "DELETE"]),
    Route("/faults", faults, methods=["POST"]),
    Route("/plan", plan, methods=["POST"]),
    Route("/reset", reset, methods=["POST"]),
]
