"""The async BigCommerce + B2B Edition client: the one way b2bsync talks to a store.

Public surface (pinned by tests/unit/test_bigcommerce_exported_members.py): what is named in
`__all__` here, and the response models in `b2bsync.bigcommerce.models`. The modules behind them
(`_client`, `_http`, `_errors`, `_governor`, the API modules, pagination, decoding, wire
formats) are private: the rest of b2bsync imports from the package (`tests/unit/test_layers.py`
checks it); tests of the client's internals may import them directly. Importing it pulls
neither FastAPI nor SQLAlchemy.

- `BigCommerceClient`: V2 orders, V3 metafields and hooks, B2B Edition, one per store.
- The error tree: `BigCommerceError`, split into `RetriableError` and `FatalError`.
- Rate limits: the process-wide `GovernorRegistry` of `Governor`s (one per store and API
  `Family`), their `GovernorSnapshot`s, and the `RateBudget` a store may be capped to.
- `BigCommerceSettings` (how to reach one store) and its `ENV_NAMES`; `RetryPolicy`;
  `ApiHttp`/`ApiResponse` and the pagination strategies for raw requests (`b2bsync api get`);
  `OrderPage`, the V2 scan's decoded page; `rejection`/`Rejects`, how a malformed record is set
  aside.
"""

from b2bsync.bigcommerce._client import DEFAULT_API_URL, DEFAULT_B2B_API_URL, BigCommerceClient
from b2bsync.bigcommerce._decode import Rejects, rejection
from b2bsync.bigcommerce._errors import (
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
from b2bsync.bigcommerce._governor import (
    Family,
    Governor,
    GovernorRegistry,
    GovernorSnapshot,
    RequestGate,
    WindowReading,
    default_registry,
    gated,
)
from b2bsync.bigcommerce._http import ApiHttp, ApiResponse
from b2bsync.bigcommerce._orders import OrderPage
from b2bsync.bigcommerce._pagination import b2b_pages, v2_pages, v3_pages
from b2bsync.bigcommerce._rate_budget import PLAN_BUDGETS, RateBudget, parse_rate_budget
from b2bsync.bigcommerce._retry import RetryPolicy
from b2bsync.bigcommerce._settings import ENV_NAMES, BigCommerceSettings

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_B2B_API_URL",
    "ENV_NAMES",
    "PLAN_BUDGETS",
    "ApiHttp",
    "ApiResponse",
    "BadPayload",
    "BadRequest",
    "BigCommerceClient",
    "BigCommerceError",
    "BigCommerceSettings",
    "Conflict",
    "Family",
    "FatalError",
    "Governor",
    "GovernorRegistry",
    "GovernorSnapshot",
    "NotFound",
    "OrderPage",
    "RateBudget",
    "RateLimited",
    "Rejects",
    "RequestGate",
    "RetriableError",
    "RetryPolicy",
    "ServerError",
    "TransportFailure",
    "Unauthorized",
    "ValidationFailed",
    "WindowReading",
    "b2b_pages",
    "default_registry",
    "gated",
    "parse_rate_budget",
    "rejection",
    "v2_pages",
    "v3_pages",
]
