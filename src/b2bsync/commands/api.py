"""`b2bsync api get PATH`: print any GET of the store or B2B Edition API as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Annotated, Any

import typer

from b2bsync.bigcommerce import (
    ApiHttp,
    ApiResponse,
    BigCommerceClient,
    BigCommerceError,
    BigCommerceSettings,
    b2b_pages,
    v2_pages,
    v3_pages,
)
from b2bsync.commands.runtime import ConfigOption, connection_or_exit, fail, load_or_exit
from b2bsync.observability import configure_logging

__all__ = ["api_app"]

api_app = typer.Typer(
    help="Call the BigCommerce APIs directly, for support and debugging.", no_args_is_help=True
)

_PAGING_KEYS = ("page", "limit", "offset", "after")


def _parse_params(pairs: list[str]) -> list[tuple[str, str]]:
    params = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {pair!r}", param_hint="--param")
        params.append((key, value))
    return params


def _pages(
    http: ApiHttp, path: str, params: list[tuple[str, str]], b2b: bool
) -> AsyncIterator[list[Any]]:
    """The right pagination style for the path's API family."""
    given = dict(params)
    query = {key: value for key, value in given.items() if key not in _PAGING_KEYS}

    async def fetch(page_params: dict[str, Any]) -> ApiResponse:
        return await http.get(path, operation="cli.get", params=page_params)

    if b2b:
        return b2b_pages(fetch, query, limit=int(given.get("limit", 200)))
    if path.startswith("/v2/"):
        return v2_pages(fetch, query, limit=int(given.get("limit", 250)))
    return v3_pages(fetch, query, limit=int(given.get("limit", 250)))


async def _run(
    settings: BigCommerceSettings,
    path: str,
    b2b: bool,
    params: list[tuple[str, str]],
    all_pages: bool,
) -> None:
    async with BigCommerceClient.from_settings(settings) as client:
        http = client.b2b_http if b2b else client.store_http
        if not all_pages:
            response = await http.get(path, operation="cli.get", params=params)
            typer.echo(json.dumps(response.body, indent=2, ensure_ascii=False))
            return
        # Streamed as one JSON array so memory stays flat however many pages there are. If a
        # later page fails, the array is still closed: stdout stays valid JSON holding what was
        # read, and the error (exit 1) says how far it got.
        written = 0
        sys.stdout.write("[")
        try:
            async for page in _pages(http, path, params, b2b):
                for item in page:
                    sys.stdout.write(
                        (",\n  " if written else "\n  ") + json.dumps(item, ensure_ascii=False)
                    )
                    written += 1
        except BigCommerceError as error:
            raise PartialListing(written, error) from None
        finally:
            sys.stdout.write("\n]\n" if written else "]\n")
            sys.stdout.flush()


class PartialListing(Exception):
    """`--all` stopped at a page that failed after `written` items were printed."""

    def __init__(self, written: int, error: BigCommerceError) -> None:
        super().__init__(
            f"{error}; stopped after {written} item(s): stdout holds those, as a complete "
            "JSON array, not the whole listing"
        )


@api_app.command("get")
def get(
    path: Annotated[
        str,
        typer.Argument(
            help="Path after the store base (/v2/orders, /v3/orders/metafields) or, with --b2b, "
            "after /api/v3/io (/orders, /ip/invoices)."
        ),
    ],
    b2b: Annotated[bool, typer.Option("--b2b", help="Call the B2B Edition API.")] = False,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Query parameter key=value.")
    ] = None,
    all_pages: Annotated[
        bool, typer.Option("--all", help="Follow every page and print one JSON array.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log each request to stderr.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Print the JSON answer of a GET to the configured store (the first of several)."""
    configure_logging(debug=verbose)
    params = _parse_params(param or [])
    if not b2b and not path.startswith(("/v2/", "/v3/")):
        raise typer.BadParameter("store API paths start with /v2/ or /v3/", param_hint="PATH")
    if not path.startswith("/"):
        path = "/" + path
    connection = connection_or_exit(load_or_exit(config))
    try:
        asyncio.run(_run(connection, path, b2b, params, all_pages))
    except (BigCommerceError, PartialListing) as error:
        raise fail(str(error)) from None
