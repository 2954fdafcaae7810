"""What every benchmark shares: the sandbox in its own process, a b2bsync client for it, the
request counts the sandbox keeps, the machine, and the median/min-max of repeated runs.

The benchmark scripts run as `python benchmarks/<name>.py`, so this module is imported as
`harness` from the `benchmarks/` directory.
"""

from __future__ import annotations

import os
import platform
import re
import socket
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from b2bsync.bigcommerce import BigCommerceClient, GovernorRegistry
from b2bsync.destinations import ConfiguredDestination, Route, SqlDestination
from b2bsync.store import Database
from b2bsync.sync import SyncContext, SyncSettings

TOKEN = "bench-token"
STORE = "benchstore"
B2B_PATH = "/b2b/api/v3/io"


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> dict[str, Any]:
    """Cores, CPU model and Python of the machine the figures were measured on."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def spread(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    """Median and min-max of repeated runs, with the runs themselves."""
    if not values:
        raise ValueError("no runs to summarise")
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": [round(value, digits) for value in values],
    }


@dataclass(frozen=True)
class CallTally:
    """Requests the sandbox answered, by rate-limit family, from `GET /__sandbox/stats`."""

    store_api: int
    """V2 and V3 requests answered (they share the store's quota), 429s excluded."""
    b2b_api: int
    """B2B Edition requests answered (its own quota), 429s excluded."""
    throttled: int
    """429 answers, either family."""

    @property
    def total(self) -> int:
        """Every request sent, 429s included."""
        return self.store_api + self.b2b_api + self.throttled

    def as_dict(self) -> dict[str, int]:
        """The JSON form, total included."""
        return {
            "total": self.total,
            "store_api": self.store_api,
            "b2b_api": self.b2b_api,
            "throttled": self.throttled,
        }


def tally(stats: dict[str, Any]) -> CallTally:
    """Split the sandbox's per-operation counts ("GET v2 /orders", "GET b2b /orders", "GET
    throttled") into the two quotas and the 429s."""
    store_api = b2b_api = 0
    for operation, count in stats["by_operation"].items():
        if operation.endswith(" throttled"):
            continue
        if operation.split(" ")[1:2] == ["b2b"]:
            b2b_api += count
        else:
            store_api += count
    return CallTally(store_api, b2b_api, int(stats["throttled"]))


@dataclass(frozen=True)
class Sandbox:
    """A running `b2bsync sandbox serve` process and its admin API."""

    base_url: str
    plan: str
    orders: int
    pid: int
    stores: tuple[str, ...] = (STORE,)
    """Every store hash it serves: `STORE`, then `STORE-2`, `STORE-3`, ..."""

    @property
    def store_url(self) -> str:
        """Base of the store API (append `/v2/...` or `/v3/...`)."""
        return f"{self.base_url}/stores/{STORE}"

    @property
    def b2b_url(self) -> str:
        """Base of the B2B Edition management API."""
        return f"{self.base_url}{B2B_PATH}"

    def _admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx2.request(
            method,
            f"{self.base_url}/__sandbox{path}",
            headers={"X-Auth-Token": TOKEN},
            json=body,
            timeout=600,
        )
        response.raise_for_status()
        return response.json()

    def calls(self) -> CallTally:
        """What the sandbox counted since the last reset."""
        return tally(self._admin("GET", "/stats"))

    def reset(self) -> None:
        """Re-seed the same store (same seed, same orders) with fresh rate windows and counters,
        so every measured run starts from the same state."""
        self._admin("POST", "/reset", {})

    def ground_truth(self) -> list[dict[str, Any]]:
        """Every order and what it really is (`GET /__sandbox/orders`)."""
        truth: list[dict[str, Any]] = self._admin("GET", "/orders")
        return truth


@contextmanager
def sandbox(
    orders: int, *, plan: str = "unlimited", latency_ms: int = 0, seed: int = 42, stores: int = 1
) -> Iterator[Sandbox]:
    """`b2bsync sandbox serve` on a free port, in its own process (its own CPU, like a real
    store), until the block ends; `stores` stores of `orders` orders each."""
    command = [
        str(Path(sys.executable).with_name("b2bsync")),
        "sandbox",
        "serve",
        "--port=0",
        f"--stores={stores}",
        f"--orders={orders}",
        f"--latency-ms={latency_ms}",
        f"--plan={plan}",
        f"--seed={seed}",
        f"--store-hash={STORE}",
        f"--token={TOKEN}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = ""
        for line in process.stdout:
            if found := re.search(r"listening on (http://\S+)", line):
                base_url = found.group(1)
            if line.startswith("B2B API:"):
                break
        if not base_url:
            raise SystemExit("the sandbox did not start")
        hashes = (STORE, *(f"{STORE}-{n}" for n in range(2, stores + 1)))
        yield Sandbox(base_url, plan, orders, process.pid, hashes)
    finally:
        process.terminate()
        process.wait(timeout=60)


def api_client(base_url: str, http: httpx2.AsyncClient) -> BigCommerceClient:
    """b2bsync's client for the sandbox at `base_url`, sending through `http`."""
    return BigCommerceClient(
        store_hash=STORE,
        access_token=TOKEN,
        api_url=base_url,
        b2b_api_url=f"{base_url}/b2b",
        http_client=http,
        governors=GovernorRegistry(),
    )


def sql_context(
    base_url: str, http: httpx2.AsyncClient, database: Database, sql: SqlDestination
) -> SyncContext:
    """The sync of the sandbox's store into `database`, delivering to the one `sql`
    destination, with the default settings: what the engine benchmarks run."""
    return SyncContext(
        store=STORE,
        client=api_client(base_url, http),
        db=database,
        destinations=(ConfiguredDestination("sql", Route(), sql),),
        settings=SyncSettings(),
    )
