"""`--state FILE`: the sandbox's world saved as readable, versioned JSON and loaded back.

Every stored entity round-trips exactly: dataclasses are written field by field and read back
through their type hints (Decimal as a string, datetimes as ISO 8601), so fields added to the
models later are saved without touching this module. The store's random generator, id
counters, pending scheduled actions and undelivered webhook events are saved too, so a
restarted sandbox carries on where it stopped. Saves are atomic (temp file, fsync, rename).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import random
import sys
import tempfile
import time
import types
import typing
from collections import deque
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from b2bsync.sandbox.config import SandboxConfig
from b2bsync.sandbox.world import StoreState, World

FORMAT_VERSION = 1
_NOT_SAVED = frozenset({"rng", "_seq", "modified_order_ids", "revision"})
"""StoreState fields rebuilt on load rather than written (rng has its own entry)."""


class StateFileError(Exception):
    """The state file cannot be read as a sandbox world."""


# --- encoding -------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return [_encode(item) for item in sorted(value)]
    if isinstance(value, list | tuple | deque):
        return [_encode(item) for item in value]
    raise TypeError(f"cannot save a {type(value).__name__} in the state file")


def _decode(hint: Any, raw: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return raw
    if origin in (typing.Union, types.UnionType):
        if raw is None:
            return None
        options = [arg for arg in args if arg is not type(None)]
        return _decode(options[0], raw)
    if hint is Decimal:
        return Decimal(raw)
    if hint is datetime:
        return datetime.fromisoformat(raw)
    if hint in (int, str, bool, float):
        return hint(raw)
    if origin in (list, deque, set, tuple):
        items = [_decode(args[0] if args else Any, item) for item in raw]
        return origin(items)
    if origin is dict:
        key_hint, value_hint = args or (Any, Any)
        return {_decode(key_hint, key): _decode(value_hint, item) for key, item in raw.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, raw)
    raise TypeError(f"cannot load a {hint!r} from the state file")


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _field_hints(cls: type[Any]) -> dict[str, Any]:
    """Resolved annotations of the saved fields of a dataclass.

    Evaluated one by one (not `typing.get_type_hints`) because some unsaved fields have
    annotations that do not evaluate at runtime, such as `itertools.count[int]`.
    """
    cached = _HINTS.get(cls)
    if cached is not None:
        return cached
    namespace = vars(sys.modules[cls.__module__])
    skipped = _NOT_SAVED if cls is StoreState else frozenset()
    hints: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in skipped or not f.init:
            continue
        hints[f.name] = eval(f.type, namespace) if isinstance(f.type, str) else f.type  # noqa: S307
    _HINTS[cls] = hints
    return hints


def _decode_dataclass(cls: type[Any], raw: dict[str, Any]) -> Any:
    hints = _field_hints(cls)
    return cls(**{name: _decode(hint, raw[name]) for name, hint in hints.items() if name in raw})


def encode_store(state: StoreState) -> dict[str, Any]:
    """One store as JSON-ready data."""
    body = {
        f.name: _encode(getattr(state, f.name))
        for f in dataclasses.fields(state)
        if f.name not in _NOT_SAVED
    }
    version, internal, gauss = state.rng.getstate()
    body["rng"] = {"version": version, "state": list(internal), "gauss_next": gauss}
    return body


def decode_store(raw: dict[str, Any]) -> StoreState:
    """A store from `encode_store` output."""
    hints = _field_hints(StoreState)
    rng = random.Random()
    saved = raw["rng"]
    rng.setstate((saved["version"], tuple(saved["state"]), saved["gauss_next"]))
    values = {name: _decode(hint, raw[name]) for name, hint in hints.items() if name in raw}
    state = StoreState(rng=rng, **values)
    # Scheduled actions keep their order; new ones must sort after every saved one.
    next_seq = max((action.seq for action in state.scheduled), default=-1) + 1
    state._seq = itertools.count(next_seq)
    return state


def encode_world(world: World) -> dict[str, Any]:
    """The whole world as the state file's JSON document."""
    config = world.config
    return {
        "format_version": FORMAT_VERSION,
        "saved_at": world.clock().isoformat(),
        "store_hashes": list(config.store_hashes),
        "token": config.token,
        "seed": config.seed,
        "stores": {store_hash: encode_store(state) for store_hash, state in world.stores.items()},
    }


