"""What is worth retrying, and how long to wait: the policy above the byte-moving layer.

A request is retried when the failure is retriable (429, 5xx, transport) *and* repeating it
cannot do harm: GET, HEAD, PUT and DELETE are idempotent; a POST is retried only when it
certainly never reached the server (the connection could not be opened), when it was turned
away with a 429 (BigCommerce processes nothing it throttles), or when the caller marks the
endpoint idempotent. A 429 that says when the window resets is retried after exactly that
wait; everything else gets stamina's jittered exponential backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from b2bsync.bigcommerce._errors import RateLimited, ServerError, TransportFailure

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "retry_decider"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Caps for stamina: attempts in total, seconds in total, and the backoff curve."""

    attempts: int = 8
    timeout_s: float = 300.0
    wait_initial_s: float = 0.5
    wait_max_s: float = 30.0
    wait_jitter_s: float = 1.0


def retry_decider(*, idempotent: bool) -> Callable[[Exception], bool | float]:
    """A stamina backoff hook: False = give up, True = usual backoff, a float = wait exactly."""

    def decide(error: Exception) -> bool | float:
        if isinstance(error, RateLimited):
            return error.wait_s if error.wait_s is not None else True
        if isinstance(error, TransportFailure):
            return idempotent or not error.reached_server
        if isinstance(error, ServerError):
            return idempotent
        return False

    return decide
