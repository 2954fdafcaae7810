"""The `python` destination: hand batches to a function of the user's own code."""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

from b2bsync.destinations.base import BaseDestination, Prepared
from b2bsync.destinations.errors import DestinationConfigError
from b2bsync.domain.delivery import Delivery, DeliveryResult, Outcome

__all__ = ["ENTRY_POINT_GROUP", "PythonDestination", "resolve_target"]

ENTRY_POINT_GROUP = "b2bsync.destinations"

Plugin = Callable[[list[Delivery]], Any]


def resolve_target(target: str) -> Plugin:
    """The callable `target` names: `package.module:function` (attributes may be dotted,
    `module:Class.method`) or the name of an entry point in group `b2bsync.destinations`.

    Raises `DestinationConfigError` naming the target when it cannot be imported or called.
    """
    if ":" in target:
        module_name, _, attribute = target.partition(":")
        try:
            found: Any = importlib.import_module(module_name)
        except Exception as error:
            raise DestinationConfigError(
                f"python destination target {target!r}: cannot import module {module_name!r} "
                f"({type(error).__name__}: {error})"
            ) from error
        for part in attribute.split("."):
            try:
                found = getattr(found, part)
            except AttributeError:
                raise DestinationConfigError(
                    f"python destination target {target!r}: {module_name!r} has no {attribute!r}"
                ) from None
    else:
        matches = entry_points(group=ENTRY_POINT_GROUP, name=target)
        if not matches:
            raise DestinationConfigError(
                f"python destination target {target!r}: no entry point of that name in group "
                f"{ENTRY_POINT_GROUP!r} (or write it as 'module:function')"
            )
        entry_point = next(iter(matches))
        try:
            found = entry_point.load()
        except Exception as error:
            raise DestinationConfigError(
                f"python destination target {target!r}: loading entry point "
                f"{entry_point.value!r} failed ({type(error).__name__}: {error})"
            ) from error
    if not callable(found):
        raise DestinationConfigError(f"python destination target {target!r} is not callable")
    plugin: Plugin = found
    return plugin


class PythonDestination(BaseDestination[Delivery]):
    """Calls `function(batch)` with a list of `Delivery`; sync functions run in a thread.

    The function returns None (all delivered) or one `DeliveryResult` per delivery in order.
    It raises `b2bsync.destinations.PermanentError` for input it will never accept (DEAD) and
    anything else for a temporary failure (RETRY); when a batch raises, its deliveries are
    offered again one at a time, so the function must be idempotent on `idempotency_key`.
    """

    def __init__(
        self, name: str, *, function: Plugin, target: str = "", max_batch: int = 100
    ) -> None:
        super().__init__(name, max_batch=max_batch)
        self._function = function
        self.target = target or getattr(function, "__qualname__", repr(function))

    @classmethod
    def from_target(cls, name: str, target: str, *, max_batch: int = 100) -> PythonDestination:
        """Resolve `target` (see `resolve_target`) now, so a typo fails at start-up."""
        return cls(name, function=resolve_target(target), target=target, max_batch=max_batch)

    def prepare(self, delivery: Delivery) -> Delivery:
        """Plugins receive the `Delivery` itself."""
        return delivery

    async def send(self, items: Sequence[Prepared[Delivery]]) -> list[DeliveryResult]:
        """Call the function and read its answer."""
        batch = [item.payload for item in items]
        if inspect.iscoroutinefunction(self._function):
            answer = await self._function(batch)
        else:
            answer = await asyncio.to_thread(self._function, batch)
            if inspect.isawaitable(answer):
                answer = await answer
        if answer is None:
            return [
                DeliveryResult(idempotency_key=d.idempotency_key, outcome=Outcome.DELIVERED)
                for d in batch
            ]
        if not isinstance(answer, list) or not all(
            isinstance(result, DeliveryResult) for result in answer
        ):
            raise TypeError(
                f"{self.target} returned {type(answer).__name__}; "
                "expected None or a list of DeliveryResult"
            )
        return answer
