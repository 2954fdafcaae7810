"""The root of every error b2bsync raises on purpose, and the configuration error that every
layer may raise. A leaf: it imports nothing of b2bsync, so anything can import it."""

from __future__ import annotations

__all__ = ["B2BSyncError", "ConfigError"]


class B2BSyncError(Exception):
    """Root of every error b2bsync raises on purpose."""


class ConfigError(B2BSyncError):
    """The configuration is missing a setting or has a malformed one."""
