"""Destinations: where each ledger version of an order is delivered, idempotently.

The delivery loop sees only the `Destination` protocol. `build_destinations` makes them from
configuration; `Route` decides which orders each one receives.
"""

from b2bsync.destinations.amqp import AmqpDestination
from b2bsync.destinations.base import BaseDestination, Destination, Prepared
from b2bsync.destinations.errors import (
    DestinationConfigError,
    DestinationError,
    InvalidSignature,
    PermanentError,
)
from b2bsync.destinations.http import HttpDestination
from b2bsync.destinations.jsonl import JsonlDestination
from b2bsync.destinations.python import PythonDestination
from b2bsync.destinations.redis_stream import RedisStreamDestination
from b2bsync.destinations.registry import (
    ConfiguredDestination,
    DestinationSettings,
    build_destinations,
)
from b2bsync.destinations.routing import Route, destinations_for
from b2bsync.destinations.signing import sign, verify_signature
from b2bsync.destinations.sql import SqlDestination

__all__ = [
    "AmqpDestination",
    "BaseDestination",
    "ConfiguredDestination",
    "Destination",
    "DestinationConfigError",
    "DestinationError",
    "DestinationSettings",
    "HttpDestination",
    "InvalidSignature",
    "JsonlDestination",
    "PermanentError",
    "Prepared",
    "PythonDestination",
    "RedisStreamDestination",
    "Route",
    "SqlDestination",
    "build_destinations",
    "destinations_for",
    "sign",
    "verify_signature",
]
