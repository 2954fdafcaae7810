"""b2bsync: BigCommerce B2B Edition order sync (online orders vs invoice payments)."""

__version__ = "0.1.0"

__all__ = ["B2BSyncError", "__version__"]


class B2BSyncError(Exception):
    """Root of every error b2bsync raises on purpose."""
