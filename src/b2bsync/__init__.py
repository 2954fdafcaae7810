"""b2bsync: BigCommerce B2B Edition order sync (online orders vs invoice payments)."""

from b2bsync.errors import B2BSyncError

__version__ = "0.1.0"

__all__ = ["B2BSyncError", "__version__"]
