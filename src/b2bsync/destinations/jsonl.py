"""The `jsonl` destination: an append-only JSON Lines file, durable before it says delivered."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import structlog

from b2bsync.destinations.base import BaseDestination, Prepared
from b2bsync.domain.delivery import Delivery, DeliveryResult, Outcome

__all__ = ["JsonlDestination"]

log = structlog.get_logger("b2bsync.destinations")


class JsonlDestination(BaseDestination[bytes]):
    """One line per delivery (the `Delivery` as JSON), `fsync`ed before DELIVERED.

    On first use it reads the file back to learn which idempotency keys, and which newest
    version of each order, it already holds: a key already written is not written again, and a
    version older than one already written is skipped as superseded, so the last line of an
    order is always its newest version. A final line without its newline is what a crash in the
    middle of an append leaves behind; it is cut off (its delivery was never reported, so the
    outbox sends it again). One process writes a file at a time.
    """

    def __init__(self, name: str, *, path: Path, max_batch: int = 100) -> None:
        super().__init__(name, max_batch=max_batch)
        self._path = path
        self._file: BinaryIO | None = None
        self._keys: set[str] = set()
        self._versions: dict[tuple[str, int], int] = {}
        self._lock = asyncio.Lock()

    @property
    def path(self) -> Path:
        """The file written to."""
        return self._path

    def prepare(self, delivery: Delivery) -> bytes:
        """The line: the delivery as compact JSON (which never contains a raw newline)."""
        return delivery.model_dump_json().encode() + b"\n"

    async def send(self, items: Sequence[Prepared[bytes]]) -> list[DeliveryResult]:
        """Append the lines not yet in the file in one write, then flush and fsync."""
        async with self._lock:
            return await asyncio.to_thread(self._append, items)

    def fails_whole_batch(self, error: Exception) -> bool:
        """Every line goes in one write: whatever failed, failed for the whole chunk."""
        return True

    async def aclose(self) -> None:
        """Close the file."""
        async with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _open(self) -> BinaryIO:
        if self._file is not None:
            return self._file
        self._path.parent.mkdir(parents=True, exist_ok=True)
        created = not self._path.exists()
        handle = self._path.open("a+b")
        try:
            self._recover(handle)
        except BaseException:
            handle.close()
            raise
        if created:
            # The new directory entry must survive a crash too, not only the file's bytes.
            directory = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        self._file = handle
        return handle

    def _recover(self, handle: BinaryIO) -> None:
        handle.seek(0)
        content = handle.read()
        complete = content.rfind(b"\n") + 1
        if complete < len(content):
            log.warning(
                "destination.jsonl.torn_line_truncated",
                destination=self.name,
                path=str(self._path),
                bytes=len(content) - complete,
            )
            handle.truncate(complete)
            handle.flush()
            os.fsync(handle.fileno())
        for number, line in enumerate(content[:complete].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                key, store, order_id, version = (
                    str(entry["idempotency_key"]),
                    str(entry["store"]),
                    int(entry["order_id"]),
                    int(entry["version"]),
                )
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(
                    f"{self._path}:{number} is not a b2bsync delivery line ({error}); "
                    "point the jsonl destination at a file only it writes"
                ) from error
            self._remember(key, store, order_id, version)
        handle.seek(0, os.SEEK_END)

    def _remember(self, key: str, store: str, order_id: int, version: int) -> None:
        self._keys.add(key)
        order = (store, order_id)
        self._versions[order] = max(version, self._versions.get(order, 0))

    def _append(self, items: Sequence[Prepared[bytes]]) -> list[DeliveryResult]:
        handle = self._open()
        lines: list[bytes] = []
        written: list[Delivery] = []
        batch_keys: set[str] = set()
        batch_versions: dict[tuple[str, int], int] = {}
        for item in items:
            delivery = item.delivery
            order = (delivery.store, delivery.order_id)
            newest = max(self._versions.get(order, 0), batch_versions.get(order, 0))
            key = delivery.idempotency_key
            if key in self._keys or key in batch_keys or delivery.version < newest:
                continue
            lines.append(item.payload)
            written.append(delivery)
            batch_keys.add(key)
            batch_versions[order] = delivery.version
        if lines:
            try:
                handle.write(b"".join(lines))
                handle.flush()
                os.fsync(handle.fileno())
            except OSError:
                # Part of the write may be on disk: drop the handle so the next attempt re-reads
                # the file, cuts any torn line and learns which keys did make it.
                self._file = None
                self._keys.clear()
                self._versions.clear()
                handle.close()
                raise
            for delivery in written:
                self._remember(
                    delivery.idempotency_key, delivery.store, delivery.order_id, delivery.version
                )
        return [
            DeliveryResult(idempotency_key=item.delivery.idempotency_key, outcome=Outcome.DELIVERED)
            for item in items
        ]
