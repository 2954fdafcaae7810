"""Errors of the persistence layer."""

from __future__ import annotations

from b2bsync import B2BSyncError


class StoreError(B2BSyncError):
    """The database refused an operation."""


class UnsupportedDatabaseURL(StoreError):
    """The database URL names a backend b2bsync does not support."""


class LedgerError(StoreError):
    """A ledger write contradicts what the ledger holds."""
