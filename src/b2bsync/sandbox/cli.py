"""`b2bsync sandbox serve` and `b2bsync sandbox simulate`."""

import dataclasses
import errno
import re
import socket
import time
from pathlib import Path
from typing import Any

import httpx2
import typer

from b2bsync.sandbox.config import FaultProfile, Plan, SandboxConfig
from b2bsync.sandbox.persistence import (
    StateFileError,
    load_world,
    save_world,
)
from b2bsync.sandbox.seed import build_world
from b2bsync.sandbox.server import serve_world

sandbox_app = typer.Typer(help="Run the bundled BigCommerce + B2B Edition sandbox store.")


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|m|min|h))?\s*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$")
_PER_SECOND = {None: 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_SECONDS = {None: 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


def _parse_rate(text: str) -> float:
    """`5/s`, `300/min`, `2.5` (per second) -> events per second."""
    match = _RATE.match(text)
    if match is None or float(match[1]) <= 0:
        raise _fail(f"--rate {text!r}: expected a positive rate such as 5/s or 300/min.", 2)
    return float(match[1]) / _PER_SECOND[match[2]]


def _parse_duration(text: str) -> float:
    """`60s`, `2m`, `1h`, `90` (seconds) -> seconds."""
    match = _DURATION.match(text)
    if match is None or float(match[1]) <= 0:
        raise _fail(f"--duration {text!r}: expected a positive duration such as 60s or 2m.", 2)
    return float(match[1]) * _SECONDS[match[2]]


def _summary(progress: dict[str, Any]) -> str:
    counts = progress["counts"]
    return (
        f"{progress['events_done']}/{progress['events_planned']} events: "
        f"{counts['online_orders']} online orders, {counts['invoice_payments']} invoice payments, "
        f"{counts['status_changes']} status changes, {counts['shipments']} shipments"
    )


@sandbox_app.command("simulate")
def simulate(
    url: str = typer.Option(..., "--url", help="Base URL of a running sandbox."),
    rate: str = typer.Option("5/s", "--rate", help="Events per second (5/s, 300/min)."),
    duration: str = typer.Option("60s", "--duration", help="How long to run (60s, 2m)."),
    invoice_share: float = typer.Option(
        0.25, "--invoice-share", min=0.0, max=1.0, help="Share of new orders that pay invoices."
    ),
    token: str = typer.Option(
        ..., "--token", envvar="B2BSYNC_SANDBOX_TOKEN", help="The sandbox's X-Auth-Token."
    ),
    store_hash: str | None = typer.Option(None, "--store-hash", help="Store (default primary)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for a repeatable sequence."),
) -> None:
    """Make a running sandbox move: shoppers order, buyers pay invoices, staff ship."""
    body: dict[str, Any] = {
        "rate": _parse_rate(rate),
        "duration": _parse_duration(duration),
        "invoice_share": invoice_share,
    }
    if seed is not None:
        body["seed"] = seed
    headers = {"X-Auth-Token": token, "Accept": "application/json"}
    if store_hash:
        headers["X-Store-Hash"] = store_hash
    endpoint = url.rstrip("/") + "/__sandbox/simulate"
    try:
        with httpx2.Client(headers=headers, timeout=10.0) as client:
            response = client.post(endpoint, json=body)
            if response.status_code != 201:
                raise _fail(f"the sandbox refused the simulation: {_message(response)}")
            progress = response.json()
            typer.echo(
                f"Simulation {progress['id']} started: {body['rate']:g} events/s for "
                f"{body['duration']:g} s, invoice share {invoice_share:g}."
            )
            last_report = time.monotonic()
            while progress["state"] == "running":
                time.sleep(0.5)
                progress = client.get(endpoint).json()
                if time.monotonic() - last_report >= 5:
                    typer.echo(_summary(progress))
                    last_report = time.monotonic()
    except httpx2.TransportError as exc:
        raise _fail(f"cannot reach the sandbox at {url} ({type(exc).__name__}).") from exc
    typer.echo(f"Simulation {progress['id']} {progress['state']}: {_summary(progress)}.")
    if progress["state"] != "done":
        raise _fail(progress.get("error") or f"the simulation ended {progress['state']}.")


def _message(response: httpx2.Response) -> str:
    try:
        return str(response.json().get("message", response.text))
    except ValueError:
        return f"HTTP {response.status_code}"


# --- serve ----------------------------------------------------------------------------------


def _store_hashes(first: str, count: int) -> tuple[str, ...]:
    """`--stores N`: the primary hash plus N-1 derived ones (`<hash>-2`, `<hash>-3`, ...)."""
    return tuple(f"{first}-{n}" for n in range(2, count + 1))


_STORE_HASH = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PLAN_OPTION = typer.Option(Plan.STANDARD, "--plan", help="Rate-limit plan.")
_FAULTS_OPTION = typer.Option(FaultProfile.NONE, "--faults", help="Fault injection profile.")


@sandbox_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8081, "--port", min=0, max=65535, help="TCP port (0: any free)."),
    seed: int = typer.Option(42, "--seed", help="Seed of the generated store history."),
    orders: int = typer.Option(500, "--orders", min=0, help="Orders of history per store."),
    companies: int = typer.Option(20, "--companies", min=0, help="B2B companies per store."),
    plan: Plan = _PLAN_OPTION,
    latency_ms: int = typer.Option(0, "--latency-ms", min=0, help="Added latency per request."),
    faults: FaultProfile = _FAULTS_OPTION,
    time_scale: float = typer.Option(
        1.0, "--time-scale", min=0.0001, help="Factor on webhook retry delays (0.01 = 100x)."
    ),
    state: str | None = typer.Option(
        None, "--state", help="JSON file holding the world: loaded if present, saved on change."
    ),
    store_hash: str | None = typer.Option(None, "--store-hash", help="Primary store hash."),
    token: str | None = typer.Option(None, "--token", help="X-Auth-Token to accept."),
    stores: int = typer.Option(1, "--stores", min=1, max=50, help="Number of stores to serve."),
) -> None:
    """Serve the sandbox store (BigCommerce V2/V3 + B2B Edition APIs) until interrupted."""
    if store_hash is not None and not _STORE_HASH.fullmatch(store_hash):
        raise _fail(f"--store-hash {store_hash!r}: use 1-64 letters, digits, '-' or '_'.", 2)
    config = SandboxConfig(
        seed=seed,
        orders=orders,
        companies=companies,
        plan=plan,
        latency_ms=latency_ms,
        faults=faults,
        time_scale=time_scale,
        state_file=state,
    )
    if store_hash is not None:
        config = dataclasses.replace(config, store_hash=store_hash)
    if token is not None:
        config = dataclasses.replace(config, token=token)
    config = dataclasses.replace(
        config, extra_store_hashes=_store_hashes(config.store_hash, stores)
    )
    if state and Path(state).exists():
        try:
            world = load_world(state, config, keep_token=token is not None)
        except StateFileError as error:
            raise _fail(str(error)) from None
    else:
        world = build_world(config)
        if state:
            try:
                save_world(world, state)
            except OSError as error:
                raise _fail(f"cannot write state file {state}: {error.strerror}.") from None
    _check_free(host, port)
    if not serve_world(world, host=host, port=port, state_file=state):
        raise _fail(f"the sandbox could not listen on {host}:{port}.")


def _check_free(host: str, port: int) -> None:
    """Fail with a hint, not uvicorn's bare errno, when the port is taken."""
    if port == 0:
        return
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise _fail(
                    f"port {port} on {host} is already in use (another sandbox or demo?): "
                    f"pick another with --port {port + 1}, or --port 0 for any free port."
                ) from None
            raise _fail(f"cannot listen on {host}:{port}: {error.strerror}.") from None
