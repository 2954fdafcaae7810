"""Counting the API calls a run makes, at the HTTP client: retries and failures count too."""

from __future__ import annotations

import httpx2


class CallCounter:
    """Counts every request an `httpx2.AsyncClient` sends.

    Install it with `httpx2.AsyncClient(event_hooks={"request": [counter.on_request]})` and
    hand that client to `BigCommerceClient(http_client=...)`.
    """

    def __init__(self) -> None:
        self.count = 0

    async def on_request(self, request: httpx2.Request) -> None:
        """The request hook: one more call."""
        self.count += 1
