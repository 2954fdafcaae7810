"""`BigCommerceClient`: the facade the rest of b2bsync uses to talk to one store."""

from __future__ import annotations

from types import TracebackType

import httpx2
from pydantic import SecretStr

from b2bsync.bigcommerce._b2b import B2BApi
from b2bsync.bigcommerce._governor import Family, GovernorRegistry, default_registry
from b2bsync.bigcommerce._hooks import HooksApi
from b2bsync.bigcommerce._http import ApiHttp
from b2bsync.bigcommerce._metafields import MetafieldsApi
from b2bsync.bigcommerce._orders import OrdersApi
from b2bsync.bigcommerce._rate_budget import RateBudget
from b2bsync.bigcommerce._retry import RetryPolicy
from b2bsync.bigcommerce._settings import DEFAULT_API_URL, DEFAULT_B2B_API_URL, BigCommerceSettings

__all__ = ["DEFAULT_API_URL", "DEFAULT_B2B_API_URL", "BigCommerceClient"]


class BigCommerceClient:
    """V2 orders (`.orders`), V3 metafields and hooks (`.metafields`, `.hooks`) and B2B Edition
    (`.b2b`) of one store, sharing one connection pool and the process-wide rate governors.

    Give it an `httpx2.AsyncClient` or a transport to control the wire (tests do: the transport
    is the seam); otherwise it opens its own client and closes it on `aclose()`/`async with`.
    """

    def __init__(
        self,
        *,
        store_hash: str,
        access_token: SecretStr | str,
        b2b_access_token: SecretStr | str | None = None,
        api_url: str = DEFAULT_API_URL,
        b2b_api_url: str = DEFAULT_B2B_API_URL,
        http_client: httpx2.AsyncClient | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        governors: GovernorRegistry | None = None,
        rate_budget: RateBudget | None = None,
    ) -> None:
        token = _secret(access_token)
        b2b_token = _secret(b2b_access_token) if b2b_access_token is not None else token
        self._owns_client = http_client is None
        self._client = http_client or httpx2.AsyncClient(transport=transport, timeout=timeout_s)
        registry = governors or default_registry
        policy = retry or RetryPolicy()
        store_base = f"{api_url.rstrip('/')}/stores/{store_hash}"
        b2b_base = f"{b2b_api_url.rstrip('/')}/api/v3/io"
        self.store_http = ApiHttp(
            self._client,
            family=Family.STORE,
            base_url=store_base,
            store_hash=store_hash,
            token=token,
            governor=registry.get(api_url, store_hash, Family.STORE, rate_budget),
            retry=policy,
        )
        self.b2b_http = ApiHttp(
            self._client,
            family=Family.B2B,
            base_url=b2b_base,
            store_hash=store_hash,
            token=b2b_token,
            governor=registry.get(b2b_api_url, store_hash, Family.B2B),
            retry=policy,
        )
        self.store_hash = store_hash
        self.orders = OrdersApi(self.store_http)
        self.metafields = MetafieldsApi(self.store_http)
        self.hooks = HooksApi(self.store_http)
        self.b2b = B2BApi(self.b2b_http)

    @classmethod
    def from_settings(
        cls,
        settings: BigCommerceSettings,
        *,
        http_client: httpx2.AsyncClient | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        governors: GovernorRegistry | None = None,
        rate_budget: RateBudget | None = None,
    ) -> BigCommerceClient:
        """A client for the store the settings describe; `rate_budget` caps its store API
        requests (see `Governor`)."""
        return cls(
            store_hash=settings.store_hash,
            access_token=settings.access_token,
            b2b_access_token=settings.b2b_token,
            api_url=settings.api_url,
            b2b_api_url=settings.b2b_api_url,
            http_client=http_client,
            transport=transport,
            timeout_s=settings.timeout_s,
            retry=retry,
            governors=governors,
            rate_budget=rate_budget,
        )

    def __repr__(self) -> str:
        return f"BigCommerceClient(store_hash={self.store_hash!r})"

    async def aclose(self) -> None:
        """Close the connection pool if this client opened it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> BigCommerceClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _secret(value: SecretStr | str) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)
