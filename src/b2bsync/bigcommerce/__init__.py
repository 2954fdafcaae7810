"""The async BigCommerce + B2B Edition client: the one way b2bsync talks to a store.

Public surface: `BigCommerceClient`, the error tree, the response models, the governor
registry and retry policy. Importing it pulls neither FastAPI nor SQLAlchemy.
"""

from b2bsync.bigcommerce.client import DEFAULT_API_URL, DEFAULT_B2B_API_URL, BigCommerceClient
from b2bsync.bigcommerce.errors import (
    BadPayload,
    BadRequest,
    BigCommerceError,
    Conflict,
    FatalError,
    NotFound,
    RateLimited,
    RetriableError,
    ServerError,
    TransportFailure,
    Unauthorized,
    ValidationFailed,
)
from b2bsync.bigcommerce.governor import (
    Family,
    Governor,
    GovernorRegistry,
    GovernorSnapshot,
    RequestGate,
    default_registry,
    gated,
)
from b2bsync.bigcommerce.retry import RetryPolicy

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_B2B_API_URL",
    "BadPayload",
    "BadRequest",
    "BigCommerceClient",
    "BigCommerceError",
    "Conflict",
    "Family",
    "FatalError",
    "Governor",
    "GovernorRegistry",
    "GovernorSnapshot",
    "NotFound",
    "RateLimited",
    "RequestGate",
    "RetriableError",
    "RetryPolicy",
    "ServerError",
    "TransportFailure",
    "Unauthorized",
    "ValidationFailed",
    "default_registry",
    "gated",
]
