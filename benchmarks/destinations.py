"""Destination throughput: deliveries per second into `jsonl`, `redis` and `amqp`, in one run.

Each run hands every destination the same `--deliveries` deliveries (those of
`outbox_claim.deliveries`) in batches of `--batch` through `deliver`, into a fresh target (a new
file; a new stream prefix, so the dedupe set starts empty; a new exchange with a durable queue
bound, so every message is routed and persisted). The connection is opened and the target
declared by an untimed warm-up batch first, so the figure is the steady state. The
destinations take turns within a run, in a rotated order from run to run, so machine load
falls on all of them alike; the ratio to `jsonl` is computed per run, then its median taken.
Redis and RabbitMQ are the local services the tests use (`B2BSYNC_TEST_REDIS_URL`,
`B2BSYNC_TEST_AMQP_URL`).

    .venv/bin/python benchmarks/destinations.py [--deliveries 5000] [--batch 100] [--runs 3]
        [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aio_pika
import redis.asyncio as aioredis
from pydantic import SecretStr

from b2bsync.destinations import AmqpDestination, JsonlDestination, RedisStreamDestination
from b2bsync.destinations.base import BaseDestination
from b2bsync.domain.delivery import Delivery, Outcome
from b2bsync.observability import configure_logging
from harness import machine, spread
from outbox_claim import deliveries

REDIS_URL = os.environ.get("B2BSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("B2BSYNC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
WARM_UP = 10

Target = Callable[[int], AbstractAsyncContextManager[BaseDestination[Any]]]
"""A fresh destination with `max_batch`, whose target is removed afterwards."""


@asynccontextmanager
async def jsonl_target(batch: int) -> AsyncIterator[BaseDestination[Any]]:
    with tempfile.TemporaryDirectory(prefix="b2bsync-bench-") as directory:
        destination = JsonlDestination("jsonl", path=Path(directory) / "out.jsonl", max_batch=batch)
        try:
            yield destination
        finally:
            await destination.aclose()


@asynccontextmanager
async def redis_target(batch: int) -> AsyncIterator[BaseDestination[Any]]:
    prefix = f"b2bsync-bench-{uuid.uuid4().hex[:12]}"
    destination = RedisStreamDestination(
        "redis", url=SecretStr(REDIS_URL), stream_prefix=prefix, max_batch=batch
    )
    try:
        yield destination
    finally:
        await destination.aclose()
        client = aioredis.Redis.from_url(REDIS_URL)
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@asynccontextmanager
async def amqp_target(batch: int) -> AsyncIterator[BaseDestination[Any]]:
    exchange = f"b2bsync-bench-{uuid.uuid4().hex[:12]}"
    destination = AmqpDestination(
        "amqp", url=SecretStr(AMQP_URL), exchange=exchange, queue=exchange, max_batch=batch
    )
    try:
        yield destination
    finally:
        await destination.aclose()
        connection = await aio_pika.connect(AMQP_URL)
        channel = await connection.channel()
        await channel.queue_delete(exchange)
        await channel.exchange_delete(exchange)
        await connection.close()


TARGETS: dict[str, Target] = {"jsonl": jsonl_target, "redis": redis_target, "amqp": amqp_target}


async def timed(
    target: Target, batch: int, timed_batches: Sequence[Sequence[Delivery]]
) -> tuple[float, float]:
    """Wall and this process's CPU seconds to deliver `timed_batches`, after an untimed warm-up
    batch. The CPU is b2bsync's side only; Redis and RabbitMQ run in their own processes."""
    warm_up = deliveries(sum(map(len, timed_batches)) + WARM_UP)[-WARM_UP:]
    async with target(batch) as destination:
        await destination.deliver(warm_up)
        started, cpu_started = time.perf_counter(), time.process_time()
        for chunk in timed_batches:
            results = await destination.deliver(chunk)
            if {result.outcome for result in results} != {Outcome.DELIVERED}:
                raise RuntimeError(f"{destination.name}: not everything delivered: {results[:3]}")
        return time.perf_counter() - started, time.process_time() - cpu_started


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Per destination: deliveries/s and the ratio to `jsonl` of the same run, over the runs."""
    every = deliveries(args.deliveries)
    batches = [every[start : start + args.batch] for start in range(0, len(every), args.batch)]
    names = list(TARGETS)
    per_run: list[dict[str, float]] = []
    cpu_per_run: list[dict[str, float]] = []
    for run in range(args.runs):
        order = names[run % len(names) :] + names[: run % len(names)]
        seconds = {name: await timed(TARGETS[name], args.batch, batches) for name in order}
        per_run.append({name: len(every) / seconds[name][0] for name in names})
        cpu_per_run.append({name: seconds[name][1] / len(every) * 1e6 for name in names})
    body_bytes = statistics.mean(len(delivery.model_dump_json()) for delivery in every)
    return {
        "machine": machine(),
        "deliveries": len(every),
        "batch": args.batch,
        "runs": args.runs,
        "mean_delivery_json_bytes": round(body_bytes),
        "deliveries_per_s": {name: spread([run[name] for run in per_run], 0) for name in names},
        "client_cpu_us_per_delivery": {
            name: spread([run[name] for run in cpu_per_run], 0) for name in names
        },
        "ratio_to_jsonl": {
            name: spread([run[name] / run["jsonl"] for run in per_run], 2) for name in names
        },
    }


def table(result: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| destination | deliveries/s | ratio to `jsonl` (same run) | CPU µs per delivery |",
        "|---|---|---|---|",
    ]
    for name, rate in result["deliveries_per_s"].items():
        ratio = result["ratio_to_jsonl"][name]
        cpu = result["client_cpu_us_per_delivery"][name]
        lines.append(
            f"| `{name}` | {rate['median']:,.0f} ({rate['min']:,.0f}-{rate['max']:,.0f}) "
            f"| {ratio['median']:.2f} ({ratio['min']:.2f}-{ratio['max']:.2f}) "
            f"| {cpu['median']:,.0f} ({cpu['min']:,.0f}-{cpu['max']:,.0f}) |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the measurement and print a Markdown table (or JSON)."""
    assert __doc__ is not None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    args = parser.parse_args()
    configure_logging()
    result = asyncio.run(measure(args))
    print(json.dumps(result) if args.json else table(result))


if __name__ == "__main__":
    main()