def decode_world(document: dict[str, Any], config: SandboxConfig, *, keep_token: bool) -> World:
    """A world from the state file. Its store hashes win over `config`'s (the file is those
    stores); its token is used unless `keep_token` (the caller chose one)."""
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise StateFileError(
            f"unsupported state file format_version {version!r} (expected {FORMAT_VERSION})"
        )
    hashes = list(document["store_hashes"])
    config = dataclasses.replace(
        config,
        store_hash=hashes[0],
        extra_store_hashes=tuple(hashes[1:]),
        token=config.token if keep_token else str(document["token"]),
    )
    stores = {store_hash: decode_store(document["stores"][store_hash]) for store_hash in hashes}
    return World(config=config, stores=stores)


# --- files ----------------------------------------------------------------------------------


_ENTITY_DEPTH = 4
"""document > stores > store > collection > entity: entities are written one per line."""


def _dump(value: Any, depth: int) -> str:
    """JSON with the structure indented and each entity compact on its own line, which keeps a
    100,000-order file greppable and a third smaller than fully indented JSON."""
    if depth >= _ENTITY_DEPTH or not isinstance(value, dict) or not value:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    pad = " " * (depth + 1)
    items = ",\n".join(
        f"{pad}{json.dumps(key, ensure_ascii=False)}: {_dump(item, depth + 1)}"
        for key, item in value.items()
    )
    return "{\n" + items + "\n" + " " * depth + "}"


def save_world(world: World, path: str | Path) -> None:
    """Write the world to `path` atomically: readers see the old file or the new one."""
    target = Path(path)
    data = (_dump(encode_world(world), 0) + "\n").encode()
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        # mkstemp creates 0600; keep the mode of the file being replaced, else a plain 0644.
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load_world(path: str | Path, config: SandboxConfig, *, keep_token: bool = False) -> World:
    """Read a world saved by `save_world`; StateFileError when the file is not one."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise StateFileError(f"cannot read state file {path}: {error}") from error
    if not isinstance(document, dict):
        raise StateFileError(f"state file {path} does not hold a sandbox world")
    try:
        return decode_world(document, config, keep_token=keep_token)
    except (KeyError, TypeError, ValueError) as error:
        raise StateFileError(f"state file {path} is damaged: {error!r}") from error


# --- saving while serving -------------------------------------------------------------------


class ChangeTracker:
    """ASGI wrapper noting writes, so the autosaver knows when the world may have changed.

    Together with each store's `revision` (new entities, events) this catches changes made by
    requests (including B2B updates that announce nothing) and by the store itself.
    """

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world
        self.writes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            self.writes += 1
        await self.app(scope, receive, send)

    def signature(self) -> tuple[int, ...]:
        """Changes whenever the world may have changed since the last call with this value."""
        stores = self.world.stores.values()
        return (
            self.writes,
            *(state.revision for state in stores),
            *(len(state.scheduled) for state in stores),
        )


async def autosave(
    world: World, path: str | Path, tracker: ChangeTracker, interval_s: float = 5.0
) -> None:
    """Save the world every `interval_s` seconds when something changed; runs until cancelled.

    Saving runs on the event loop, between requests, so it never sees a half-applied change;
    the pause grows with the time a save takes so big worlds stay responsive.
    """
    saved = tracker.signature()
    pause = interval_s
    while True:
        await asyncio.sleep(pause)
        current = tracker.signature()
        if current != saved:
            started = time.perf_counter()
            save_world(world, path)
            saved = current
            # A big world takes seconds to save, during which nothing is served: keep saving
            # to at most a tenth of the time.
            pause = max(interval_s, 9 * (time.perf_counter() - started))
