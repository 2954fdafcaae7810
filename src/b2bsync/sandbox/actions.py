"""The work a store does by itself once it falls due, in one explicit table: every kind
`StoreState.schedule` may name and the function that performs it.

Seeded history, the app's tick and every request run what is due through `run_due`, so a
scheduled action never depends on which modules happen to have been imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from b2bsync.sandbox.b2b.orders import attach_order
from b2bsync.sandbox.metafields import write_order_type
from b2bsync.sandbox.world import StoreState, World

ActionHandler = Callable[[StoreState, dict[str, Any], datetime], None]

ACTIONS: Mapping[str, ActionHandler] = MappingProxyType(
    {
        "b2b.attach_order": attach_order,
        "metafield.order_type": write_order_type,
    }
)
"""Scheduled action kinds and their handlers (the kinds are saved in `--state` files)."""


def run_due(state: StoreState, now: datetime) -> int:
    """Perform every scheduled action of `state` that is due; returns how many ran.

    A handler gets the action's due time as its "now": the action happened then, which keeps
    seeded history plausible and live actions within one tick of their due time.
    """
    ran = 0
    while (action := state.pop_due(now)) is not None:
        ACTIONS[action.kind](state, action.payload, action.due_at)
        ran += 1
    return ran


def run_all_due(world: World) -> int:
    """Advance every store's scheduled actions to the world's now."""
    now = world.clock()
    return sum(run_due(state, now) for state in world.stores.values())
