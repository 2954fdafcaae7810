"""`b2bsync demo`: what a new user sees first, with no store and no credentials."""

from __future__ import annotations

import secrets

import httpx2
import typer

from b2bsync.sandbox.config import Plan, SandboxConfig
from b2bsync.sandbox.seed import build_world
from b2bsync.sandbox.server import serve_world

DEMO_STORE_HASH = "demo"


def next_steps(base_url: str, token: str) -> str:
    """The commands that show the demo store through b2bsync's own client."""
    return "\n".join(
        [
            "",
            "Shoppers are ordering and buyers are paying invoices. In another terminal:",
            f"  export BIGCOMMERCE_STORE_HASH={DEMO_STORE_HASH} BIGCOMMERCE_ACCESS_TOKEN={token}",
            f"  export BIGCOMMERCE_API_URL={base_url} B2B_API_URL={base_url}/b2b",
            "  .venv/bin/b2bsync api get /v2/orders -p sort=date_modified:desc -p limit=5",
            "  .venv/bin/b2bsync api get /v3/orders/metafields -p key=orderType -p limit=5",
            "  .venv/bin/b2bsync api get --b2b /ip/payments -p limit=5",
            "Ground truth (which orders are invoice payments):",
            f"  curl -s -H 'X-Auth-Token: {token}' {base_url}/__sandbox/orders",
            "Press Ctrl-C to stop.",
        ]
    )


def demo(
    port: int = typer.Option(8081, "--port", min=0, max=65535, help="Port of the sandbox store."),
    orders: int = typer.Option(500, "--orders", min=0, help="Orders of seeded history."),
    rate: float = typer.Option(
        1.0, "--rate", min=0.0, help="Shopper and staff events per second (0: a still store)."
    ),
    invoice_share: float = typer.Option(
        0.25, "--invoice-share", min=0.0, max=1.0, help="Share of new orders that pay invoices."
    ),
    seed: int = typer.Option(42, "--seed", help="Seed of the generated store."),
) -> None:
    """Run the sandbox store with seeded data and live shoppers, and show how to explore it."""
    token = secrets.token_hex(16)
    world = build_world(
        SandboxConfig(
            seed=seed, orders=orders, plan=Plan.STANDARD, store_hash=DEMO_STORE_HASH, token=token
        )
    )

    async def start_shoppers(base_url: str) -> None:
        if rate > 0:
            async with httpx2.AsyncClient(base_url=base_url, timeout=10) as client:
                response = await client.post(
                    "/__sandbox/simulate",
                    headers={"X-Auth-Token": token},
                    # A day is "until stopped" for a demo.
                    json={"rate": rate, "duration": 86_400, "invoice_share": invoice_share},
                )
                response.raise_for_status()
        typer.echo(next_steps(base_url, token))

    if not serve_world(world, host="127.0.0.1", port=port, on_ready=start_shoppers):
        typer.echo(f"Error: the demo could not listen on 127.0.0.1:{port}; try --port.", err=True)
        raise typer.Exit(1)
