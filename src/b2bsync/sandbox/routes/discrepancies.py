"""`POST /__sandbox/discrepancies`: inject the Invoice Portal faults of `sandbox/discrepancies.py`
into this store. Not part of any BigCommerce API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from b2bsync.sandbox.discrepancies import inject_discrepancies
from b2bsync.sandbox.responses import json_response
from b2bsync.sandbox.routes.endpoint import Context, endpoint


@endpoint
async def discrepancies(request: Request, ctx: Context) -> Response:
    """`POST`: inject the discrepancies into this store and say which ids they touched."""
    return json_response(inject_discrepancies(ctx.state, ctx.now), 201)


routes: list[BaseRoute] = [Route("/discrepancies", discrepancies, methods=["POST"])]
